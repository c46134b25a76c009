"""The desk's guards: where it may listen, who may use it, and which requests may change things.

- It listens on loopback unless told otherwise; any other address needs a
  password, and then every request carries it (a sign-in cookie or HTTP Basic).
- On loopback only requests addressed to a loopback name are served (a web
  page elsewhere cannot reach the desk by pointing its own name at 127.0.0.1).
- A request that changes anything is a POST carrying the desk's form token, and
  one whose ``Origin`` is another site is refused.
- Every answer says: no caching, no framing, no scripts or styles but the desk's own.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import secrets
import socket
from pathlib import Path

from omr.errors import BadArgument

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
COOKIE = "omr_desk"
CSRF_FIELD = "csrf"

HEADERS = {
    "content-security-policy": (
        "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",  # no-referrer makes Chromium send "Origin: null"
    "cache-control": "no-store",
}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is loopback."""
    name = (host or "").strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def read_password(password: str | None, password_file: Path | None) -> str | None:
    """The password given directly or as the first line of ``password_file``."""
    if password_file is not None:
        try:
            text = Path(password_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise BadArgument(f"{password_file}: cannot read the password file: {exc}") from exc
        password = text[0].strip() if text else ""
        if not password:
            raise BadArgument(f"{password_file}: the password file is empty")
    if password is not None and not password.strip():
        raise BadArgument("--password: give a password that is not empty")
    return password


def check_bind(host: str, password: str | None) -> None:
    """:class:`BadArgument` when ``host`` is not loopback and no password protects the desk."""
    if not is_loopback(host) and not password:
        raise BadArgument(
            f"--host {host}: the desk shows personal data; listening beyond this machine "
            "needs --password (or --password-file)"
        )


def check_free(host: str, port: int) -> None:
    """:class:`BadArgument` when the desk cannot listen on ``host``:``port``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise BadArgument(f"--host {host}: not an address of this machine ({exc})") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise BadArgument(
                f"--port {port}: cannot listen on {host}:{port} ({exc.strerror or exc}); "
                "give another --port"
            ) from exc


def host_name(header: str) -> str:
    """The name part of a ``Host`` header: ``127.0.0.1:8000`` -> ``127.0.0.1``."""
    header = (header or "").strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Guard:
    """The secrets of one running desk: its form token, its password and sign-in cookie."""

    def __init__(self, password: str | None, *, loopback: bool = True):
        self.password = password
        self.loopback = loopback
        self.csrf = secrets.token_urlsafe(32)
        self.cookie = secrets.token_urlsafe(32)

    def host_allowed(self, header: str) -> bool:
        """Whether a request addressed to ``header`` (its Host) is served."""
        return not self.loopback or is_loopback(host_name(header))

    def password_ok(self, given: str | None) -> bool:
        """Whether ``given`` is the desk's password (constant time)."""
        if self.password is None or given is None:
            return False
        return hmac.compare_digest(given.encode(), self.password.encode())

    def signed_in(self, cookie: str | None, authorization: str | None) -> bool:
        """Whether a request carries the sign-in cookie or the password (HTTP Basic)."""
        if self.password is None:
            return True
        if cookie and hmac.compare_digest(cookie.encode(), self.cookie.encode()):
            return True
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                _, _, given = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return self.password_ok(given)
        return False

    def csrf_ok(self, token: str | None) -> bool:
        """Whether a form carries the desk's token (constant time)."""
        return bool(token) and hmac.compare_digest(str(token).encode(), self.csrf.encode())


def same_origin(origin: str | None, host: str | None) -> bool:
    """Whether an ``Origin`` header (when the browser sent one) names the desk itself."""
    if not origin:
        return True
    if origin == "null":
        return False
    scheme, _, rest = origin.partition("://")
    return scheme in {"http", "https"} and rest.lower() == (host or "").lower()
