"""Start and stop a local Label Studio server (tests, benchmarks, ``audit labelstudio-server``).

The server runs offline on loopback with a data directory of the caller's choice. A fresh data
directory spends 30-70 s in Django migrations; :func:`init_data_dir` builds a migrated one
once, and :func:`start_local_server` can copy it (``template=``) to start in a few seconds.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from labelcore.errors import ConfigError, ServiceError, require

#: Settings that keep the server from phoning home.
OFFLINE_ENV = {
    "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
    "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
    "LABEL_STUDIO_SENTRY_DSN": "",
    "LABEL_STUDIO_FRONTEND_SENTRY_DSN": "",
    "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
}
#: Un-prefixed variables the server reads as its own settings; never pass them through.
STRIPPED_ENV = ("USERNAME", "PASSWORD", "PORT", "HOST", "USER_TOKEN", "LABEL_STUDIO_API_KEY", "LABEL_STUDIO_URL")
#: Where the credentials of a server started by us live, inside its data directory (mode 0600).
CREDENTIALS_FILE = "label-audit-credentials.json"

_STARTED = re.compile(r"Starting development server at (http://[^\s/]+:(\d+))/")


@dataclass
class Credentials:
    username: str
    password: str
    token: str

    def __repr__(self) -> str:  # never show secrets in logs or tracebacks
        return f"Credentials(username={self.username!r}, password=***, token=***)"


@dataclass
class LocalServer:
    """A running server: ``url``, the admin's ``credentials``, the process and its log file."""

    url: str
    credentials: Credentials
    data_dir: Path
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def token(self) -> str:
        return self.credentials.token

    def stop(self, *, timeout: float = 10.0) -> None:
        """SIGTERM the server's process group; SIGKILL it if it is still alive after ``timeout``."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)
        except ProcessLookupError:
            pass

    def __enter__(self) -> "LocalServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def server_env(data_dir: str | Path, creds: Credentials) -> dict[str, str]:
    """The environment for a server process: offline settings, its data dir and admin user, no
    stray settings. Credentials go through the environment, not the command line, which any
    local user can read with ``ps``."""
    env = {k: v for k, v in os.environ.items() if k not in STRIPPED_ENV}
    env.update(OFFLINE_ENV)
    env["LABEL_STUDIO_BASE_DATA_DIR"] = str(Path(data_dir).resolve())
    env.update(LABEL_STUDIO_USERNAME=creds.username, LABEL_STUDIO_PASSWORD=creds.password,
               LABEL_STUDIO_USER_TOKEN=creds.token)
    return env


def find_free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def load_or_create_credentials(data_dir: str | Path, *, username: str = "admin@localhost") -> Credentials:
    """Credentials stored in ``data_dir`` by an earlier start, or new random ones (saved, 0600)."""
    path = Path(data_dir) / CREDENTIALS_FILE
    if path.exists():
        try:
            raw = json.loads(path.read_text())
            return Credentials(raw["username"], raw["password"], raw["token"])
        except (ValueError, KeyError) as exc:
            raise ConfigError(f"{path} is not a credentials file written by label-audit") from exc
    creds = Credentials(username, secrets.token_urlsafe(12), secrets.token_hex(20))
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"username": creds.username, "password": creds.password, "token": creds.token}, fh)
    return creds


def _command(verb: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from label_studio.server import main; sys.exit(main())",
            verb, "--no-browser", "--enable-legacy-api-token"]


def init_data_dir(data_dir: str | Path, *, timeout: float = 300.0) -> Credentials:
    """Create and migrate a data directory with an admin user (``label-studio init``, 30-70 s)."""
    require("label_studio", extra="server", purpose="Starting a local Label Studio server")
    creds = load_or_create_credentials(data_dir)
    cmd = _command("init") + ["--quiet"]
    try:
        done = subprocess.run(cmd, env=server_env(data_dir, creds), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ServiceError(f"label-studio init did not finish within {timeout:.0f} s") from exc
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-2000:].replace(creds.token, "***").replace(creds.password, "***")
        raise ServiceError(f"label-studio init failed (exit {done.returncode}):\n{tail}")
    return creds


def start_local_server(
    data_dir: str | Path,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    template: str | Path | None = None,
    timeout: float = 240.0,
) -> LocalServer:
    """Start ``label-studio start`` on ``host:port`` and wait until ``/health`` answers.

    Parameters
    ----------
    data_dir : the server's data directory (created if absent; reused with its credentials).
    port : a port to ask for; a free one when None. The server skips a busy port silently,
        so the actual port is read from its log line.
    template : a migrated data directory (see :func:`init_data_dir`) copied into an empty
        ``data_dir`` first, which saves the migrations.

    Returns a :class:`LocalServer`; call ``stop()`` or use it as a context manager.
    """
    require("label_studio", extra="server", purpose="Starting a local Label Studio server")
    data_dir = Path(data_dir)
    if template is not None and not (data_dir.exists() and any(data_dir.iterdir())):
        shutil.copytree(template, data_dir, dirs_exist_ok=True)
    creds = load_or_create_credentials(data_dir)
    port = port or find_free_port(host)
    log_path = data_dir / "label-audit-server.log"
    cmd = _command("start") + ["--internal-host", host, "--port", str(port)]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            cmd, env=server_env(data_dir, creds), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    server = LocalServer("", creds, data_dir, log_path, process)
    try:
        server.url = _wait_until_up(server, timeout=timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_up(server: LocalServer, *, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServiceError(
                f"Label Studio exited with code {server.process.returncode} while starting; "
                f"see its log {server.log_path}:\n{_log_tail(server)}"
            )
        if url is None:
            match = _STARTED.search(server.log_path.read_text(errors="replace"))
            url = match.group(1) if match else None
        if url is not None and _healthy(url):
            return url
        time.sleep(0.25)
    raise ServiceError(f"Label Studio did not become healthy within {timeout:.0f} s; see {server.log_path}")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
            return json.loads(resp.read()).get("status") == "UP"
    except (OSError, ValueError):
        return False


def _log_tail(server: LocalServer, n: int = 2000) -> str:
    text = server.log_path.read_text(errors="replace")[-n:]
    return text.replace(server.credentials.token, "***").replace(server.credentials.password, "***")


def create_personal_access_token(url: str, legacy_token: str) -> str:
    """A personal access token (a JWT refresh token) for the user behind ``legacy_token``.

    Label Studio allows one per user: raises :class:`ServiceError` if that user has one already.
    """
    from audit.labelstudio.client import connect

    conn = connect(url, legacy_token)
    return conn.call(lambda: conn.client.tokens.create().token, "creating a personal access token")
