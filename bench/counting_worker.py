"""A worker process as ``ledgerbridge worker <service>`` runs it, counting its database statements and CPU.

``python -m bench.counting_worker <service> <figures.json>``: every statement any engine in the process
sends (a SQLAlchemy ``before_cursor_execute`` listener; an executemany counts once per parameter set)
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
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from ledgerbridge.cli.main import app

statements = 0


@event.listens_for(Engine, "before_cursor_execute")
def _count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    global statements
    statements += len(parameters) if executemany and parameters else 1


def _report(path: Path) -> None:
    while True:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        scratch = path.with_suffix(".tmp")
        scratch.write_text(json.dumps({"statements": statements, "cpu": usage.ru_utime + usage.ru_stime}))
        os.replace(scratch, path)  # the bench never reads half a file
        time.sleep(0.5)


if __name__ == "__main__":
    service, figures = sys.argv[1], Path(sys.argv[2])
    threading.Thread(target=_report, args=(figures,), daemon=True, name="figures").start()
    app(["worker", service])
