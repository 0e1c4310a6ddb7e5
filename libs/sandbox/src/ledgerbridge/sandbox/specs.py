"""Where the official API descriptions live.

They are read from the shared folder beside the repository (``../shared/specs``) and never copied into
it. ``LEDGERBRIDGE_SPECS_DIR`` points elsewhere; ``XERO_OPENAPI_SPEC`` names the accounting file itself.
"""

from __future__ import annotations

import os
from pathlib import Path


class SpecNotFoundError(FileNotFoundError):
    """The official spec files are not where we looked; the message says where that was."""


def specs_dir() -> Path:
    configured = os.environ.get("LEDGERBRIDGE_SPECS_DIR")
    if configured:
        return Path(configured)
    # The repository is cloned with ``shared/`` beside it; search upwards from the working directory and
    # from this file so both a checkout and an installed copy find it.
    starts = [Path.cwd(), Path(__file__).resolve()]
    for start in starts:
        for parent in [start, *start.parents]:
            candidate = parent.parent / "shared" / "specs"
            if candidate.is_dir():
                return candidate
    raise SpecNotFoundError(
        "Could not find ../shared/specs beside the repository; set LEDGERBRIDGE_SPECS_DIR to its path"
    )


def xero_accounting_spec_path() -> Path:
    configured = os.environ.get("XERO_OPENAPI_SPEC")
    path = Path(configured) if configured else specs_dir() / "xero" / "xero_accounting.yaml"
    if not path.is_file():
        raise SpecNotFoundError(f"Xero accounting OpenAPI spec not found at {path}")
    return path


def onport_spec_path() -> Path:
    configured = os.environ.get("ONPORT_OPENAPI_SPEC")
    path = Path(configured) if configured else specs_dir() / "onport" / "onport-openapi.yaml"
    if not path.is_file():
        raise SpecNotFoundError(f"Onport OpenAPI spec not found at {path}")
    return path


def ontraport_fields_path() -> Path:
    path = specs_dir() / "ontraport" / "fields.json"
    if not path.is_file():
        raise SpecNotFoundError(f"ONTRAPORT field lists not found at {path}")
    return path
