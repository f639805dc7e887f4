"""Shared fixtures. Real datasets live in ../shared/datasets; tests that need them skip when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
BANKING77 = SHARED / "banking77"

needs_banking77 = pytest.mark.skipif(
    not (BANKING77 / "train.csv").exists(), reason=f"BANKING77 not found at {BANKING77}"
)


@pytest.fixture
def cache_dir(tmp_path: Path) -> str:
    return str(tmp_path / "cache")


@pytest.fixture(scope="session")
def demo():
    from labelcore.data import load_data

    return load_data("demo")
