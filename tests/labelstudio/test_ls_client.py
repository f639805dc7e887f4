import pytest

pytest.importorskip("label_studio_sdk", reason="label-studio-sdk is not installed (extra 'labelstudio')")

from labelcore.errors import ConfigError, ServiceError
from audit.labelstudio.client import connect, guarded_call, redact, resolve_access
from audit.labelstudio.server import find_free_port

SECRET = "0123456789abcdef0123456789abcdef01234567"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsInVzZXJfaWQiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def test_redact_hides_a_token_and_the_parts_of_a_jwt():
    assert SECRET not in redact(f"Token {SECRET} refused", SECRET)
    text = redact(f"bad {JWT}; payload {JWT.split('.')[1]}", JWT)
    assert JWT not in text and JWT.split(".")[1] not in text and JWT.split(".")[2] not in text
    assert redact("nothing here", None) == "nothing here"


def test_flags_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://env:1/")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "envkey")
    assert resolve_access() == ("http://env:1", "envkey")
    assert resolve_access("http://flag:2", "flagkey") == ("http://flag:2", "flagkey")


def test_no_key_or_a_bad_url_is_a_config_error(monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="LABEL_STUDIO_API_KEY"):
        resolve_access("http://localhost:1")
    with pytest.raises(ConfigError, match="http://"):
        resolve_access("localhost:8080", "k")


def test_an_http_error_that_echoes_the_key_does_not_leak_it():
    from label_studio_sdk.core.api_error import ApiError

    def refuse():
        raise ApiError(status_code=401, headers={}, body={"detail": f"token {SECRET} is invalid"})

    with pytest.raises(ServiceError) as info:
        guarded_call(refuse, "testing", api_key=SECRET)
    assert "HTTP 401" in str(info.value) and SECRET not in str(info.value)


def test_nothing_listening_is_a_service_error_without_the_key():
    url = f"http://127.0.0.1:{find_free_port()}"
    with pytest.raises(ServiceError, match="Cannot reach Label Studio") as info:
        connect(url, SECRET)
    assert SECRET not in str(info.value)
