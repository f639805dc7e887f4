"""The out-of-fold engine: stratified K folds, a fresh backend per fold, every row predicted
exactly once, each fold cached by (data fingerprint, backend config, fold, seed, code version)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Sequence

import numpy as np

from labelcore import __version__
from labelcore.data.schema import TextDataset
from labelcore.errors import DataError, ModelError
from finetune.backends.base import Backend, BackendConfig, PreparedFeatures
from finetune.backends.registry import make_backend
from finetune.cache import ArrayCache, cache_key
from finetune.executors import Executor, LocalExecutor, Task, local_cpu_count
from finetune.memory import release_freed_memory
from finetune.threads import CpuShare

#: progress(done_folds, total_folds, message)
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class OOFResult:
    """Out-of-fold predictions of one backend.

    pred_probs : (N, K) columns in the dataset's canonical class order.
    folds : (N,) the fold each row was held out in.
    fit_seconds : (n_folds,) training + prediction time per fold (0 when cached).
    cached : (n_folds,) whether each fold came from the cache.
    n_parameters : the model's size (the largest over folds; given by ``params`` for a
        precomputed backend), None when unknown.
    given : the predictions were given (``precomputed``), not trained.
    states : per fold, the fold model's ``warm_start_state()`` (None when it has none, or when
        its final model trains beside the folds and no later round asked for it, ``keep_states``):
        the final model on all rows may start from it, and a later round's fold
        (``warm_from``) from its fold's (``Backend.starts_from_earlier_round``).
    train_mask : (N,) bool, the rows the folds trained on (None: every row).
    prepared : the label-free features every fold shared (``Backend.prepare``), or None.
    final : with ``fit_final``, the backend trained on every row (without its shared features,
        as it would serve), or None; final_seconds : its training time.
    final_pred_probs : (T, K) the final model's predictions of ``final_texts`` (canonical
        columns), made where it trained; None without them.
    """

    config: BackendConfig
    pred_probs: np.ndarray
    folds: np.ndarray
    fit_seconds: np.ndarray
    cached: np.ndarray
    n_parameters: int | None = None
    given: bool = False
    states: tuple = ()
    prepared: Any = field(default=None, repr=False, compare=False)
    final: Backend | None = field(default=None, repr=False, compare=False)
    final_seconds: float = 0.0
    train_mask: np.ndarray | None = field(default=None, repr=False, compare=False)
    final_pred_probs: np.ndarray | None = field(default=None, repr=False, compare=False)


def assign_folds(labels: np.ndarray, *, n_folds: int, seed: int, dataset: TextDataset | None = None) -> np.ndarray:
    """(N,) fold index per row from ``StratifiedKFold(n_folds, shuffle=True, random_state=seed)``.

    Raises ConfigError when ``n_folds < 2`` and DataError when the data cannot be split:
    one class only, fewer rows than folds, or a class with fewer examples than folds."""
    from sklearn.model_selection import StratifiedKFold

    from labelcore.data.validate import check_trainable
    from labelcore.options import check_folds

    check_folds(n_folds)
    labels = np.asarray(labels, dtype=np.int64)
    if dataset is None:
        k = int(labels.max()) + 1 if len(labels) else 0
        dataset = TextDataset([""] * len(labels), labels, tuple(str(i) for i in range(k)),
                              [str(i) for i in range(len(labels))], np.arange(len(labels)), "labels")
    check_trainable(dataset, n_folds=n_folds, labels=labels)
    counts = np.bincount(labels)
    present = np.flatnonzero(counts)
    small = [k for k in present if counts[k] < n_folds]
    if small:
        names = dataset.classes
        shown = ", ".join(
            f"{names[k]!r} ({counts[k]})" for k in small[:5]
        ) + (" ..." if len(small) > 5 else "")
        raise DataError(
            f"{len(small)} class(es) have fewer examples than the {n_folds} folds: {shown}; "
            "lower --folds, or add or merge examples",
            path=dataset.source,
            column=dataset.label_column,
        )
    folds = np.full(len(labels), -1, dtype=np.int64)
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for f, (_, test) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        folds[test] = f
    return folds


@dataclass(frozen=True)
class _TaskOutput:
    """What one task of the engine sends back: ``pred_probs (M, K)`` of its fold's held-out
    rows (None for a task that trains only a final model), ``seconds`` and ``n_parameters`` of
    the fold model, its ``state`` (``warm_start_state``, kept only when a final model or a later
    round's fold will start from it), and ``final`` / ``final_seconds`` when the task also trained the
    final model (without its shared features, as it would serve), with its ``final_pred_probs``
    of the texts it was given."""

    pred_probs: np.ndarray | None
    seconds: float = 0.0
    n_parameters: int = 0
    state: dict[str, np.ndarray] | None = None
    final: Backend | None = None
    final_seconds: float = 0.0
    final_pred_probs: np.ndarray | None = None


def _run_fold(shared: tuple[list[str], np.ndarray], estimator: type[Backend], config: BackendConfig,
              train: np.ndarray, test: np.ndarray | None, classes: tuple[str, ...],
              prepared: PreparedFeatures | None = None, final_rows: np.ndarray | None = None,
              keep_state: bool = False, start: dict[str, np.ndarray] | None = None,
              final_texts: list[str] | None = None) -> _TaskOutput:
    """Train a fresh backend on ``train`` rows, predict ``test`` rows in canonical columns.

    Runs wherever the executor puts it (this process, a joblib process, a Ray worker):
    ``shared`` = (texts, label names) of the whole dataset, sent once per executor;
    ``estimator`` is the class the caller's registry resolved, so a worker needs no registry;
    ``prepared``: the backend's label-free features of every row. With ``final_rows`` (every
    row), the same task then trains the final model, starting from this fold's solution (it
    has 4/5 of the rows, so the final model converges in fewer steps); ``test=None``: only the
    final model, from ``start`` (fold 0's cached solution). ``keep_state``: send the fold's solution
    back (a later round starts from it); ``start``: an earlier round's solution of this fold to
    start from; ``final_texts``: texts the final model predicts here (a test split)."""
    began = time.perf_counter()
    proba, state, n_parameters = None, None, 0
    # the solution is needed by the final model (here when it trains in this task, else after the
    # folds) and by a later round's fold
    keep_state = keep_state or not estimator.final_beside_folds or final_rows is not None
    if test is not None:
        model = _fit(shared, estimator, config, train, prepared, init=start)
        proba = predict_proba_canonical(model, [shared[0][i] for i in test], classes)
        state = model.warm_start_state() if keep_state else None
        n_parameters = int(getattr(model, "n_parameters_", 0) or 0)
    seconds = time.perf_counter() - began
    final, final_seconds, final_proba = None, 0.0, None
    if final_rows is not None:
        final_began = time.perf_counter()
        final = _fit(shared, estimator, config, final_rows, prepared,
                     init=state if state is not None else start).without_caches()
        final_seconds = time.perf_counter() - final_began
        if final_texts is not None:
            final_proba = predict_proba_canonical(final, list(final_texts), classes)
    release_freed_memory()  # an idle worker should not hold its last fit's temporaries
    return _TaskOutput(proba, seconds, n_parameters, state if keep_state else None, final, final_seconds,
                       final_proba)


def _fit(shared: tuple[list[str], np.ndarray], estimator: type[Backend], config: BackendConfig,
         train: np.ndarray, prepared: PreparedFeatures | None, init: dict[str, np.ndarray] | None = None) -> Backend:
    """A fresh ``estimator(config)`` fitted on the ``train`` rows of ``shared`` (texts, label
    names); ``init``: a solution to start from."""
    texts, names = shared
    fit_params = {k: v for k, v in (("prepared", prepared), ("init", init)) if v is not None}
    return estimator(config).fit([texts[i] for i in train], names[train], **fit_params)


def predict_proba_canonical(model, texts: list[str], classes: tuple[str, ...]) -> np.ndarray:
    """(M, K) ``model.predict_proba(texts)`` with columns in the canonical order ``classes``
    (0 for a class the model never saw)."""
    proba = np.asarray(model.predict_proba(texts), dtype=np.float64)
    index = {c: k for k, c in enumerate(classes)}
    full = np.zeros((len(texts), len(classes)))
    try:
        full[:, [index[str(c)] for c in model.classes_]] = proba
    except KeyError as exc:
        raise ModelError(f"backend {model.config.backend!r} returned an unknown class {exc}") from None
    return full


def cross_val_predict_proba(
    config: BackendConfig,
    dataset: TextDataset,
    *,
    n_folds: int = 5,
    seed: int = 0,
    cache_dir: str | None = None,
    n_jobs: int = 1,
    train_mask: np.ndarray | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> OOFResult:
    """Out-of-fold ``pred_probs (N, K)`` of one backend on ``dataset``.

    ``train_mask (N,)`` bool: only these rows are used for training (every row is still
    predicted); e.g. a second round that leaves out the rows a first round flagged.

    Each fold trains a fresh backend on the other folds. With ``cache_dir``, finished folds
    are stored and a rerun (after an interruption, or with more backends) reuses them.
    ``executor`` runs the folds (:mod:`finetune.executors`: local or Ray); without one,
    ``n_jobs > 1`` trains folds in parallel local processes (worth it for the CPU backends).
    A backend with given predictions (``precomputed``) is read, not trained; ``train_mask``
    does not apply to it.
    """
    return cross_val_predict_proba_many(
        [config], dataset, n_folds=n_folds, seed=seed, cache_dir=cache_dir, n_jobs=n_jobs,
        train_mask=train_mask, progress=progress, executor=executor,
    )[0]


def cross_val_predict_proba_many(
    configs: Sequence[BackendConfig],
    dataset: TextDataset,
    *,
    n_folds: int = 5,
    seed: int = 0,
    cache_dir: str | None = None,
    n_jobs: int = 1,
    train_mask: np.ndarray | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
    names: Sequence[str] | None = None,
    prepared: Sequence[PreparedFeatures | None] | None = None,
    fit_final: bool = False,
    keep_states: bool = False,
    warm_from: Sequence[OOFResult | None] | None = None,
    while_waiting: Callable[[], Any] | None = None,
    final_texts: Sequence[str] | None = None,
) -> list[OOFResult]:
    """:func:`cross_val_predict_proba` for several backends at once: every (backend, fold)
    not in the cache is one task for the executor, so folds of different backends run side by
    side. Given predictions are read (and checked) before any training starts.

    ``names``: one label per backend for the progress messages (default: the backend names).
    ``prepared``: per backend, its label-free features when already computed
    (``OOFResult.prepared`` of an earlier round); default: ``backend.prepare`` when a fold trains.
    ``fit_final``: also train each backend whose fitted model is small to send between processes
    (``Backend.final_beside_folds``) on every row (``OOFResult.final``; not cached), in fold 0's
    task from fold 0's solution - or alone, from fold 0's cached solution: in the pool beside
    the other folds instead of after them. ``final_texts``: texts (a test split) each such final
    model predicts where it trains (``OOFResult.final_pred_probs``), beside the folds too.
    ``keep_states``: keep every fold's solution of the backends that can start from one
    (``Backend.starts_from_earlier_round``) in ``OOFResult.states`` and in the cache, for a
    later round. ``warm_from``: per backend, such a result of an earlier round (same folds), or
    None: each fold of such a backend starts from its fold's earlier solution (a fold without
    one starts cold). A fold's earlier model never saw the fold's own labels either; the
    columns that only the rows this round leaves out have drop out of the solve, so what those
    rows alone taught the start is gone at once (docs/benchmarks.md).
    ``while_waiting``: the caller's next work that needs nothing from this call (an import),
    started once in a driver thread when the last tasks leave a CPU of this machine idle, so
    that it does not wait for them; this call returns after it. What it raises is ignored here:
    the caller meets it again when it does that work itself. Not started when every fold is
    cached, or when the tasks run in this process.
    Returns one :class:`OOFResult` per config, in order.
    """
    labels = dataset.labels
    names = list(names) if names is not None else [c.display_name for c in configs]
    if len(names) != len(configs):
        raise ValueError("names must have one entry per config")
    if train_mask is not None:
        train_mask = np.asarray(train_mask, dtype=bool)
    extra = {"train_mask": _mask_key(train_mask)} if train_mask is not None else {}
    cache = ArrayCache(f"{cache_dir}/oof") if cache_dir else None
    warm_from = list(warm_from) if warm_from is not None else [None] * len(configs)
    if len(warm_from) != len(configs):
        raise ValueError("warm_from must have one entry per config")

    def report(name: str, done: int, message: str) -> None:
        if progress:
            progress(done, n_folds, f"{name}: {message}")

    runs: list[_Run] = []
    for i, (config, name) in enumerate(zip(configs, names)):
        if cache_dir and "cache_dir" in {f.name for f in fields(config)} and not getattr(config, "cache_dir"):
            config = replace(config, cache_dir=str(cache_dir))
        backend = make_backend(config)
        run = _Run(config, name, backend, n_folds, len(labels), len(dataset.classes))
        run.prepared = prepared[i] if prepared is not None else None
        run.keep_states = keep_states and backend.starts_from_earlier_round
        run.final_beside = fit_final and backend.final_beside_folds and not backend.provides_oof
        earlier = warm_from[i] if backend.starts_from_earlier_round else None
        run.earlier = earlier if earlier is not None and any(s is not None for s in earlier.states) else None
        runs.append(run)
        if backend.provides_oof:  # given, not trained: read and check now, before any training
            run.pred[:] = backend.given_oof_pred_probs(dataset.example_ids, dataset.classes, labels=dataset.label_names)
            run.n_params[:] = int(getattr(backend, "n_parameters_", 0) or 0)
            run.seconds[:] = float(getattr(backend, "given_seconds_", 0.0) or 0.0) / n_folds  # timed elsewhere
            run.given = True
            run.done = n_folds
            report(name, n_folds, "given (precomputed)")
            continue
        code_version = f"{__version__}/{type(backend).__name__}/{backend.code_version}"
        start = {}
        if run.earlier is not None:  # the earlier round's solutions are part of the result
            start = {"start": "earlier-round/" + _mask_key(run.earlier.train_mask)}
        run.keys = [
            cache_key(data=dataset.fingerprint, backend=config.fingerprint(), fold=f,
                      n_folds=n_folds, seed=seed, code=code_version, **extra, **start)
            for f in range(n_folds)
        ]

    # the workers start (and import torch and scikit-learn, ~4 s) while the folds are drawn and
    # the features prepared - when a fold is not in the cache (a cached rerun starts none)
    own = executor is None
    executor = executor or LocalExecutor(n_jobs)
    try:
        if any(not r.given and (cache is None or not all(cache.path(k).exists() for k in r.keys)) for r in runs):
            executor.warm_up(_worker_modules(runs))
        folds = assign_folds(labels, n_folds=n_folds, seed=seed, dataset=dataset)
        tests = [np.flatnonzero(folds == f) for f in range(n_folds)]
        for run in runs:
            if run.earlier is not None and not np.array_equal(run.earlier.folds, folds):
                raise ValueError(f"{run.name}: warm_from was computed on other folds")
            if not run.given:
                _load_cached(run, cache, tests, n_classes=len(dataset.classes))
                report(run.name, run.done, f"{run.done} fold(s) cached")
        _train_missing(runs, dataset, folds, tests, executor=executor, cache=cache, train_mask=train_mask,
                       report=report, while_waiting=while_waiting,
                       final_texts=None if final_texts is None else list(final_texts))
    finally:
        if own:
            executor.close()

    results = []
    for run in runs:
        check_oof(run.pred, folds, n_folds=n_folds, backend=run.name)
        results.append(OOFResult(config=run.config, pred_probs=run.pred, folds=folds, fit_seconds=run.seconds,
                                 cached=run.cached, n_parameters=int(run.n_params.max()) or None, given=run.given,
                                 states=tuple(run.states), prepared=run.prepared, final=run.final,
                                 final_seconds=run.final_seconds, train_mask=train_mask,
                                 final_pred_probs=run.final_pred_probs))
    return results


def _worker_modules(runs: Sequence["_Run"]) -> list[str]:
    """What a fold task of these backends imports first (the engine, each backend's module and
    its ``worker_imports``)."""
    trained = [r for r in runs if not r.given]
    return sorted({__name__, *(m for r in trained for m in (type(r.backend).__module__, *r.backend.worker_imports))})


def _load_cached(run: "_Run", cache: ArrayCache | None, tests: list[np.ndarray], *, n_classes: int) -> None:
    """Fill ``run`` with its usable cached folds; the others go to ``run.todo``: a miss, a
    damaged entry, or one without the solution a later round (``run.keep_states``) or the final
    model (``run.final_beside``: fold 0's) starts from is trained again."""
    for f, test in enumerate(tests):
        expect = {"pred_probs": (len(test), n_classes), "test_index": (len(test),), "seconds": ()}
        hit = cache.load(run.keys[f], expect=expect) if cache else None
        has_state = any(k.startswith(_STATE) for k in (hit or {}))
        needs_state = run.keep_states or (run.final_beside and f == 0)
        if hit is not None and _usable_entry(hit, test) and (has_state or not needs_state):
            run.pred[test] = hit["pred_probs"]
            run.seconds[f] = float(hit["seconds"])
            run.n_params[f] = int(hit.get("n_parameters", 0))
            run.states[f] = {k[len(_STATE):]: v for k, v in hit.items() if k.startswith(_STATE)} or None
            run.cached[f] = True
            run.done += 1
        else:
            run.todo.append(f)


def _train_missing(runs: Sequence["_Run"], dataset: TextDataset, folds: np.ndarray, tests: list[np.ndarray], *,
                   executor: Executor, cache: ArrayCache | None, train_mask: np.ndarray | None,
                   report: Callable[[str, int, str], None], while_waiting: Callable[[], Any] | None = None,
                   final_texts: list[str] | None = None) -> None:
    """Train every fold in ``run.todo`` (and the final models that train beside the folds,
    ``run.final_beside``) on ``executor``, recording and caching each result as it arrives;
    ``while_waiting`` starts when the last tasks leave a local CPU idle."""
    labels, n_folds = dataset.labels, len(tests)
    usable = np.ones(len(labels), dtype=bool) if train_mask is None else train_mask
    # (run, fold, also the final model?); the final model always starts from fold 0's solution
    # (trained here or cached), so it is the same model whatever was cached. Fold 0's task, which
    # also trains it, goes first: it is the longest, and none should be left alone at the end
    jobs: list[tuple[_Run, int, bool]] = []
    for run in runs:
        if run.final_beside and 0 not in run.todo:
            jobs.append((run, _FINAL, True))  # fold 0 cached: the final model alone, from its solution
        jobs.extend((run, f, run.final_beside and f == 0) for f in run.todo)
    jobs.sort(key=lambda job: not job[2])
    if not jobs:
        return
    shared = executor.share(f"dataset/{dataset.fingerprint}", (list(dataset.texts), np.asarray(dataset.label_names)))
    every_row = np.arange(len(labels))

    def task(run: _Run, f: int, final: bool) -> Task:
        train = every_row if f == _FINAL else np.flatnonzero((folds != f) & usable)
        if f == _FINAL:  # the final model starts from fold 0's (cached) solution, as in fold 0's task
            start = run.states[0]
        else:
            start = run.earlier.states[f] if run.earlier is not None else None
        return Task((shared, type(run.backend), run.config, train,
                     None if f == _FINAL else tests[f], tuple(dataset.classes), run.shared_prepared,
                     every_row if final else None, run.keep_states, start, final_texts if final else None),
                    resources=run.config.task_resources())

    def prepare(group: list[_Run]) -> None:
        for run in group:
            if run.prepared is None:
                run.prepared = run.backend.prepare(dataset.texts)  # label-free, once for all folds
            run.shared_prepared = None if run.prepared is None else executor.share(
                f"prepared/{dataset.fingerprint}/{run.config.fingerprint()}", run.prepared)

    # backends whose features take long to compute (sentence embeddings) prepare in a
    # driver thread while the others' folds train; their own folds follow
    waiting = list({id(run): run for run, _, _ in jobs}.values())
    slow = [r for r in waiting if r.prepared is None and r.backend.prepares_slowly]
    if len(slow) == len(waiting) or executor.in_process:  # nothing to overlap with, or no spare process
        slow = []
    later = [job for job in jobs if job[0] in slow]
    now = [job for job in jobs if job[0] not in slow]
    executor.warm_up(_worker_modules(waiting))  # started already unless the cache said nothing was missing
    share = CpuShare(local_cpu_count(), busy=min(len(now), executor.local_cpus_busy))
    background = _Background(lambda: _prepare_with_threads(slow, dataset.texts, share=share),
                             name="prepare-features") if slow else None
    prepare([r for r in waiting if r not in slow])
    # a local CPU idles once fewer tasks are left than the workers keep busy (at once when the
    # workers are elsewhere); then the caller's next work starts beside the last tasks
    idle_below = executor.local_cpus_busy if executor.local_cpus_busy >= local_cpu_count() else len(jobs) + 1

    def start_meanwhile(left: int, last: bool) -> _Background | None:
        if while_waiting is None or not last or executor.in_process or left >= idle_below:
            return None
        return _Background(while_waiting, name="while-waiting")

    meanwhile: _Background | None = None
    for batch in (now, later):
        if batch is later and background is not None:
            for run, features in zip(slow, background.result()):
                run.prepared = features
            prepare(slow)
        last = batch is later or not later
        meanwhile = meanwhile or start_meanwhile(len(batch), last)
        for done, (i, out) in enumerate(executor.map_unordered(_run_fold, [task(*job) for job in batch]) if batch else (),
                                        start=1):
            run, f, _ = batch[i]
            share.set_busy(min(len(batch) - done, executor.local_cpus_busy))  # the workers still busy
            _collect(run, f, out, tests=tests, cache=cache)
            meanwhile = meanwhile or start_meanwhile(len(batch) - done, last)
            if f != _FINAL:
                report(run.name, run.done, f"{run.done}/{n_folds} folds")
            if background is not None and background.failed:  # fail now, not after the other folds
                background.result()
    if meanwhile is not None:
        meanwhile.wait()


def _collect(run: "_Run", f: int, out: "_TaskOutput", *, tests: list[np.ndarray], cache: ArrayCache | None) -> None:
    """Record one task's output; the driver is the one writer of the cache."""
    if out.final is not None:
        run.final, run.final_seconds, run.final_pred_probs = out.final, out.final_seconds, out.final_pred_probs
    if f == _FINAL:
        return
    proba, secs, params, state = out.pred_probs, out.seconds, out.n_parameters, out.state
    run.pred[tests[f]] = proba
    run.seconds[f] = secs
    run.n_params[f] = params
    run.states[f] = state
    if cache:
        entry = {"pred_probs": proba, "test_index": tests[f], "seconds": np.float64(secs),
                 "n_parameters": np.int64(params)}
        entry.update({_STATE + k: np.asarray(v) for k, v in (state or {}).items()})
        cache.save(run.keys[f], entry)
    run.done += 1


def _prepare_with_threads(runs: Sequence["_Run"], texts: Sequence[str], *, share: "CpuShare") -> list:
    """Each run's ``prepare(texts)`` with the torch threads ``share`` leaves it: beside busy
    worker processes, more threads than spare CPUs spin and slow everyone (BANKING77: the
    embedding took 40 s with 2 threads beside 2 workers on 2 CPUs, 12.5 s alone); once the
    workers' last tasks are done, every CPU (the encoder's batches follow it)."""
    from finetune.threads import following

    with following(share):
        return [run.backend.prepare(texts) for run in runs]


class _Background:
    """``fn()`` in a daemon thread (torch and numpy release the GIL while it computes);
    :meth:`result` waits for it and re-raises its exception. A run stopped meanwhile (an error,
    Ctrl-C) does not wait for it: the daemon thread ends with the process."""

    def __init__(self, fn: Callable[[], Any], *, name: str) -> None:
        import threading

        self._value: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller by result()
                self._error = exc

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    @property
    def failed(self) -> bool:
        """Whether ``fn`` has finished by raising."""
        return self._error is not None

    def wait(self) -> None:
        """Wait until ``fn`` has returned or raised (in steps, so that Ctrl-C reaches the main thread)."""
        while self._thread.is_alive():
            self._thread.join(0.2)

    def result(self) -> Any:
        self.wait()
        if self._error is not None:
            raise self._error
        return self._value


class _Run:
    """The engine's bookkeeping for one backend."""

    def __init__(self, config: BackendConfig, name: str, backend: Backend, n_folds: int, n: int, k: int) -> None:
        self.config, self.name, self.backend = config, name, backend
        self.pred = np.full((n, k), np.nan)
        self.seconds = np.zeros(n_folds)
        self.n_params = np.zeros(n_folds, dtype=np.int64)
        self.cached = np.zeros(n_folds, dtype=bool)
        self.keys: list[str] = []
        self.todo: list[int] = []
        self.done = 0
        self.given = False
        self.states: list[dict | None] = [None] * n_folds
        self.prepared: PreparedFeatures | None = None
        self.shared_prepared: Any = None
        self.final: Backend | None = None
        self.final_seconds = 0.0
        self.final_pred_probs: np.ndarray | None = None
        self.keep_states = False  # keep every fold's solution for a later round
        self.final_beside = False  # train the final model in fold 0's task (or alone from its solution)
        self.earlier: OOFResult | None = None


def _mask_key(train_mask: np.ndarray | None) -> str:
    """A short fingerprint of a round's training rows ("all" for every row)."""
    if train_mask is None:
        return "all"
    return hashlib.sha256(np.packbits(np.asarray(train_mask, dtype=bool)).tobytes()).hexdigest()[:16]


#: The fold index of a task that trains only the final model (every row, predicting nothing).
_FINAL = -1

#: Prefix of a fold model's warm-start arrays in its cache entry.
_STATE = "state__"


def _usable_entry(hit: dict[str, np.ndarray], test: np.ndarray) -> bool:
    """A cached fold holds this fold's rows and finite probability rows."""
    proba = hit["pred_probs"]
    return (
        np.array_equal(hit["test_index"], test)
        and np.issubdtype(proba.dtype, np.floating)
        and bool(np.isfinite(proba).all())
        and bool(np.allclose(proba.sum(1), 1.0, atol=1e-4))
        and np.isfinite(float(hit["seconds"]))
        and np.asarray(hit.get("n_parameters", 0)).size == 1
    )


def check_oof(pred_probs: np.ndarray, folds: np.ndarray, *, n_folds: int, backend: str) -> None:
    """Every row predicted exactly once, by a fold that held it out; rows are distributions."""
    counts = np.bincount(folds, minlength=n_folds)
    if folds.min() < 0 or counts.sum() != len(folds):
        raise ModelError(f"{backend}: some rows were not assigned to exactly one fold")
    if np.isnan(pred_probs).any():
        raise ModelError(f"{backend}: {int(np.isnan(pred_probs).any(1).sum())} rows were never predicted")
    sums = pred_probs.sum(1)
    if not np.allclose(sums, 1.0, atol=1e-4) or (pred_probs < -1e-9).any():
        raise ModelError(f"{backend}: predict_proba rows are not probability distributions")
