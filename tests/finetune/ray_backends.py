"""Test-only backends for the executor tests (a helper module, not a test file): importable as
``tests.finetune.ray_backends`` by the test process, a CLI subprocess and Ray workers alike."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from finetune.backends.registry import BackendEntry
from finetune.backends.tfidf import TfidfLRBackend, TfidfLRConfig

HERE = "tests.finetune.ray_backends"


@dataclass(frozen=True)
class CrashOnceConfig(TfidfLRConfig):
    """tfidf-lr whose first fit outside the driver process kills its own worker (os._exit)."""

    backend = "tfidf-crash-once"
    runtime_fields = ("marker", "driver_pid")
    marker: str = field(default="", metadata={"help": "File created by the one crash."})
    driver_pid: int = field(default=0, metadata={"help": "Never crash in this process."})


class CrashOnceBackend(TfidfLRBackend):
    config_class = CrashOnceConfig

    def fit(self, texts, y, **fit_params):
        cfg = self.config
        if cfg.marker and os.getpid() != cfg.driver_pid:
            try:
                fd = os.open(cfg.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:  # the first fold to get here dies in the middle of its fold
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                os._exit(1)
        return super().fit(texts, y, **fit_params)


@dataclass(frozen=True)
class SleepyConfig(TfidfLRConfig):
    """tfidf-lr that sleeps before fitting: a fold long enough to press Ctrl-C in."""

    backend = "tfidf-sleepy"
    sleep: float = field(default=0.0, metadata={"help": "Seconds to sleep in fit."})


class SleepyBackend(TfidfLRBackend):
    config_class = SleepyConfig

    def fit(self, texts, y, **fit_params):
        time.sleep(self.config.sleep)
        return super().fit(texts, y, **fit_params)


ENTRIES = {
    "tfidf-crash-once": BackendEntry("tfidf-crash-once", f"{HERE}:CrashOnceConfig", f"{HERE}:CrashOnceBackend", "test"),
    "tfidf-sleepy": BackendEntry("tfidf-sleepy", f"{HERE}:SleepyConfig", f"{HERE}:SleepyBackend", "test"),
}


def register() -> None:
    """Register both test backends (for a subprocess; tests use monkeypatch on the registry)."""
    from finetune.backends import registry

    for name, entry in ENTRIES.items():
        registry.register_backend(name, config=entry.config_path, estimator=entry.estimator_path, summary=entry.summary)
