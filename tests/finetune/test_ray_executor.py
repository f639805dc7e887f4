"""The Ray executor: a local Ray instance started by the test gives the local executor's
out-of-fold predictions and flags; a worker killed mid-fold is retried to the same result; no
Ray process of ours outlives a command, also after Ctrl-C. Only processes this test started are
looked at (by pid, via psutil), never processes found by name."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray", reason="the Ray executor needs ray (pip install 'label-audit[ray]')")
psutil = pytest.importorskip("psutil", reason="process checks need psutil (a dependency of ray)")

from finetune.backends import parse_backend_spec  # noqa: E402
from finetune.executors import LocalExecutor, RayExecutor, make_executor  # noqa: E402
from finetune.oof import cross_val_predict_proba  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _descendants(pid: int, *, before: dict[int, float] | None = None) -> dict[int, float]:
    """{pid: create_time} of every live descendant of ``pid``; with ``before``, only those not
    already running then (so joblib's reusable worker pool, which earlier local runs in this
    process may have started and which outlives them on purpose, is not taken for Ray's)."""
    try:
        found = {p.pid: p.create_time() for p in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return {}
    return {k: v for k, v in found.items() if before is None or before.get(k) != v}


def _alive(procs: dict[int, float]) -> list[int]:
    """The pids of ``procs`` still running (same pid *and* start time; zombies count as gone)."""
    alive = []
    for pid, created in procs.items():
        try:
            p = psutil.Process(pid)
            if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def _wait_gone(procs: dict[int, float], timeout: float = 30.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := _alive(procs)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.fixture(scope="module")
def ray_executor():
    """One local Ray instance (2 CPUs) for the module; afterwards none of its processes remain."""
    before = _descendants(os.getpid())
    executor = RayExecutor(num_cpus=2)
    started = _descendants(os.getpid(), before=before)
    assert started, "a local Ray instance starts processes of its own"
    try:
        yield executor
    finally:  # Ray's processes descend from those it started (its workers are the raylet's children)
        ray_pids = set(started)
        for pid, created in _descendants(os.getpid(), before=before).items():
            try:
                if ray_pids & {a.pid for a in psutil.Process(pid).parents()}:
                    started[pid] = created
            except psutil.NoSuchProcess:
                pass
        executor.close()
        assert _wait_gone(started) == []


def test_ray_gives_the_local_predictions_and_flags(demo, ray_executor):
    from audit.pipeline import find_issues

    ds = demo.train
    configs = [parse_backend_spec("tfidf-lr", seed=0)]
    kwargs = dict(n_folds=3, seed=0, detectors=["label_issues"], rounds=2)
    local = find_issues(ds, configs, executor=LocalExecutor(1), **kwargs)
    remote = find_issues(ds, configs, executor=ray_executor, **kwargs)
    for name in local.pred_probs:
        np.testing.assert_allclose(remote.first_round_pred_probs[name], local.first_round_pred_probs[name], atol=1e-8, rtol=0)
        np.testing.assert_allclose(remote.pred_probs[name], local.pred_probs[name], atol=1e-8, rtol=0)
    a = local.issues.set_index("example_id").sort_index()
    b = remote.issues.set_index("example_id").sort_index()
    assert a["is_label_issue"].sum() > 0
    assert (a["is_label_issue"] == b["is_label_issue"]).all()
    np.testing.assert_allclose(a["label_quality"], b["label_quality"], atol=1e-6)
    # the dataset and the TF-IDF features went to the object store once each, for both rounds
    assert sorted(k.split("/")[0] for k in ray_executor._shared) == ["dataset", "prepared"]


def test_a_worker_killed_mid_fold_is_retried_to_the_same_result(demo, ray_executor, tmp_path, monkeypatch):
    from finetune.backends import registry
    from tests.finetune.ray_backends import ENTRIES

    monkeypatch.setitem(registry._REGISTRY, "tfidf-crash-once", ENTRIES["tfidf-crash-once"])
    marker = tmp_path / "crashed"
    config = parse_backend_spec(f"tfidf-crash-once:marker={marker},driver_pid={os.getpid()}")
    local = cross_val_predict_proba(config, demo.train, n_folds=3, executor=LocalExecutor(1))
    assert not marker.exists()  # never crashes in the driver
    cache = tmp_path / "cache"
    remote = cross_val_predict_proba(config, demo.train, n_folds=3, executor=ray_executor, cache_dir=str(cache))
    assert marker.exists(), "one worker died in the middle of a fold"
    assert int(marker.read_text()) != os.getpid()  # it was a worker that died
    np.testing.assert_allclose(remote.pred_probs, local.pred_probs, atol=1e-8, rtol=0)
    assert len(list((cache / "oof").glob("*.npz"))) == 3  # every fold cached by the driver


def test_a_task_error_is_raised_as_itself(demo, ray_executor, tmp_path):
    from labelcore.errors import ModelError

    config = parse_backend_spec(f"precomputed:path={tmp_path / 'x.csv'}")
    from finetune.backends.precomputed import PrecomputedBackend
    from finetune.executors import Task

    def fit_it(shared, config):
        PrecomputedBackend(config).fit(["a"], np.array(["b"]))

    with pytest.raises(ModelError, match="cannot be trained"):
        list(ray_executor.map_unordered(fit_it, [Task((None, config))]))


def test_executor_options_are_checked():
    from labelcore.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown executor 'dask'"):
        make_executor("dask")
    with pytest.raises(ConfigError, match="--ray-address needs --executor ray"):
        make_executor("local", address="127.0.0.1:6379")


def test_resources_come_from_the_backend_config():
    cpu = parse_backend_spec("tfidf-lr").task_resources()
    assert (cpu.cpus, cpu.gpus) == (1.0, 0.0)
    lm = parse_backend_spec("lora:some/model,device=cuda,threads=4").task_resources()
    assert (lm.cpus, lm.gpus) == (4.0, 1.0)
    assert parse_backend_spec("lora:some/model,device=cpu").task_resources().gpus == 0.0


def test_missing_ray_names_the_extra(monkeypatch):
    import builtins

    from labelcore.errors import MissingDependencyError

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    monkeypatch.delitem(sys.modules, "ray", raising=False)
    with pytest.raises(MissingDependencyError, match=r"label-audit\[ray\]"):
        make_executor("ray")


def _cli(args: list[str], tmp_path: Path) -> subprocess.Popen:
    code = "import tests.finetune.ray_backends as b; b.register(); from audit.cli.app import main; main()"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LABEL_AUDIT_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-X", "faulthandler", "-c", code, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _watch(proc: subprocess.Popen, until=None, timeout: float = 240.0) -> tuple[dict[int, float], set[str]]:
    """Record the command's descendants (pids, names) while it runs; stop when ``until(pids)``
    holds or it exits."""
    seen: dict[int, float] = {}
    names: set[str] = set()
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        now = _descendants(proc.pid)
        for pid in now:  # every time: a process just forked still has its parent's name until it execs
            try:
                names.add(psutil.Process(pid).name())
            except psutil.NoSuchProcess:
                pass
        seen |= now
        if until is not None and until(seen):
            break
        time.sleep(0.1)
    return seen, names


def _output_or_tree(proc: subprocess.Popen, *, timeout: float) -> str:
    """The command's output once it exits; if it has not exited within ``timeout`` seconds, kill
    it and fail with its output and the processes it still had (what was it waiting for?)."""
    try:
        return proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        tree = []
        for pid in _descendants(proc.pid):
            try:
                tree.append(f"{pid} {psutil.Process(pid).status()} {' '.join(psutil.Process(pid).cmdline())[:120]}")
            except psutil.NoSuchProcess:
                pass
        proc.send_signal(signal.SIGABRT)  # -X faulthandler: every thread's Python stack goes to the output
        try:
            out = proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            out = proc.communicate()[0]
        stacks = out.find("Fatal Python error")  # faulthandler's dump: the stacks come first, modules last
        shown = out[stacks:stacks + 8000] if stacks >= 0 else out[-6000:]
        pytest.fail(f"still running {timeout:.0f} s after Ctrl-C; processes: {tree}; output: {shown}")


def _running_a_task(seen: dict[int, float]) -> bool:
    for pid in seen:
        try:
            if "_run_fold" in " ".join(psutil.Process(pid).cmdline()) or psutil.Process(pid).name() == "ray::_run_fold":
                return True
        except psutil.NoSuchProcess:
            pass
    return False


@pytest.mark.slow
def test_no_ray_process_outlives_the_command_nor_ctrl_c(tmp_path):
    base = ["find-issues", "--data", "demo", "--folds", "2", "--rounds", "1", "--detector", "label_issues",
            "--executor", "ray"]
    done = _cli([*base, "-b", "tfidf-lr", "-o", str(tmp_path / "done")], tmp_path)
    seen, names = _watch(done)
    out, _ = done.communicate(timeout=240)
    assert done.returncode == 0, out
    assert {"raylet", "gcs_server"} <= names, f"the command started a local Ray instance: {names}"
    assert _wait_gone(seen) == [], "Ray processes left after the command ended"
    assert (tmp_path / "done" / "issues.csv").exists()

    interrupted = _cli([*base, "-b", "tfidf-sleepy:sleep=120", "-o", str(tmp_path / "int")], tmp_path)
    seen, _ = _watch(interrupted, until=_running_a_task)
    assert _running_a_task(seen), "a task (fold or final model) was running when Ctrl-C came"
    interrupted.send_signal(signal.SIGINT)
    out = _output_or_tree(interrupted, timeout=180)
    assert interrupted.returncode == 130, out
    assert _wait_gone(seen) == [], "Ray processes left after Ctrl-C"
    assert not (tmp_path / "int").exists()  # nothing written
