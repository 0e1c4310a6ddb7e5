"""Keeping a sandbox's state across restarts (``SANDBOX_STATE_DIR``), for ``ledgerbridge run``.

The product's database outlives a ``make run``; without this the sandboxes would forget the tokens,
organisations' documents and ONTRAPORT/Onport accounts it refers to, and a second run would meet
reconnect errors and a setup gone back. The state is written every few seconds and on shutdown, from the
sandbox's own event loop (so never mid-change), to a file only this machine's user wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

log = logging.getLogger(__name__)

# Runtime parts rebuilt at start rather than kept: configuration, webhook delivery, rate windows.
_NOT_KEPT = {"config", "webhooks", "idempotency", "app_minute", "codes", "next_consent_tenant_ids"}
SAVE_EVERY_SECONDS = 3.0


def _kept(state: Any) -> dict[str, Any]:
    return {name: value for name, value in vars(state).items() if name not in _NOT_KEPT}


def save(state: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".tmp")
    scratch.write_bytes(pickle.dumps(_kept(state), protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(scratch, path)


def load(state: Any, path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        kept = pickle.loads(path.read_bytes())  # noqa: S301 - our own file, written by save() above
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError) as error:
        log.warning("sandbox state in %s is unreadable (%s); starting afresh", path, error)
        return False
    for name, value in kept.items():
        setattr(state, name, value)
    return True


def keep_state(app: FastAPI, kind: str, directory: Path) -> None:
    """Load ``app.state.sandbox`` from ``directory`` and keep saving it while the app runs."""
    path = directory / f"{kind}.pickle"
    state = app.state.sandbox
    if load(state, path):
        log.info("sandbox %s: state restored from %s", kind, path)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[Any]:
        async def saving() -> None:
            while True:
                await asyncio.sleep(SAVE_EVERY_SECONDS)
                save(state, path)

        task = asyncio.create_task(saving())
        try:
            async with inner(running) as value:
                yield value
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            save(state, path)

    app.router.lifespan_context = lifespan
