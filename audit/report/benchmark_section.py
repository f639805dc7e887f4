"""The report's "Detection on planted noise" section, from ``audit benchmark`` results."""

from __future__ import annotations

from audit.report.markdown import escape, table


def _describe(name: str, models: list[str]) -> tuple[tuple[int, int], str, str]:
    """``(order, models cell, method cell)`` of one method of a run on ``models``. Order: ours
    first, then plain cleanlab (one model, then the average), then each model alone in the
    run's order, then anything else."""
    everyone = " + ".join(escape(n) for n in models) if models else "–"
    if name == "ours":
        return (0, 0), everyone, "the toolkit's flags"
    if name.startswith("loss of "):
        model = name[len("loss of "):]
        return ((3, models.index(model) if model in models else len(models)), escape(model),
                "its own out-of-fold loss alone (flags: prediction ≠ label)")
    if name.startswith("cleanlab on the averaged models"):
        detail = escape(name[len("cleanlab on the averaged models"):])
        return (2, 0), everyone, f"plain cleanlab on the averaged models {detail}".strip()
    if name.startswith("cleanlab on "):
        return (1, 0), escape(name[len("cleanlab on "):]), "plain cleanlab (`find_label_issues`, defaults)"
    return (4, 0), everyone, escape(name)


def _models(result: dict) -> list[str]:
    return list(result.get("models") or [b.get("backend", "?") for b in result.get("backends", [])])


def _setting(result: dict) -> tuple:
    return (result["data"], result["noise"], result["rate"], result["seed"], result["n_flipped"])


def planted_noise_section(results: list[dict]) -> str:
    """Markdown: per planted-noise setting, one table of every run's methods (precision,
    recall, F1 of the flags; AUPRC of the ranking), the run's models named; the ranks of
    planted pairs. ``results``: read by :func:`audit.formats.benchmark_result.read_benchmark`.
    Runs on the same noise (data, kind, rate, seed) share a table, so "with and without a
    model" reads side by side; rows repeated between runs (the same model alone) appear once."""
    if not results:
        return ""
    parts = ["## Detection on planted noise",
             "Label errors planted with a known seed, flagged, and scored against the truth "
             "(`audit benchmark`). AUPRC scores the ranking (label quality, or a model's own loss); "
             "precision, recall and F1 score the flags."]
    settings: dict[tuple, list[dict]] = {}
    for result in results:
        settings.setdefault(_setting(result), []).append(result)
    for (data, noise, rate, seed, n_flipped), runs in settings.items():
        rows, seen = [], set()
        for result in runs:
            described = {name: _describe(name, _models(result)) for name in result["methods"]}
            for name in sorted(described, key=lambda n: described[n][0]):
                m = result["methods"][name]
                metrics = tuple(round(float(m[k]), 6) for k in ("n_flagged", "precision", "recall", "f1", "auprc"))
                _, models, method = described[name]
                if (models, method, metrics) in seen:  # the same model alone in two runs: once
                    continue
                seen.add((models, method, metrics))
                rows.append([models, method, int(m["n_flagged"]), float(m["precision"]), float(m["recall"]),
                             float(m["f1"]), float(m["auprc"])])
        parts.append(f"**{escape(data)}**: {n_flipped:,} planted *{escape(noise)}* flips "
                     f"({float(rate):.0%}, seed {seed}).\n\n"
                     + table(["models", "method", "flagged", "precision", "recall", "F1", "AUPRC"], rows,
                             align="llrrrrr"))
        ranks = {k: v for result in runs for k, v in (result.get("planted_pairs") or {}).items()}
        if ranks:
            parts.append("Planted pairs, rank among the reported confused pairs: " + "; ".join(
                f"{escape(k)}: {v if v else 'not reported'}" for k, v in ranks.items()) + ".")
    return "\n\n".join(parts)
