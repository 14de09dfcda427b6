"""Auth against the real server over HTTP: `aispend dashboard` under gunicorn, basic auth and proxy header."""

from __future__ import annotations

import base64
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from werkzeug.security import generate_password_hash

from dashboard.auth import AuthConfigError, AuthSettings, load_users, parse_users
from tests.support.browser import REPO, dash_server
from tests.support.snapshots import write_snapshot


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def status(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            response.read()
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    return write_snapshot(tmp_path_factory.mktemp("dash-auth"))


def cli_hash(user: str, password: str) -> str:
    """A users line from the real `aispend hash-password` command (password on stdin, not argv)."""
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "hash-password", user],
        input=password + "\n", capture_output=True, text=True, cwd=REPO, timeout=60, check=True,
    )
    line = done.stdout.strip()
    assert line.startswith(f"{user}:scrypt:") and password not in line
    return line


def test_basic_auth_from_file_and_environment(snapshot, tmp_path):
    users = tmp_path / "users.txt"
    # a pbkdf2 hash made independently of our code, and a scrypt one from the CLI (given via the environment)
    users.write_text(f"# dashboard users\nalice:{generate_password_hash('wonderland', method='pbkdf2:sha256')}\n")
    env = {"AISPEND_DASHBOARD_USERS": cli_hash("bob", "builder-42")}
    with dash_server(snapshot, tmp_path, args=["--auth", "basic", "--users-file", str(users)], env=env,
                     ready_headers=basic("alice", "wonderland")) as url:
        code, headers = status(url + "/")
        assert code == 401 and headers["WWW-Authenticate"].startswith("Basic")
        for path in ("/", "/tasks", "/_dash-layout", "/_dash-dependencies"):
            assert status(url + path)[0] == 401, path
        assert status(url + "/", basic("alice", "wrong"))[0] == 401
        assert status(url + "/", basic("mallory", "wonderland"))[0] == 401
        assert status(url + "/", basic("alice", "wonderland"))[0] == 200
        assert status(url + "/tasks", basic("bob", "builder-42"))[0] == 200
        assert status(url + "/_dash-layout", basic("bob", "builder-42"))[0] == 200
        assert status(url + "/", basic("bob", "wonderland"))[0] == 401
    log = "".join(p.read_text(errors="replace") for p in tmp_path.glob("dash-server-*.log"))
    assert "wonderland" not in log and "builder-42" not in log


def test_proxy_header(snapshot, tmp_path):
    header = {"X-Auth-Request-User": "carol@example.com"}
    with dash_server(snapshot, tmp_path, args=["--auth", "proxy", "--proxy-header", "X-Auth-Request-User"],
                     ready_headers=header) as url:
        assert status(url + "/")[0] == 403
        assert status(url + "/", {"X-Forwarded-User": "carol"})[0] == 403  # not the configured header
        assert status(url + "/", {"X-Auth-Request-User": "  "})[0] == 403
        assert status(url + "/", header)[0] == 200
        assert status(url + "/_dash-layout", header)[0] == 200


def test_no_auth_is_the_loopback_default(snapshot, tmp_path):
    with dash_server(snapshot, tmp_path) as url:
        assert status(url + "/")[0] == 200


def test_settings_refuse_what_cannot_protect(tmp_path):
    with pytest.raises(AuthConfigError, match="plain-text"):
        parse_users("alice:wonderland\n", "users.txt")
    with pytest.raises(AuthConfigError, match="needs users"):
        AuthSettings(mode="basic").validate("127.0.0.1")
    with pytest.raises(AuthConfigError, match="loopback"):
        AuthSettings(mode="proxy").validate("0.0.0.0")
    assert AuthSettings(mode="proxy").validate("127.0.0.1") == []
    warning = "\n".join(AuthSettings().validate("0.0.0.0"))
    assert "WITHOUT AUTHENTICATION" in warning
    assert AuthSettings().validate("127.0.0.1") == [] and AuthSettings().validate("::1") == []
    hashed = generate_password_hash("x", method="pbkdf2:sha256")
    assert load_users(None, {"AISPEND_DASHBOARD_USERS": f"a:{hashed},b:{hashed}"}) == {"a": hashed, "b": hashed}
    with pytest.raises(AuthConfigError, match="cannot read"):
        load_users(tmp_path / "missing.txt", {})


def test_cli_refuses_proxy_on_open_address(tmp_path):
    config = tmp_path / "aispend.yaml"
    config.write_text("warehouse: w.duckdb\n")
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "dashboard", "--config", str(config), "--host", "0.0.0.0",
         "--auth", "proxy"],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )
    assert done.returncode == 2 and "loopback" in done.stderr
