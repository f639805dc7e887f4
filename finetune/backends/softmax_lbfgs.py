"""scikit-learn's multinomial logistic regression, solved with torch's L-BFGS.

``LogisticRegression(solver="lbfgs")`` minimises the mean log loss plus
``||coef||^2 / (2 C N)`` (intercept not penalised) with scipy's L-BFGS-B. On TF-IDF features
(BANKING77: D = 37.7k, K = 77, 2.9M weights) three quarters of a fit is L-BFGS-B's own
bookkeeping over those 2.9M numbers, not the loss (docs/benchmarks.md, "CPU tier speed").
:func:`fit_logistic_regression` minimises the same objective with ``torch.optim.LBFGS``
(plain L-BFGS, strong-Wolfe line search: a few vector operations per step), computes loss and
gradient with torch's sparse CSR products, and returns a fitted ``LogisticRegression`` - so
prediction, saving and warm starts stay scikit-learn's. Two classes go to scikit-learn as is
(its binary model has one row of weights; the solve is cheap).

The objective is strictly convex, so both solvers approach the same unique solution;
``tests/finetune/test_softmax_lbfgs.py`` checks it against scikit-learn's converged fit.
"""

from __future__ import annotations

import sys
import warnings
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from finetune.backends.merged_columns import merge_parallel_columns
from finetune.threads import torch_threads

#: What a process fitting with this module imports first (~2 s in a fresh worker: scikit-learn's
#: linear models and torch; not torch's compiler, see :func:`_without_compiler_import`).
WORKER_IMPORTS = ("sklearn.linear_model", "torch")

#: L-BFGS memory. 5 pairs: as few iterations as 10 or 20 on BANKING77 folds, half the vector work.
HISTORY = 5


