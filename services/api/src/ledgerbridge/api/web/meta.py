"""``GET /v1/meta``: what the web app needs to know about where this gateway runs.

Against the project's own sandboxes (``make run``, the tests) the app shows a banner with the stand-in
credentials to paste, and opens Xero documents in the Xero sandbox's own view instead of go.xero.com.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ledgerbridge.common.settings import Settings

router = APIRouter(prefix="/v1", tags=["operations"])

# The Xero sandbox's OAuth client (libs/sandbox): only a gateway pointed at the sandbox uses it.
SANDBOX_CLIENT_ID = "sandbox-client"
# The demo accounts' published stand-in credentials (libs/sandbox *.config), for the banner.
SANDBOX_ONTRAPORT_APP_ID = "sandbox-app"
SANDBOX_ONTRAPORT_API_KEY = "sandbox-key"
SANDBOX_ONPORT_TOKEN = "sandbox-token"  # noqa: S105 - a published stand-in, not a secret


class SandboxInfo(BaseModel):
    ontraport_app_id: str = Field(examples=[SANDBOX_ONTRAPORT_APP_ID])
    ontraport_api_key: str = Field(examples=[SANDBOX_ONTRAPORT_API_KEY])
    onport_token: str = Field(examples=[SANDBOX_ONPORT_TOKEN])
    xero_view_url: str = Field(description="The Xero sandbox's page listing every organisation's documents")
    docs: dict[str, str] = Field(description="Each sandbox's own API docs page, by partner")


class Meta(BaseModel):
    version: str
    sandbox: SandboxInfo | None = Field(description="Set when the partners are the project's sandboxes")
    xero_document_url: str | None = Field(
        description="Against the sandbox, where a Xero invoice or bill opens (`{id}` is its Xero id); "
        "otherwise null: each link's own url (go.xero.com) applies",
        examples=["http://127.0.0.1:8101/_sandbox/ui/documents/{id}"],
    )


def _base(url: str, suffix: str) -> str:
    return url[: -len(suffix)] if url.endswith(suffix) else url.rstrip("/")


def describe(settings: Settings, version: str) -> Meta:
    if settings.xero.client_id != SANDBOX_CLIENT_ID:
        return Meta(version=version, sandbox=None, xero_document_url=None)
    xero = _base(settings.xero.api_url, "/api.xro/2.0")
    ontraport = settings.ontraport.api_url.rstrip("/")
    onport = settings.onport.api_url.rstrip("/")
    return Meta(
        version=version,
        sandbox=SandboxInfo(
            ontraport_app_id=SANDBOX_ONTRAPORT_APP_ID,
            ontraport_api_key=SANDBOX_ONTRAPORT_API_KEY,
            onport_token=SANDBOX_ONPORT_TOKEN,
            xero_view_url=f"{xero}/",
            docs={
                "xero": f"{xero}/docs",
                "ontraport": f"{ontraport}/_sandbox/docs",
                "onport": f"{onport}/_sandbox/docs",
            },
        ),
        xero_document_url=f"{xero}/_sandbox/ui/documents/{{id}}",
    )


@router.get(
    "/meta", summary="Where this gateway runs: sandbox credentials and Xero links", response_model=Meta
)
async def meta(request: Request) -> Meta:
    return describe(request.app.state.settings, request.app.version)
