import pytest

from issues_fixture import build_issues_dir


@pytest.fixture(scope="session")
def issues_dir(tmp_path_factory):
    return build_issues_dir(tmp_path_factory.mktemp("issues") / "run")