def fit_logistic_regression(X: Any, y: np.ndarray, *, C: float, tol: float, max_iter: int,
                            init: tuple[np.ndarray, np.ndarray] | None = None,
                            random_state: int | None = None):
    """A fitted ``sklearn.linear_model.LogisticRegression(C=C)`` for ``X (N, D)`` (a float32
    or float64 matrix, sparse or dense) and labels ``y (N,)``.

    ``tol``: stop when every entry of the mean-loss gradient is below it (scikit-learn's
    ``gtol``); ``max_iter``: L-BFGS iterations; ``init``: ``(coef (K, D), intercept (K,))`` to
    start from (a warm start), for the same sorted classes."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, tol=tol, max_iter=max_iter, random_state=random_state)
    classes, y_index = np.unique(np.asarray(y), return_inverse=True)
    if len(classes) < 3:
        if init is not None:
            model.set_params(warm_start=True)
            model.coef_, model.intercept_ = init[0].copy(), init[1].copy()
        model.fit(X, y)
        model.set_params(warm_start=False)
        return model
    coef, intercept, n_iter = _solve(X, y_index, len(classes), C=C, tol=tol, max_iter=max_iter, init=init)
    model.classes_, model.coef_, model.intercept_ = classes, coef, intercept
    model.n_features_in_, model.n_iter_ = X.shape[1], np.array([n_iter], dtype=np.int32)
    return model


def _solve(X: Any, y_index: np.ndarray, n_classes: int, *, C: float, tol: float, max_iter: int,
           init: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray, int]:
    """``(coef (K, D), intercept (K,), iterations)`` minimising the mean log loss +
    ``||coef||^2 / (2 C N)``, in float32 (the TF-IDF matrix's dtype).

    A sparse ``X``'s columns without a nonzero (features only held-out rows have) are left out
    of the solve: their gradient is ``coef / (C N)`` alone, so from zero they stay zero, and the
    solution is the same with fewer numbers to update (BANKING77 folds: 8% of the TF-IDF
    vocabulary); parallel columns are solved as one (:mod:`finetune.backends.merged_columns`)."""
    import scipy.sparse as sp
    import torch

    X = X.astype(np.float32).tocsr() if sp.issparse(X) else np.ascontiguousarray(X, dtype=np.float32)
    n, d_all = X.shape
    used, counts = _used_columns(X)
    if used is not None:
        X, counts = X[:, used], counts[used]
        if init is not None:
            init = (np.asarray(init[0])[:, used], init[1])
    merged = merge_parallel_columns(X, counts) if counts is not None else None
    if merged is not None:
        X = merged.matrix
        if init is not None:
            init = (merged.project(np.asarray(init[0]).T).T, init[1])
    d = X.shape[1]
    product, gradient_into = _products(X)
    k, rows = n_classes, np.arange(n)
    params = torch.zeros(d * k + k, dtype=torch.float32)
    if init is not None:
        params[: d * k] = torch.from_numpy(np.ascontiguousarray(init[0].T, dtype=np.float32)).reshape(-1)
        params[d * k:] = torch.from_numpy(np.asarray(init[1], dtype=np.float32))
    params.requires_grad_(True)
    flat = params.detach().numpy()  # shares memory with params
    weights, bias = flat[: d * k].reshape(d, k), flat[d * k:]
    with _without_compiler_import():
        optimizer = torch.optim.LBFGS(
            [params], lr=1.0, max_iter=max_iter, max_eval=max_iter * 2, history_size=HISTORY,
            tolerance_grad=tol, tolerance_change=float(64 * np.finfo(float).eps), line_search_fn="strong_wolfe",
        )

    gradient = torch.zeros_like(params)
    grad_w, grad_b = gradient.numpy()[: d * k].reshape(d, k), gradient.numpy()[d * k:]
    penalty = 1.0 / (C * n)

    def loss_and_gradient() -> torch.Tensor:
        logits = product(weights)  # (N, K)
        logits += bias
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        total = proba.sum(axis=1, keepdims=True)
        loss = float(np.log(total).sum(dtype=np.float64) - logits[rows, y_index].sum(dtype=np.float64))
        proba /= total
        proba[rows, y_index] -= 1.0  # d loss / d logits
        proba /= n
        gradient_into(grad_w, proba, weights, penalty)  # X.T @ proba + penalty * weights
        proba.sum(axis=0, out=grad_b)
        params.grad = gradient
        squared = float(np.dot(flat[: d * k], flat[: d * k]))
        return torch.tensor(loss / n + 0.5 * penalty * squared, dtype=torch.float64)

    with torch_threads(1):  # the same result in every process (a thread count changes the sums)
        optimizer.step(loss_and_gradient)
    n_iter = int(optimizer.state[optimizer.param_groups[0]["params"][0]].get("n_iter", 0))
    if merged is not None:
        weights = merged.expand(weights)
    if used is None:
        return weights.T.astype(np.float64), bias.astype(np.float64), n_iter
    coef = np.zeros((k, d_all))
    coef[:, used] = weights.T
    return coef, bias.astype(np.float64), n_iter


@contextmanager
def _without_compiler_import() -> Iterator[None]:
    """Construct a torch optimizer without importing ``torch._dynamo``.

    torch wraps ``Optimizer.add_param_group`` in ``torch._disable_dynamo``, whose first call
    imports the compiler stack (~0.9 s of CPU in a fresh process: a fifth of a worker's start)
    only to mark the method as not to be compiled, and caches the marked method on it as
    ``__dynamo_disable``. Nothing here compiles, so inside this block the cache names the
    method itself; after it the entry goes, and a later optimizer gets torch's own behaviour.
    Without the ``__wrapped__`` this relies on (another torch), or once the compiler is
    loaded anyway, nothing changes."""
    import torch

    method = getattr(torch.optim.Optimizer.add_param_group, "__wrapped__", None)
    if method is None or "torch._dynamo" in sys.modules or hasattr(method, "__dynamo_disable"):
        yield
        return
    setattr(method, "__dynamo_disable", method)
    try:
        yield
    finally:
        delattr(method, "__dynamo_disable")


def _used_columns(X: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(used (D,) bool, counts (D,))`` for a sparse ``X`` (made canonical here): the columns with
    a nonzero (None when all have one) and each column's number of nonzeros; ``(None, None)``
    for a dense ``X``."""
    import scipy.sparse as sp

    if not sp.issparse(X):
        return None, None
    X.sum_duplicates()  # one entry per (row, column): a column's count of nonzeros is its count of rows
    counts = np.bincount(X.indices, minlength=X.shape[1])
    used = counts > 0
    return (None if used.all() else used), counts


def _products(X: Any):
    """``(A -> X @ A, (out, B, A, c) -> out = X.T @ B + c * A)`` for dense float32 ``A (D, K)``,
    ``B (N, K)``. A sparse ``X`` goes to torch's CSR kernels (one thread: 1.3-2x faster than
    scipy's on BANKING77 TF-IDF, docs/benchmarks.md), with ``X.T`` stored once as its own CSR
    matrix; the gradient's product and penalty are one ``addmm`` into ``out``."""
    import scipy.sparse as sp
    import torch

    if not sp.issparse(X):
        XT = np.ascontiguousarray(X.T)

        def dense_gradient(out: np.ndarray, B: np.ndarray, A: np.ndarray, c: float) -> None:
            np.multiply(A, c, out=out)
            out += XT @ B

        return (lambda A: X @ A), dense_gradient

    def csr(M: Any) -> "torch.Tensor":
        M.sum_duplicates()  # canonical (sorted, unique) indices: the invariants torch's kernels assume
        index = np.int32 if max(M.nnz, *M.shape) < 2**31 else np.int64
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
            return torch.sparse_csr_tensor(
                torch.from_numpy(M.indptr.astype(index)), torch.from_numpy(M.indices.astype(index)),
                torch.from_numpy(M.data), size=M.shape, check_invariants=False)

    tX, tXT = csr(X), csr(X.T.tocsr())

    def sparse_gradient(out: np.ndarray, B: np.ndarray, A: np.ndarray, c: float) -> None:
        torch.addmm(torch.from_numpy(A), tXT, torch.from_numpy(B), beta=c, out=torch.from_numpy(out))

    return (lambda A: (tX @ torch.from_numpy(A)).numpy()), sparse_gradient
