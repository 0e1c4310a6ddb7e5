"""The house rules, checked on the source: services import only libraries, the bookkeeping core stays
pure, and only the records module moves a record."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TypeGuard

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
BOOKKEEPING = ROOT / "libs" / "bookkeeping" / "src" / "ledgerbridge" / "bookkeeping"
LIBRARIES = {"common", "bookkeeping"}
LIFECYCLE = ROOT / "libs" / "common" / "src" / "ledgerbridge" / "common" / "records" / "lifecycle.py"
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


def _python_files(folder: Path) -> Iterator[Path]:
    yield from (path for path in folder.rglob("*.py") if "node_modules" not in path.parts)


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _product_files() -> Iterator[Path]:
    for root in (ROOT / "src", ROOT / "libs" / "common" / "src", BOOKKEEPING.parent.parent, SERVICES):
        yield from _python_files(root)


def test_services_import_only_libraries() -> None:
    crossings = []
    for service in sorted(path for path in SERVICES.iterdir() if (path / "src").is_dir()):
        for path in _python_files(service / "src"):
            for module in _imports(path):
                parts = module.split(".")
                crosses = parts[0] == "ledgerbridge" and len(parts) > 1
                if crosses and parts[1] not in LIBRARIES | {service.name}:
                    crossings.append(f"{path.relative_to(ROOT)} imports {module}")
    assert crossings == []


def test_the_bookkeeping_core_imports_only_the_standard_library_and_pydantic() -> None:
    outside = []
    for path in _python_files(BOOKKEEPING):
        for module in _imports(path):
            top = module.split(".")[0]
            allowed = top in sys.stdlib_module_names or top == "pydantic"
            if not allowed and not module.startswith("ledgerbridge.bookkeeping"):
                outside.append(f"{path.relative_to(ROOT)} imports {module}")
    assert outside == []


def test_the_bookkeeping_core_reads_no_clock() -> None:
    reads = []
    for path in _python_files(BOOKKEEPING):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in CLOCK_CALLS
            ):
                reads.append(f"{path.relative_to(ROOT)}:{node.lineno} calls .{node.func.attr}()")
    assert reads == []


def _sets_record_state(node: ast.AST) -> TypeGuard[ast.Assign]:
    """``x.status = RecordStatus.…`` or ``x.reason_code = …``: a record moved by hand."""
    if not isinstance(node, ast.Assign):
        return False
    for target in node.targets:
        if isinstance(target, ast.Attribute) and target.attr in {"reason_code", "reason_cause"}:
            return True
        if isinstance(target, ast.Attribute) and target.attr == "status":
            value = node.value
            if (
                isinstance(value, ast.Attribute)
                and isinstance(value.value, ast.Name)
                and value.value.id == "RecordStatus"
            ):
                return True
    return False


def test_only_the_lifecycle_moves_records() -> None:
    by_hand = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in _product_files()
        if path != LIFECYCLE
        for node in ast.walk(ast.parse(path.read_text()))
        if _sets_record_state(node)
    ]
    assert by_hand == []


def test_the_checks_see_a_crossing(tmp_path: Path) -> None:
    # The import reader must notice what the rule forbids, or the rule above passes on nothing.
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from ledgerbridge.mapper.record_mapping import map_record\nrecord.status = RecordStatus.failed\n"
    )
    assert list(_imports(sample)) == ["ledgerbridge.mapper.record_mapping"]
    assert any(_sets_record_state(node) for node in ast.walk(ast.parse(sample.read_text())))
