"""The Python API: what a notebook user reaches for.

    >>> from audit import find_issues
    >>> result = find_issues(df, backends=["tfidf-lr"], n_folds=3)   # doctest: +SKIP
    >>> result.issues[result.issues.is_label_issue].head()           # doctest: +SKIP

Every function takes data as a pandas DataFrame, a Hugging Face ``Dataset``, a path or a
dataset name, and backends as spec strings (``"tfidf-lr:C=10"``) or configs; results are
pandas DataFrames. Nothing is printed and nothing is written unless ``out`` is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from audit.pipeline import FindIssuesResult
    from finetune.backends.base import BackendConfig

DEFAULT_BACKENDS = ("tfidf-lr", "minilm-lr", "minilm-knn")


def find_issues(
    data: Any,
    *,
    backends: Sequence["str | BackendConfig"] = DEFAULT_BACKENDS,
    text_column: str | None = None,
    label_column: str | None = None,
    id_column: str | None = None,
    split: str = "train",
    out: str | Path | None = None,
    progress=None,
    **settings: Any,
) -> "FindIssuesResult":
    """Find likely label errors and confused pairs in ``data`` (what ``audit find-issues`` does).

    Parameters
    ----------
    data : DataFrame (``text`` and ``label`` columns unless named), Hugging Face ``Dataset`` /
        ``DatasetDict``, a file or folder path, or a dataset name (``"demo"``, ``"banking77"``).
    backends : spec strings or :class:`~finetune.backends.base.BackendConfig` objects.
    split : which split to audit; the ``test`` split, when there is one, feeds the leakage check.
    out : when given, the run folder is written there too (``audit report`` reads it).
    progress : ``progress(done, total, message)`` callback for the folds.
    settings : options of :class:`~audit.settings.AuditSettings` (``n_folds``, ``seed``,
        ``rounds``, ``filter_by``, ``weights``, ``cache_dir``, ``detectors``...); checked first.

    Returns
    -------
    :class:`~audit.pipeline.FindIssuesResult`: ``issues`` (DataFrame, one row per example,
    worst first; ``is_label_issue`` flags, ``suggested_label``), ``pairs`` (DataFrame),
    ``pred_probs`` (backend -> (N, K)), ``summary``.
    """
    from audit.pipeline import find_issues as run
    from audit.settings import AuditSettings
    from finetune.backends import parse_backend_spec
    from labelcore.data import load_data
    from labelcore.errors import DataError

    options = AuditSettings.from_options(**settings)
    configs = [parse_backend_spec(b, seed=options.seed) if isinstance(b, str) else b for b in backends]
    bundle = load_data(data, text_column=text_column, label_column=label_column, id_column=id_column)
    if out is not None:
        from audit.formats.run_folder import SUMMARY_FILE
        from labelcore.io import check_output_folder

        check_output_folder(out, marker=SUMMARY_FILE, inputs=bundle.source_paths)
    if split not in bundle.splits:
        raise DataError(f"no split {split!r}; splits are {sorted(bundle.splits)}", path=bundle.spec)
    test = bundle.test if split != "test" else None
    result = run(bundle.splits[split], configs, options, progress=progress, data_spec=bundle.spec, test=test)
    if out is not None:
        from audit.formats.run_folder import write_run_folder

        write_run_folder(result, out, inputs=bundle.source_paths)
    return result
