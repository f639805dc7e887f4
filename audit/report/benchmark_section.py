"""The report's "Detection on planted noise" section, from ``audit benchmark`` results."""

from __future__ import annotations

from audit.report.markdown import escape, table


def _row_label(name: str, models: list[str]) -> tuple[str, str]:
    """(models, method) cells of one method row of a run on ``models``."""
    everyone = " + ".join(escape(n) for n in models) if models else "–"
    if name == "ours":
        return everyone, "the toolkit's flags"
    if name.startswith("loss of "):
        return escape(name[len("loss of "):]), "its own out-of-fold loss alone (flags: prediction ≠ label)"
    if name.startswith("cleanlab on the averaged models"):
        return everyone, f"plain cleanlab on the averaged models {escape(name[len('cleanlab on the averaged models'):])}".strip()
    if name.startswith("cleanlab on "):
        return escape(name[len("cleanlab on "):]), "plain cleanlab (`find_label_issues`, defaults)"
    return everyone, escape(name)


def _models(result: dict) -> list[str]:
    return list(result.get("models") or [b.get("backend", "?") for b in result.get("backends", [])])


def _method_rank(name: str, models: list[str]) -> tuple[int, int]:
    """Ours first, then plain cleanlab (one model, then the average), then each model alone in
    the run's order, then anything else."""
    if name == "ours":
        return 0, 0
    if name.startswith("loss of "):
        model = name[len("loss of "):]
        return 3, models.index(model) if model in models else len(models)
    if name.startswith("cleanlab on the averaged models"):
        return 2, 0
    if name.startswith("cleanlab on "):
        return 1, 0
    return 4, 0


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
            order = sorted(result["methods"], key=lambda n: _method_rank(n, _models(result)))
            for name in order:
                m = result["methods"][name]
                metrics = tuple(round(float(m[k]), 6) for k in ("n_flagged", "precision", "recall", "f1", "auprc"))
                models, method = _row_label(name, _models(result))
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
