"""What serving a fitted backend costs on this machine: inference latency per example (batch 1
and batched), peak memory while predicting, parameters, and the device that ran it.

Measured on a small sample of texts with the caches that would flatter a backend turned off
(:meth:`Backend.without_caches`): a sentence-embedding backend encodes every text afresh.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from typing import Sequence

import numpy as np

from labelcore.errors import ConfigError
from finetune.backends.base import Backend


def device_name(model: Backend | None = None) -> str:
    """'cuda:0 NVIDIA H200' for a backend whose weights sit on a GPU, else the CPU's model name
    and its core count ('Intel Xeon ... (2 cores)')."""
    device = str(getattr(model, "device_", "") or "")
    if device.startswith("cuda"):
        try:
            import torch

            return f"{device} {torch.cuda.get_device_name(torch.device(device))}"
        except Exception:  # noqa: BLE001 - the name is a label, never a reason to fail
            return device
    return f"{_cpu_model()} ({os.cpu_count()} cores)"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return "CPU " + line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"CPU {platform.processor() or platform.machine()}"


class _PeakRSS:
    """Samples the process's resident memory in a thread; ``peak_mb`` after the block."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> "_PeakRSS":
        import psutil

        self._proc = psutil.Process()
        self.before = self.peak = self._proc.memory_info().rss
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            self._stop.wait(self.interval)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def measure_inference_costs(
    model: Backend,
    texts: Sequence[str],
    *,
    batch_size: int = 32,
    repeats: int = 3,
) -> dict:
    """Latency and memory of ``model.predict_proba`` on ``texts`` (a small sample, e.g. 64).

    Batch 1: every text predicted alone once; batched: the sample in batches of ``batch_size``,
    ``repeats`` times, each batch's time divided by its size. One warm-up call of each kind
    comes first (lazy loads, allocator warm-up). Returns a JSON-ready dict::

        {"device", "n_rows", "batch_size", "repeats",
         "batch1_ms": {"median", "p95"}, "batched_ms_per_example": {"median", "p95"},
         "peak_rss_mb"   # the process's peak resident memory while predicting (weights included)
         "inference_extra_mb"  # that peak minus the resident memory just before predicting
         "gpu_peak_mb"   # torch.cuda.max_memory_allocated, GPU backends only (else None)
         "n_parameters", "torch_threads", "load_average_1m"}

    The figures are wall-clock times on a machine that may be shared: ``load_average_1m``
    says how busy it was.
    """
    texts = list(texts)
    if not texts:
        raise ConfigError("measure_inference_costs needs at least one text")
    if batch_size < 1 or repeats < 1:
        raise ConfigError(f"batch_size and repeats must be >= 1, got {batch_size}, {repeats}")
    fresh = model.without_caches()
    fresh.predict_proba(texts[:1])
    fresh.predict_proba(texts[:batch_size])
    single = []
    for t in texts:
        start = time.perf_counter()
        fresh.predict_proba([t])
        single.append(time.perf_counter() - start)
    gpu = _cuda_for(model)
    if gpu is not None:
        gpu.reset_peak_memory_stats()
    batched = []
    with _PeakRSS() as rss:
        for _ in range(repeats):
            for i in range(0, len(texts), batch_size):
                chunk = texts[i:i + batch_size]
                start = time.perf_counter()
                fresh.predict_proba(chunk)
                batched.append((time.perf_counter() - start) / len(chunk))
    ms = lambda xs: {"median": float(np.median(xs) * 1e3), "p95": float(np.percentile(xs, 95) * 1e3)}  # noqa: E731
    return {
        "device": device_name(model),
        "n_rows": len(texts),
        "batch_size": min(batch_size, len(texts)),
        "repeats": repeats,
        "batch1_ms": ms(single),
        "batched_ms_per_example": ms(batched),
        "peak_rss_mb": rss.peak / 2**20,
        "inference_extra_mb": max(rss.peak - rss.before, 0) / 2**20,
        "gpu_peak_mb": None if gpu is None else gpu.max_memory_allocated() / 2**20,
        "n_parameters": int(getattr(model, "n_parameters_", 0) or 0) or None,
        "torch_threads": _torch_threads(),
        "load_average_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def _cuda_for(model: Backend):
    if not str(getattr(model, "device_", "") or "").startswith("cuda"):
        return None
    import torch

    return torch.cuda


def _torch_threads() -> int | None:
    import sys

    torch = sys.modules.get("torch")  # only when a backend already loaded it
    return int(torch.get_num_threads()) if torch is not None else None
