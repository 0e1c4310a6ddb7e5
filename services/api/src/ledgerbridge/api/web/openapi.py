"""Write the gateway's OpenAPI document to a file: the web app's typed client is generated from it.

``python -m ledgerbridge.api.web.openapi OUT.json`` (what ``make web-client`` runs).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def document() -> dict[str, Any]:
    from ledgerbridge.api.app import create_app
    from ledgerbridge.common.settings import Settings

    return create_app(Settings()).openapi()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m ledgerbridge.api.web.openapi OUT.json", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
