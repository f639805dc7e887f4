"""Connecting to Label Studio: where the URL and key come from, auth checks, and errors that
never show the key."""

from __future__ import annotations

import json
import os
from typing import Callable, TypeVar

from labelcore.errors import ConfigError, ServiceError, require

URL_ENV = "LABEL_STUDIO_URL"
KEY_ENV = "LABEL_STUDIO_API_KEY"
DEFAULT_URL = "http://localhost:8080"

T = TypeVar("T")


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` (and its obvious parts) replaced by ``***``."""
    if not secret:
        return text
    text = text.replace(secret, "***")
    # A JWT may be echoed in pieces (header.payload.signature); hide the payload and signature.
    for part in secret.split(".")[1:]:
        if len(part) >= 8:
            text = text.replace(part, "***")
    return text


def resolve_access(url: str | None = None, api_key: str | None = None) -> tuple[str, str]:
    """The server URL and API key: flags first, then ``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY``."""
    url = (url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")
    api_key = api_key or os.environ.get(KEY_ENV)
    if not api_key:
        raise ConfigError(
            f"No Label Studio API key: pass --api-key or set {KEY_ENV} "
            "(Account & Settings in the Label Studio UI shows it; `audit labelstudio-server` prints one)"
        )
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"Label Studio URL must start with http:// or https://, got {url!r}")
    return url, api_key


def _snippet(body: object, limit: int = 120) -> str:
    """A short, one-line view of a response body for a message."""
    text = " ".join(str(body).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _not_json(body: object) -> str:
    text = str(body).lstrip().lower()
    return "an HTML page" if text.startswith(("<!doctype", "<html", "<")) else "a body that is not JSON"


def _raised_in_sdk_parsing(exc: BaseException) -> bool:
    """A TypeError/AttributeError/KeyError raised inside the SDK while it read an answer of
    an unexpected shape (e.g. a JSON list where it expects an object)."""
    if not isinstance(exc, (TypeError, AttributeError, KeyError)):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and "label_studio_sdk" in tb.tb_frame.f_code.co_filename


def guarded_call(fn: Callable[[], T], what: str, *, api_key: str | None = None, missing_ok: bool = False) -> T | None:
    """Run one SDK call; turn HTTP/connection failures, and answers that are not the Label
    Studio API's JSON (an HTML page from a proxy, a login page, another service), into
    :class:`ServiceError` without the key. With ``missing_ok``, HTTP 404 returns None instead."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    try:
        return fn()
    except ApiError as exc:
        if exc.status_code == 404 and missing_ok:
            return None
        raw = isinstance(exc.body, (str, bytes)) or exc.body is None
        detail = exc.body.get("detail") if isinstance(exc.body, dict) else exc.body
        if isinstance(exc.body, dict) and exc.body.get("validation_errors"):
            detail = f"{detail}: {exc.body['validation_errors']}"
        if raw:  # the SDK could not read the body as JSON
            detail = f"{_not_json(exc.body)}: {_snippet(exc.body)!r}" if exc.body else "an empty body"
        if exc.status_code in (401, 403):
            msg = (f"Label Studio refused the API key while {what} (HTTP {exc.status_code}: {detail}). "
                   "Check --api-key / LABEL_STUDIO_API_KEY; legacy tokens also need legacy tokens "
                   "enabled on the server (Organization settings).")
        elif raw and exc.status_code is not None and 200 <= exc.status_code < 300:
            msg = (f"The server answered {detail} instead of the Label Studio API's JSON while {what} "
                   f"(HTTP {exc.status_code}); check that the URL (--url / {URL_ENV}) points at a Label Studio "
                   "server, not a proxy or login page")
        elif exc.status_code == 404:
            msg = f"Label Studio has no such object while {what} (HTTP 404: {detail})"
        else:
            msg = f"Label Studio answered HTTP {exc.status_code} while {what}: {detail}"
        raise ServiceError(redact(msg, api_key)) from None
    except httpx.HTTPError as exc:
        raise ServiceError(redact(f"Cannot reach Label Studio while {what}: {exc}", api_key)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        # e.g. a personal access token (JWT) is exchanged for an access token before any request,
        # and the SDK parses that answer without a check
        body = getattr(exc, "doc", None) or getattr(exc, "object", b"")[:200]
        kind = f"{_not_json(body)}: {_snippet(body)!r}" if body else "an empty body"
        raise ServiceError(redact(
            f"The server answered {kind} instead of the Label Studio API's JSON while {what}; check that "
            f"the URL (--url / {URL_ENV}) points at a Label Studio server and that the API key is one of "
            "its tokens", api_key)) from None
    except Exception as exc:  # noqa: BLE001 - the SDK's parsing errors come in several types
        if not (type(exc).__name__ in ("ValidationError", "ParsingError") or _raised_in_sdk_parsing(exc)):
            raise
        raise ServiceError(redact(
            f"The server's answer while {what} does not have the shape of the Label Studio API "
            f"({type(exc).__name__}: {_snippet(exc, 200)}); check the URL and the server's version "
            "(label-studio >= 1.20 is supported)", api_key)) from None


class Connection:
    """A connected SDK client with its URL; ``call`` runs one request with key-safe errors."""

    def __init__(self, client, url: str, api_key: str) -> None:
        self.client = client
        self.url = url
        self._api_key = api_key

    def __repr__(self) -> str:
        return f"Connection(url={self.url!r})"

    def call(self, fn: Callable[[], T], what: str, *, missing_ok: bool = False) -> T:
        return guarded_call(fn, what, api_key=self._api_key, missing_ok=missing_ok)

    def fetch_task_keys(self, project_id: int) -> dict[str, int]:
        """``data.example_id -> task id`` for every task of a project (ids and data only: fast)."""
        def scan() -> dict[str, int]:
            pages = self.client.tasks.list(project=project_id, fields="task_only", include="id,data", page_size=1000)
            return {str((t.data or {}).get("example_id")): int(t.id) for t in pages}

        return self.call(scan, f"listing the tasks of project {project_id}")

    def fetch_annotated_tasks(self, project_id: int) -> list[dict]:
        """Every task with at least one annotation (skipped ones included), with its annotations:
        one JSON export (the server needs several seconds per thousand annotated tasks)."""
        def download() -> list[dict]:
            stream = self.client.projects.exports.download_sync(
                project_id, export_type="JSON", download_all_tasks=False)
            data = stream if isinstance(stream, (bytes, bytearray)) else b"".join(stream)
            return json.loads(data)

        return self.call(download, f"exporting the annotations of project {project_id}")


def connect(url: str | None = None, api_key: str | None = None, *, timeout: float = 600.0,
            check: bool = True) -> Connection:
    """Connect to Label Studio; ``url``/``api_key`` default to the environment (see
    :func:`resolve_access`), and ``check`` verifies the key with one request.

    The key is passed explicitly (the SDK reads ``LABEL_STUDIO_API_KEY`` only at import).
    Both legacy tokens and personal access tokens (JWT refresh tokens) work: the SDK
    exchanges a JWT for short-lived access tokens itself.
    """
    url, api_key = resolve_access(url, api_key)
    sdk = require("label_studio_sdk", extra="labelstudio", purpose="Talking to Label Studio")
    client = guarded_call(
        lambda: sdk.LabelStudio(base_url=url, api_key=api_key, timeout=timeout),
        f"connecting to {url}", api_key=api_key,
    )
    conn = Connection(client, url, api_key)
    if check:
        # No retries here: a wrong URL or a stopped server should fail at once, not after backoff.
        conn.call(lambda: client.users.whoami(request_options={"max_retries": 0}), f"checking the API key at {url}")
    return conn
