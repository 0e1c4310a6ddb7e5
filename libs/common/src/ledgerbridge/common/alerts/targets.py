"""Where alerts may be sent: outgoing webhook URLs and SMTP hosts, checked against SSRF.

https anywhere public; http only to this machine (localhost, 127.0.0.0/8, ::1) and only outside
production. In production every address a name resolves to must be public: no loopback, private,
link-local (cloud metadata), shared or reserved network. Checked when saved and again, after DNS,
before each send (a name can be re-pointed after it was saved).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


class TargetError(ValueError):
    """A target that must not be used; the message names the fix."""


def _is_loopback_name(host: str) -> bool:
    if host.lower() in LOCAL_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_webhook_url(url: str, *, production: bool) -> str:
    """The URL's host if it may be used; ``TargetError`` otherwise. No DNS here: see ``resolve_public``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise TargetError("Give a full https:// URL, such as https://hooks.example.com/ledgerbridge")
    if parts.username or parts.password:
        raise TargetError("Put no user name or password in the URL; requests are signed instead")
    if parts.scheme == "http" and (production or not _is_loopback_name(host)):
        raise TargetError("Use https:// (plain http:// is allowed only to localhost, outside production)")
    if production:
        _refuse_private_literal(host)
    return host


def check_smtp_host(host: str, *, production: bool) -> None:
    if production:
        _refuse_private_literal(host)


def _refuse_private_literal(host: str) -> None:
    if _is_loopback_name(host):
        raise TargetError("Alerts cannot be sent to this machine in production; use a public host")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if not address.is_global:
        raise TargetError(f"{host} is a private or reserved address; use a public host")


async def resolve_public(host: str, port: int, *, production: bool) -> None:
    """Before a send in production: every address the name resolves to must be public."""
    if not production:
        return
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetError(f"{host} does not resolve: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise TargetError(f"{host} resolves to {address}, a private or reserved address")
