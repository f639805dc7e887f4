"""Where the out-of-fold engine's tasks run: here (one process, or joblib processes), or on Ray.

An executor does two things: ``share(key, value)`` makes a large read-only value (the dataset)
available to every task once, and ``map_unordered(fn, tasks)`` runs ``fn(*task.args)`` for each
task and yields ``(task index, result)`` as results arrive. The engine (``finetune/oof.py``)
stays the one place that decides what to run and the one writer of the cache; an executor only
runs functions. Use one as a context manager: a Ray executor that started its own instance
shuts it down on exit, also on an exception or Ctrl-C.

    with make_executor("ray") as executor:
        cross_val_predict_proba(config, dataset, executor=executor)
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator, Sequence

from labelcore.errors import AuditError, ConfigError, ModelError, ServiceError, require
from finetune.backends.base import TaskResources

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class Task:
    """One call ``fn(*args)`` and what it needs from a scheduler."""

    args: tuple
    resources: TaskResources = field(default_factory=TaskResources)


class Executor:
    """Base class: run tasks, yield ``(index, result)`` in completion order."""

    name: ClassVar[str] = ""

    @property
    def in_process(self) -> bool:
        """Whether tasks run in this process (then nothing else may compute beside them here)."""
        return True

    @property
    def local_cpus_busy(self) -> int:
        """CPUs of this machine the executor's workers may keep busy (the rest are spare)."""
        return local_cpu_count()

    def share(self, key: str, value: Any) -> Any:
        """A handle to ``value`` that tasks receive as an argument (here: the value itself)."""
        return value

    def warm_up(self, modules: Sequence[str]) -> None:
        """Start the workers and import ``modules`` in them, in the background, while the
        caller prepares the first tasks (default: nothing to start)."""

    def map_unordered(self, fn: Callable[..., Any], tasks: Sequence[Task]) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the executor started (nothing by default)."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalExecutor(Executor):
    """Tasks in this process, or in ``n_jobs`` joblib processes (worth it for CPU backends)."""

    name = "local"

    def __init__(self, n_jobs: int = 1) -> None:
        if n_jobs < 1:
            raise ConfigError(f"jobs must be >= 1, got {n_jobs}")
        self.n_jobs = n_jobs
        self._warming: threading.Thread | None = None
        #: The worker processes :meth:`warm_up` started (None before it ran; filled when done).
        self.warm_pids: set[int] | None = None

    @property
    def in_process(self) -> bool:
        return self.n_jobs == 1

    @property
    def local_cpus_busy(self) -> int:
        return min(self.n_jobs, local_cpu_count())

    def warm_up(self, modules: Sequence[str]) -> None:
        """joblib's worker processes start (and import ``modules``: torch alone takes ~2 s) in a
        thread; the next :meth:`map_unordered` reuses them. Worth it when the caller has its
        own work meanwhile (fitting a vectorizer)."""
        if self.n_jobs == 1 or self.warm_pids is not None:  # one warm-up per executor
            return
        self.warm_pids = set()
        from joblib import Parallel, delayed

        def start() -> None:
            try:
                self.warm_pids = set(Parallel(n_jobs=self.n_jobs)(
                    delayed(_import_modules)(tuple(modules)) for _ in range(self.n_jobs)))
                _stop_workers_at_exit()  # after joblib's pool registered its own exit hook
            except Exception:  # noqa: BLE001 - best effort: the interpreter may be exiting already
                pass  # (the command ended first); a real failure shows in the next map

        self._warming = threading.Thread(target=start, name="start-workers", daemon=True)
        self._warming.start()

    def map_unordered(self, fn: Callable[..., Any], tasks: Sequence[Task]) -> Iterator[tuple[int, Any]]:
        warming, self._warming = self._warming, None
        while warming is not None and warming.is_alive():
            warming.join(0.2)  # one pool at a time; in steps, so that Ctrl-C gets through
        if self.n_jobs > 1 and len(tasks) > 1:
            from joblib import Parallel, delayed

            def indexed(i: int, *args: Any) -> tuple[int, Any]:
                return i, fn(*args)

            runner = Parallel(n_jobs=min(self.n_jobs, len(tasks)), return_as="generator_unordered")
            yield from runner(delayed(indexed)(i, *t.args) for i, t in enumerate(tasks))
        else:
            for i, t in enumerate(tasks):
                yield i, fn(*t.args)


@functools.lru_cache(maxsize=1)
def _stop_workers_at_exit() -> None:
    """When the interpreter exits, end joblib's idle worker processes at once. joblib's own exit
    hook waits for each to tear down torch and scikit-learn (0.8 s at the end of every command
    here); this hook is registered after it, so it runs first (threading's exit hooks run last
    in, first out - the hook ``concurrent.futures`` uses; plain ``atexit`` runs too late)."""
    import atexit

    def stop() -> None:
        try:
            from joblib.externals.loky import reusable_executor

            pool = getattr(reusable_executor, "_executor", None)  # the one joblib's Parallel reuses
            if pool is not None:
                pool.shutdown(wait=False, kill_workers=True)
        except Exception:  # noqa: BLE001 - exiting anyway; joblib's hook cleans up the rest
            pass

    register = getattr(threading, "_register_atexit", None)
    try:
        (register or atexit.register)(stop)
    except RuntimeError:  # the interpreter is already exiting (the warm-up outlived the command)
        pass


def _import_modules(modules: tuple[str, ...]) -> int:
    """A warm-up task: import what the coming tasks need (a module that fails to import is the
    task's own error to report later, not the warm-up's); returns the worker's process id."""
    import importlib
    import time

    began = time.perf_counter()
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - see above
            pass
    # a task shorter than a worker's start could leave the next warm-up task to this worker, so
    # it lasts at least 0.2 s; a fresh worker's imports take seconds, so it does not wait at all
    time.sleep(max(0.0, 0.2 - (time.perf_counter() - began)))
    return os.getpid()


