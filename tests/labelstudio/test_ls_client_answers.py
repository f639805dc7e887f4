"""A server that does not answer with the Label Studio API's JSON (an HTML page from a proxy,
plain text, an empty body, bytes that are not UTF-8, JSON of another shape) is a ServiceError
with a clear message and without the key, for legacy tokens and personal access tokens (JWT)
alike. The server is a tiny local one on 127.0.0.1."""

from __future__ import annotations

import base64
import http.server
import json
import threading

import pytest

pytest.importorskip("label_studio_sdk", reason="label-studio-sdk is not installed (extra 'labelstudio')")

from labelcore.errors import ServiceError
from audit.labelstudio.client import connect


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


#: A personal access token: a JWT refresh token that expires in 2100 (the SDK checks `exp`).
JWT = _b64({"alg": "HS256", "typ": "JWT"}) + "." + _b64(
    {"token_type": "refresh", "exp": 4102444800, "user_id": 1, "jti": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}
) + ".c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
LEGACY = "0123456789abcdef0123456789abcdef01234567"

HTML = b"<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>"
ANSWERS = {
    "html-200": (200, "text/html", HTML),
    "html-502": (502, "text/html", b"<html><body>502 Bad Gateway</body></html>"),
    "html-401": (401, "text/html", b"<html><body>Unauthorized</body></html>"),
    "text-200": (200, "text/plain", b"OK"),
    "empty-200": (200, "application/json", b""),
    "not-utf8-200": (200, "application/json", b"\xff\xfe\x00garbage"),
    "json-list-200": (200, "application/json", b"[1, 2, 3]"),
    "json-string-200": (200, "application/json", b'"hello"'),
    "login-redirect-page": (200, "text/html", b"<html><form action='/user/login'>Sign in</form></html>"),
}


@pytest.fixture(scope="module")
def server():
    """A local server answering every request with ``state['answer']`` (127.0.0.1 only)."""
    state = {"answer": ANSWERS["html-200"]}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            code, kind, body = state["answer"]
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", state
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("key", [JWT, LEGACY], ids=["jwt", "legacy"])
@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_an_answer_that_is_not_the_api_is_a_service_error(server, key, answer):
    url, state = server
    state["answer"] = ANSWERS[answer]
    with pytest.raises(ServiceError) as info:
        connect(url, key, timeout=5)
    message = str(info.value)
    assert key not in message and key.split(".")[-1] not in message
    assert url in message  # says which server answered
    code, kind, _ = ANSWERS[answer]
    if key == LEGACY and code == 401:
        assert "refused the API key" in message
    elif key == LEGACY and code >= 500:
        assert "HTTP 502" in message and "HTML page" in message
    elif kind == "text/html":  # a JWT is exchanged first, by a call that hides the status
        assert "HTML page" in message
    else:
        assert "Label Studio API" in message
    assert "JSONDecodeError" not in message and "Traceback" not in message
