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
    """A migrated Label Studio data directory with an admin user, built once per session."""
    pytest.importorskip("label_studio", reason="the Label Studio server is not installed (extra 'server')")
    from audit.labelstudio.server import init_data_dir

    template = tmp_path_factory.mktemp("ls-template")
    init_data_dir(template)
    return template


@pytest.fixture(scope="session")
def ls_server(ls_template, tmp_path_factory):
    """A running server (copied from the template) shared by the session's tests."""
    from audit.labelstudio.server import start_local_server

    server = start_local_server(tmp_path_factory.mktemp("ls-data") / "data", template=ls_template)
    yield server
    server.stop()