def local_cpu_count() -> int:
    """CPUs this process may use (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def source_root() -> Path | None:
    """The checkout this package is imported from (a folder with ``pyproject.toml``), or None
    for an installed package. Workers of a local Ray instance get it on their PYTHONPATH, so they
    import the same code as the driver."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").exists() else None


class RayExecutor(Executor):
    """Each task is one Ray task with the resources its backend declares.

    ``address``: an existing cluster (``ray://...`` or ``HOST:PORT``); None starts a local
    instance with ``num_cpus`` CPUs (default: this machine's), without the dashboard, shut down
    on :meth:`close`. Values given to :meth:`share` go to the object store once (``ray.put``).
    A worker that dies in the middle of a task (killed, out of memory) is retried up to
    ``max_retries`` times (Ray's ``max_retries``); an exception raised by the task itself is not
    retried (it would fail again) and is re-raised here as it was raised there.
    """

    name = "ray"

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None, max_retries: int = 3) -> None:
        if max_retries < 0:
            raise ConfigError(f"max_retries must be >= 0, got {max_retries}")
        if address is not None and num_cpus is not None:
            raise ConfigError("num_cpus sizes a local Ray instance; an existing cluster (address) has its own")
        self._ray = require("ray", extra="ray", purpose="--executor ray")
        self.address = address
        self.max_retries = max_retries
        self._shared: dict[str, Any] = {}
        self._owns = False
        if self._ray.is_initialized():  # the caller's own Ray session: use it, leave it running
            return
        root = source_root()
        env = {"PYTHONPATH": os.pathsep.join([str(root), os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [str(root)])} if root else {}
        try:
            self._ray.init(
                address=address or "local",
                num_cpus=None if address else (num_cpus or local_cpu_count()),
                include_dashboard=False,
                log_to_driver=False,
                runtime_env={"env_vars": env} if env else None,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            raise ServiceError(f"could not start or reach {where}: {exc}") from exc
        self._owns = True

    @property
    def in_process(self) -> bool:
        return False

    @property
    def local_cpus_busy(self) -> int:
        # a cluster elsewhere leaves this machine free; a local instance (or one the caller
        # started, whose size we do not know) may fill it
        return 0 if self.address and self._owns else local_cpu_count()

    def share(self, key: str, value: Any) -> Any:
        if key not in self._shared:
            self._shared[key] = self._ray.put(value)
        return self._shared[key]

    def map_unordered(self, fn: Callable[..., Any], tasks: Sequence[Task]) -> Iterator[tuple[int, Any]]:
        ray = self._ray
        remote = ray.remote(fn)
        index = {
            remote.options(
                num_cpus=t.resources.cpus, num_gpus=t.resources.gpus,
                max_retries=self.max_retries, retry_exceptions=False,
            ).remote(*t.args): i
            for i, t in enumerate(tasks)
        }
        pending = list(index)
        try:
            with _ctrl_c_recorded() as interrupted:
                while pending:
                    # short waits, then our own check: a Ctrl-C that arrives while Ray blocks in its
                    # core can be consumed there and lost (seen: the command went on training)
                    ready, pending = ray.wait(pending, num_returns=1, timeout=_WAIT_SECONDS)
                    if interrupted():
                        raise KeyboardInterrupt
                    if ready:
                        yield index[ready[0]], self._get(ready[0])
        finally:
            for ref in pending:  # interrupted or failed: stop what is still queued or running
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - best effort; close() ends a local instance anyway
                    pass

    def _get(self, ref: Any) -> Any:
        exceptions = self._ray.exceptions
        try:
            return self._ray.get(ref)
        except exceptions.RayTaskError as exc:  # the task raised: re-raise its own exception
            cause = getattr(exc, "cause", None)
            if isinstance(cause, Exception):
                raise cause from None
            raise ModelError(f"a Ray task failed: {exc}") from None
        except exceptions.RayError as exc:  # a worker or node died more often than max_retries
            if isinstance(exc, AuditError):
                raise
            raise ModelError(
                f"a Ray worker died and the task failed after {self.max_retries} retries: "
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            ) from None

    def close(self) -> None:
        self._shared.clear()
        if self._owns:
            self._owns = False
            self._ray.shutdown()


#: How long the Ray driver blocks in one ``ray.wait`` before it checks for Ctrl-C itself.
_WAIT_SECONDS = 0.5


@contextlib.contextmanager
def _ctrl_c_recorded() -> Iterator[Callable[[], bool]]:
    """While the block runs, a Ctrl-C (SIGINT) is recorded as well as raised; yields a function
    that says whether one came. Outside the main thread (where Python cannot set handlers) it
    records nothing and the usual KeyboardInterrupt is all there is."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    seen: list[int] = []

    def on_sigint(signum: int, frame: Any) -> None:
        seen.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield lambda: bool(seen)
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)


def make_executor(kind: str = "local", *, n_jobs: int = 1, address: str | None = None,
                  num_cpus: int | None = None, max_retries: int = 3) -> Executor:
    """``local`` (default; ``n_jobs`` processes) or ``ray`` (``address`` or a local instance)."""
    if kind not in EXECUTORS:
        raise ConfigError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")
    if kind == "local":
        if address:
            raise ConfigError("--ray-address needs --executor ray")
        return LocalExecutor(n_jobs)
    return RayExecutor(address, num_cpus=num_cpus, max_retries=max_retries)
