"""Serving an ASGI app on a real port, in the foreground or in a background thread.

Tests that run our services as separate processes need the sandboxes on real sockets; a thread keeps the
sandbox's in-memory state inspectable from the test that started it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def serve(app: Any, host: str, port: int) -> None:
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL (``http://host:port``)."""
    chosen = port or free_port(host)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=chosen, log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, name=f"sandbox:{chosen}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"sandbox server on {host}:{chosen} did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{chosen}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
