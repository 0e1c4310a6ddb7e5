"""Structured JSON logs with request/job ids bound per context, and secrets redacted wherever they appear."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"
_SECRET_KEYS = re.compile(
    r"pass(word)?|secret|token|api[_-]?key|authorization|credential|cookie|code_verifier|encryption", re.I
)
# Bearer tokens and URL credentials inside free text (exception messages, URLs).
_SECRET_TEXT = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+|(://[^:/@\s]+:)[^@\s]+(@)", re.I)


# Values bound to SQL statements (tenants' data) that drivers and PostgreSQL quote in their messages:
# asyncpg's "invalid input for query argument $1: 'value' (...)", PostgreSQL's "invalid input syntax for
# type integer: "value"" and a constraint's "Key (email)=(value)". Engines hide the parameter tuples
# (``hide_parameters``); these are what is left in the error text.
_BOUND_VALUES = re.compile(
    r"(query argument \$\d+: )[^\n]*|(invalid input [^:\n]{0,80}: )\"[^\"\n]*\"|(Key \([^)\n]*\)=\()[^\n]*?(?=\) )",
    re.I,
)


def _scrub_text(text: str) -> str:
    text = _SECRET_TEXT.sub(lambda m: (m.group(1) or m.group(2)) + REDACTED + (m.group(3) or ""), text)
    return _BOUND_VALUES.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + REDACTED, text)


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if _SECRET_KEYS.search(str(key)) else _scrub(item) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    if isinstance(value, str):
        return _scrub_text(value)
    return value


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        event_dict[key] = REDACTED if _SECRET_KEYS.search(key) else _scrub(event_dict[key])
    return event_dict


def configure_logging(level: str = "INFO", fmt: str = "json", service: str = "ledgerbridge") -> None:
    renderer: Any = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    structlog.contextvars.bind_contextvars(service=service)
    # Library chatter (httpx logs every URL, arq every job) is not useful at INFO in production.
    for noisy in ("httpx", "httpcore", "arq.worker", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
