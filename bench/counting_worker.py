"""A worker process as ``ledgerbridge worker <service>`` runs it, counting its database statements and CPU.

``python -m bench.counting_worker <service> <figures.json>``: every statement any engine in the process
sends (a SQLAlchemy ``before_cursor_execute`` listener; an executemany counts once per parameter set, a
multi-row INSERT once per batch, as each is sent)
and the process's user + system CPU seconds are written to the file every half second, so the bench
reads them from outside while the real worker code runs unchanged.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import ExecuteStyle

from ledgerbridge.cli.main import app

statements = 0
by_kind: Counter[str] = Counter()  # statement's opening words: which part of the poll sends what


@event.listens_for(Engine, "before_cursor_execute")
def _count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    global statements
    # A multi-row INSERT ... VALUES goes as one statement per batch; a true executemany as one per row.
    many = executemany and context is not None and context.execute_style is not ExecuteStyle.INSERTMANYVALUES
    count = len(parameters) if many and parameters else 1
    statements += count
    by_kind[" ".join(statement.split()[:4])[:60]] += count


def _report(path: Path) -> None:
    while True:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        scratch = path.with_suffix(".tmp")
        scratch.write_text(
            json.dumps(
                {"statements": statements, "cpu": usage.ru_utime + usage.ru_stime, "by_kind": dict(by_kind)}
            )
        )
        os.replace(scratch, path)  # the bench never reads half a file
        time.sleep(0.5)


if __name__ == "__main__":
    service, figures = sys.argv[1], Path(sys.argv[2])
    threading.Thread(target=_report, args=(figures,), daemon=True, name="figures").start()
    app(["worker", service])
