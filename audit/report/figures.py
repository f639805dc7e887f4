"""The report's PNG figures (matplotlib, Agg backend: no display needed).

Each function draws one figure into ``path`` and returns it; inputs are plain arrays/lists."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

DPI = 120


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def confusion_heatmap(confusion: np.ndarray, classes: Sequence[str], path: Path, *, title: str) -> Path:
    """Heatmap of a (M, M) confusion block, each row normalised to shares of the given label.

    The diagonal (agreement) is greyed out and the colour scale fits the off-diagonal cells,
    so the confusion itself is visible; every non-zero cell is annotated with its share."""
    plt = _pyplot()
    m = len(classes)
    share = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    off = np.ma.masked_where(np.eye(m, dtype=bool), share)
    top = max(float(off.max()) if off.count() else 0.0, 0.05)
    size = max(5.0, 0.55 * m + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    ax.imshow(np.where(np.eye(m, dtype=bool), 1.0, np.nan), cmap="Greys", vmin=0, vmax=5)
    image = ax.imshow(off, cmap="Reds", vmin=0, vmax=top)
    ax.set_xticks(range(m), [_short(c) for c in classes], rotation=45, ha="right", fontsize=9)
    ax.set_yticks(range(m), [_short(c) for c in classes], fontsize=9)
    ax.set_xlabel("predicted (out-of-fold ensemble)")
    ax.set_ylabel("given label")
    ax.set_title(title, fontsize=11)
    if m <= 20:
        for i in range(m):
            for j in range(m):
                if confusion[i, j]:
                    text = f"{share[i, j]:.2f}".lstrip("0") if share[i, j] < 1 else "1"
                    dark = i != j and share[i, j] > 0.6 * top
                    ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the given label's examples (off-diagonal)")
    return _save(fig, path)


def class_quality_bars(classes: Sequence[str], scores: Sequence[float], path: Path, *, title: str) -> Path:
    """Horizontal bars of per-class label quality (lower = noisier), worst at the top."""
    plt = _pyplot()
    n = len(classes)
    fig, ax = plt.subplots(figsize=(7.5, max(2.5, 0.32 * n + 1.2)))
    y = np.arange(n)[::-1]
    colours = ["#c0392b" if s < 0.9 else "#e67e22" if s < 0.97 else "#27ae60" for s in scores]
    ax.barh(y, scores, color=colours)
    ax.set_yticks(y, [_short(c, 34) for c in classes], fontsize=9)
    ax.set_xlim(min(0.5, float(np.min(scores)) - 0.05) if n else 0, 1.0)
    ax.set_xlabel("label quality score (cleanlab; 1 = no estimated label noise)")
    ax.set_title(title, fontsize=11)
    for yi, s in zip(y, scores):
        ax.text(s, yi, f" {s:.3f}", va="center", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def model_scales(rows: list[dict], path: Path, *, bar: float | None) -> Path:
    """Accuracy against model size (parameters, log scale) or, when sizes are unknown,
    against training time; out-of-fold and test accuracy as two markers."""
    plt = _pyplot()
    by_params = any(r.get("n_parameters") for r in rows)
    key = "n_parameters" if by_params else "seconds"
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for metric, marker, label in (("oof_accuracy", "o", "out-of-fold accuracy"), ("test_accuracy", "s", "test accuracy")):
        pts = [(float(r[key]), float(r[metric]), r["name"]) for r in rows
               if r.get(key) is not None and r.get(metric) is not None]
        if pts:
            xs, ys, names = zip(*pts)
            ax.scatter(xs, ys, marker=marker, s=55, label=label, zorder=3)
            if metric == "oof_accuracy":
                for x, y, name in pts:
                    ax.annotate(_short(name, 28), (x, y), textcoords="offset points", xytext=(6, -12), fontsize=8)
    if bar is not None:
        ax.axhline(bar, color="#c0392b", linestyle="--", linewidth=1, label=f"accuracy bar {bar:g}")
    ax.set_xscale("log")
    ax.set_xlabel("parameters (log scale)" if by_params else "training time, seconds (log scale; sizes unknown)")
    ax.set_ylabel("accuracy")
    ax.set_title("Models across scales", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")  # away from the points
    return _save(fig, path)


def before_after_intervals(result: dict, path: Path) -> Path:
    """Forest plot: each backend / test set / metric difference (after - before) with its interval."""
    plt = _pyplot()
    from audit.retrain import distinct_results

    items = [(f"{r['backend']} · {r['evaluation']} · {m}", s) for r in distinct_results(result) for m, s in r["metrics"].items()]
    fig, ax = plt.subplots(figsize=(8, max(2.2, 0.45 * len(items) + 1.2)))
    y = np.arange(len(items))[::-1]
    for yi, (_, s) in zip(y, items):
        colour = {"gain": "#27ae60", "loss": "#c0392b"}.get(s["verdict"], "#7f8c8d")
        ax.errorbar(s["diff"], yi, xerr=[[s["diff"] - s["ci_low"]], [s["ci_high"] - s["diff"]]],
                    fmt="o", color=colour, capsize=4)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [_short(label, 60) for label, _ in items], fontsize=8)
    pct = int(round(100 * result["confidence"]))
    ax.set_xlabel(f"after − before, with its {pct}% paired bootstrap interval")
    ax.set_title("Did the cleanup help?", fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def learning_curve_figure(curve, path: Path, *, bar: float | None = None) -> Path:
    """Test accuracy against training rows (log scale), one line per backend with its 95%
    interval shaded; ``curve`` has the columns of ``learning_curve.csv``. Written atomically."""
    import io

    from labelcore.io import write_bytes

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for backend, g in curve.groupby("backend", sort=False):
        g = g.sort_values("n_train")
        ax.plot(g["n_train"], g["accuracy"], marker="o", label=str(backend))
        if "accuracy_low" in g and "accuracy_high" in g:
            ax.fill_between(g["n_train"], g["accuracy_low"], g["accuracy_high"], alpha=0.15)
    if bar is not None:
        ax.axhline(bar, color="grey", linestyle="--", linewidth=1, label=f"bar {bar:g}")
    ax.set_xscale("log")
    ax.set_xlabel("training rows (stratified share of the train split)")
    ax.set_ylabel("test accuracy (95% interval)")
    ax.set_title("Learning curves")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=DPI, bbox_inches="tight", format="png")
    plt.close(fig)
    return write_bytes(buffer.getvalue(), path)


def _short(text: str, limit: int = 26) -> str:
    """Truncate a label; ``$`` is escaped so matplotlib does not read it as mathtext."""
    text = str(text)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")
