"""Building a sandbox's settings model from prefixed environment variables.

Each field ``name`` is read from ``<PREFIX><NAME>``; pydantic turns the strings into the field's type,
so ``ONTRAPORT_SANDBOX_RATE_LIMIT=30`` becomes an int and a bad value fails loudly at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound=BaseModel)


def load_from_env(model: type[ModelT], prefix: str, environ: Mapping[str, str] | None = None) -> ModelT:
    env = os.environ if environ is None else environ
    values = {name: env[prefix + name.upper()] for name in model.model_fields if prefix + name.upper() in env}
    return model.model_validate(values)
