"""Who may see the dashboard: nobody is asked on 127.0.0.1 (the default), else basic auth or a proxy's header.

- `none`: no check. Fine on a loopback address; binding anything else without auth prints a loud warning.
- `basic`: HTTP basic auth against `user:<hash>` lines (werkzeug scrypt or pbkdf2 hashes, never plain text)
  from a file and/or the AISPEND_DASHBOARD_USERS environment variable (same lines, newline or comma separated).
  A verified (user, password) pair is remembered per process as a keyed digest, so the slow hash runs once per
  login, not on every one of a page's dozen requests.
- `proxy`: a reverse proxy (oauth2-proxy, nginx auth_request, ...) authenticates and names the user in a header
  (default X-Forwarded-User). Anyone who can reach the server can send that header, so it is trusted only when
  the dashboard listens on a loopback address and the proxy is the one thing in front of it.

Passwords and hashes never reach logs or error messages.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, Response, g, request
from werkzeug.security import check_password_hash, generate_password_hash

USERS_ENV = "AISPEND_DASHBOARD_USERS"
DEFAULT_PROXY_HEADER = "X-Forwarded-User"
MODES = ("none", "basic", "proxy")
REALM = "aispend"


class AuthConfigError(ValueError):
    """The auth settings cannot work (no users, a plain-text password, proxy mode on an open address)."""


def hash_password(password: str) -> str:
    """A salted scrypt hash for a users file line: `alice:<hash>`."""
    return generate_password_hash(password, method="scrypt")


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_users(text: str, where: str) -> dict[str, str]:
    """`user:hash` lines (blank lines and # comments skipped). A hash must be werkzeug's `method$salt$hash`."""
    users: dict[str, str] = {}
    for number, raw in enumerate(text.replace(",", "\n").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        if not sep or not user or hashed.count("$") != 2 or not hashed.startswith(("scrypt:", "pbkdf2:")):
            raise AuthConfigError(
                f"{where} line {number}: expected user:<scrypt or pbkdf2 hash> "
                "(make one with `aispend hash-password`); plain-text passwords are refused"
            )
        users[user.strip()] = hashed.strip()
    return users


def load_users(users_file: str | Path | None, environ: dict[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    users: dict[str, str] = {}
    if users_file:
        path = Path(users_file)
        try:
            text = path.read_text()
        except OSError as exc:
            raise AuthConfigError(f"cannot read users file {path}: {exc.strerror}") from None
        users.update(parse_users(text, str(path)))
    if environ.get(USERS_ENV):
        users.update(parse_users(environ[USERS_ENV], USERS_ENV))
    return users


@dataclass
class AuthSettings:
    mode: str = "none"
    users: dict[str, str] = field(default_factory=dict)
    proxy_header: str = DEFAULT_PROXY_HEADER

    def validate(self, host: str) -> list[str]:
        """Raise when the settings cannot protect anything; return warnings to print."""
        if self.mode not in MODES:
            raise AuthConfigError(f"unknown auth mode {self.mode!r}: use one of {', '.join(MODES)}")
        if self.mode == "basic" and not self.users:
            raise AuthConfigError(f"--auth basic needs users: --users-file FILE or {USERS_ENV}")
        if self.mode == "proxy" and not is_loopback(host):
            raise AuthConfigError(
                f"--auth proxy trusts the {self.proxy_header} header, which any client can send: bind a loopback "
                f"address (--host 127.0.0.1) and put the proxy in front, not {host}"
            )
        if self.mode == "none" and not is_loopback(host):
            return [
                "!" * 78,
                f"WARNING: serving on {host} WITHOUT AUTHENTICATION: anyone who can reach this address sees your "
                "spend data. Use --auth basic --users-file FILE, or --auth proxy behind a reverse proxy.",
                "!" * 78,
            ]
        return []


class _Verified:
    """Digests of (user, password, hash) triples already checked, under a per-process random key."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._seen: set[bytes] = set()
        self._lock = threading.Lock()

    def _digest(self, user: str, password: str, hashed: str) -> bytes:
        return hmac.new(self._key, "\0".join((user, password, hashed)).encode(), hashlib.sha256).digest()

    def check(self, users: dict[str, str], user: str, password: str) -> bool:
        hashed = users.get(user)
        if hashed is None:
            return False
        digest = self._digest(user, password, hashed)
        with self._lock:
            if digest in self._seen:
                return True
        if not check_password_hash(hashed, password):
            return False
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen.add(digest)
        return True


def _challenge() -> Response:
    return Response(
        "Authentication required.\n", 401, {"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'}
    )


# Set only by the app's own start-up render (a Flask test client in the same process); a WSGI environ key
# without the HTTP_ prefix cannot come from a client's request.
WARM_UP_ENVIRON = "aispend.warm_up"


def install(server: Flask, settings: AuthSettings) -> None:
    """Check every request (pages, Dash's JSON endpoints, assets) before Flask routes it.

    Installed before the app's start-up render (Flask refuses new hooks after a first request); that render
    marks itself with WARM_UP_ENVIRON and is let through.
    """
    if settings.mode == "none":
        return
    if settings.mode == "basic":
        verified = _Verified()

        @server.before_request
        def _basic():
            if request.environ.get(WARM_UP_ENVIRON):
                return None
            credentials = request.authorization
            if (
                credentials is None
                or credentials.type != "basic"
                or not verified.check(settings.users, credentials.username or "", credentials.password or "")
            ):
                return _challenge()
            g.aispend_user = credentials.username
            return None

    elif settings.mode == "proxy":
        header = settings.proxy_header

        @server.before_request
        def _proxy():
            if request.environ.get(WARM_UP_ENVIRON):
                return None
            user = (request.headers.get(header) or "").strip()
            if not user:
                return Response(f"Forbidden: no {header} header from the authenticating proxy.\n", 403)
            g.aispend_user = user
            return None
