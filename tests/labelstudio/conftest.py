"""Fixtures for the Label Studio tests: a small find-issues output directory, and a real local
server started once per session from a migrated template data directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ls_fixtures import write_issues_dir

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def issues_dir(tmp_path) -> Path:
    return write_issues_dir(tmp_path / "issues")


@pytest.fixture(scope="session")
def ls_template(tmp_path_factory):
    """A migrated Label Studio data directory with an admin user, built once per session (about a
    minute). Set LABEL_AUDIT_LS_TEMPLATE=DIR to keep it between sessions while developing."""
    pytest.importorskip("label_studio", reason="the Label Studio server is not installed (extra 'server')")
    from audit.labelstudio.server import init_data_dir

    kept = os.environ.get("LABEL_AUDIT_LS_TEMPLATE")
    template = Path(kept) if kept else tmp_path_factory.mktemp("ls-template")
    if not (template / "label_studio.sqlite3").exists():
        init_data_dir(template)
    return template


@pytest.fixture(scope="session")
def ls_server(ls_template, tmp_path_factory):
    """A running server (copied from the template) shared by the session's tests."""
    from audit.labelstudio.server import start_local_server

    server = start_local_server(tmp_path_factory.mktemp("ls-data") / "data", template=ls_template)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def annotators(ls_server):
    """Three annotator ids on the session server: the admin and two created users."""
    from audit.labelstudio.client import connect

    client = connect(ls_server.url, ls_server.token).client
    extra = [client.users.create(email=f"annotator{i}@example.com", username=f"annotator{i}").id for i in (1, 2)]
    return [client.users.whoami().id, *extra]


@pytest.fixture
def ls_access(ls_server, monkeypatch):
    """URL and key of the session server, also set in the environment as a user would."""
    monkeypatch.setenv("LABEL_STUDIO_URL", ls_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls_server.token)
    return ls_server.url, ls_server.token
