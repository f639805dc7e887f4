"""The report's "Costs per scale" and "Decision" sections, rendered from
:class:`audit.decision.Decision` (no computing here beyond formatting)."""

from __future__ import annotations

from audit.decision import Decision
from audit.report.markdown import escape, table
from audit.report.models import human_count

METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1", "worst_class_recall": "worst-class recall"}
SPLIT_NAMES = {"test": "test", "oof": "out-of-fold"}


def _f(x, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _ci(ci) -> str:
    lo, hi = ci if ci else (None, None)
    return "–" if lo is None or hi is None else f"[{lo:.3f}, {hi:.3f}]"


def _money(x) -> str:
    return "–" if x is None else f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}" if abs(x) >= 1 else f"{x:.4g}"


def costs_markdown(decision: Decision) -> str:
    """Latency, memory and parameters per backend, as ``find-issues`` measured them."""
    rows, devices, loads = [], set(), []
    for c in decision.candidates:
        k = c.get("costs") or {}
        if not k:
            continue
        devices.add(k.get("device") or "?")
        if k.get("load_average_1m") is not None:
            loads.append(k["load_average_1m"])
        b1, bb = k.get("batch1_ms") or {}, k.get("batched_ms_per_example") or {}
        rows.append([escape(c["name"]), human_count(k.get("n_parameters") or c["n_parameters"]), _f(b1.get("median"), 2), _f(b1.get("p95"), 2),
                     _f(bb.get("median"), 3), _f(bb.get("p95"), 3), k.get("batch_size"),
                     _f(k.get("inference_extra_mb"), 0), _f(k.get("peak_rss_mb"), 0),
                     _f(k.get("gpu_peak_mb"), 0) if k.get("gpu_peak_mb") is not None else "–"])
    if not rows:
        return ("## Costs per scale\n\nNo inference costs in summary.json: run `audit find-issues` with "
                "`--final` (the default) to measure latency and memory.")
    n = decision.candidates[0].get("costs", {}) or {}
    load = f"; 1-minute load average {min(loads):.1f}–{max(loads):.1f} while measuring" if loads else ""
    return ("## Costs per scale\n\n"
            + table(["backend", "parameters", "batch 1 median (ms)", "batch 1 p95 (ms)", "batched median (ms/example)",
                     "batched p95 (ms/example)", "batch", "inference memory (MB)", "process peak (MB)", "GPU peak (MB)"],
                    rows, align="lrrrrrrrrr")
            + f"\n\nMeasured by `audit find-issues` on {', '.join(sorted(escape(d) for d in devices))}, with each "
            f"backend trained on the whole split, on {n.get('n_rows', '?')} texts, caches off{load}. "
            "*Inference memory* is the process's resident memory added while predicting; *process peak* "
            "includes the weights and everything else loaded. Wall-clock times on a shared machine vary with its load.")


def decision_markdown(decision: Decision) -> str:
    """Which models clear the bar (with intervals), the choice or the refusal, the cost table
    and the flowchart's verdict with its numbers."""
    req = decision.requirement
    metric = METRIC_NAMES[req.metric]
    where = SPLIT_NAMES[decision.split]
    lines = [f"## Decision\n\nRequirement: {where} {metric} ≥ {req.bar:g}"
             + (" (every class's recall)" if req.metric == "worst_class_recall" else "")
             + ". A model *clears* when its measured value reaches the bar; the 95% interval "
             "(Wilson for accuracy, bootstrap otherwise) says how much of that is noise.", ""]
    rows = []
    for c in decision.candidates:
        status = "clears" if c["clears"] else "below"
        if c["bar_in_interval"]:
            status += " (bar within interval)"
        mark = " ✅" if decision.pick["choice"] == c["name"] else ""
        worst = f" ({escape(c['worst_class'])})" if req.metric == "worst_class_recall" and c.get("worst_class") else ""
        rows.append([escape(c["name"]) + mark, human_count(c["n_parameters"]), _f(c["value"]) + worst, _ci(c["ci"]), status])
    lines += [table(["backend", "parameters", f"{where} {metric}", "95% interval", "against the bar"], rows,
                    align="lrrcl"), ""]
    pick = decision.pick
    if pick["choice"] is not None:
        choice = next(c for c in decision.candidates if c["name"] == pick["choice"])
        lines.append(f"**Ship {escape(choice['name'])}**: the smallest model that clears the bar "
                     f"({human_count(choice['n_parameters'])} parameters, {where} {metric} {_f(choice['value'])}, "
                     f"95% interval {_ci(choice['ci'])}). Larger models cost more latency, memory and complexity "
                     "for no requirement met.")
        if pick["marginal"]:
            lines.append(f"\nIts interval includes the bar: it clears on this measurement, but a larger test set "
                         f"could put it below.")
        if pick["might_also_clear"]:
            lines.append(f"\n{', '.join(escape(n) for n in pick['might_also_clear'])} (smaller) falls short, "
                         "but its interval reaches the bar: a larger test set might show that it clears too.")
    elif pick["refused"] is not None:
        small, big = pick["refused"]["models"]
        lines.append(f"**No pick: the bar is within the noise.** {req.bar:g} lies inside the 95% intervals of both "
                     f"{escape(small)} (below the bar) and {escape(big)} (above it): this measurement cannot tell "
                     "which side of the bar either falls on. Score them on a larger test set, or decide between "
                     "them on cost.")
    elif all(c["value"] is None for c in decision.candidates):
        lines.append(f"**No {where} {metric} is recorded for any backend.** Run `audit find-issues` with `--final` "
                     "(the default) on a dataset with a test split, or use `--bar-on oof`.")
    else:
        best = max((c for c in decision.candidates if c["value"] is not None), key=lambda c: c["value"], default=None)
        lines.append("**No model clears the bar.**" + (
            f" The best is {escape(best['name'])} at {_f(best['value'])} ({_ci(best['ci'])}), "
            f"{req.bar - best['value']:.3f} short." if best else ""))
    lines += ["", _costs_table(decision), _curves(decision), _verdict(decision)]
    return "\n".join(line for line in lines if line is not None).rstrip()


def _costs_table(decision: Decision) -> str:
    req = decision.requirement
    if not decision.costs:
        return ("With `--cost-per-error` and `--queries-per-month` (and a serving cost: `--serving-cost` or "
                "`--compute-cost-per-hour`) this section adds the expected monthly cost of each model.\n")
    rows = []
    for r in decision.costs:
        lo, hi = r["error_cost_range"]
        serving = _money(r["serving_cost_per_1k"]) + (" (from latency)" if r["serving_source"] == "from latency" else "")
        rows.append([escape(r["name"]) + (" **(cheapest)**" if r["cheapest"] else ""), _f(r["accuracy"]),
                     _money(r["errors_per_month"]), _money(r["error_cost"]),
                     "–" if lo is None or hi is None else f"{_money(lo)}–{_money(hi)}",
                     serving, _money(r["serving_cost"]), _money(r["total"]), "yes" if r["clears"] else "no"])
    note = ""
    if any(r["serving_cost_per_1k"] is None for r in decision.costs):
        note = " A model without a serving cost has no total (give `--serving-cost NAME=COST` or `--compute-cost-per-hour`)."
    if any(r["serving_source"] == "from latency" for r in decision.costs):
        note += (f" *From latency*: batched median ms/example × 1,000 queries ÷ 3,600 s × "
                 f"{_money(req.compute_cost_per_hour)} per device-hour (the device measured, fully used).")
    cheapest = next((r for r in decision.costs if r["cheapest"]), None)
    clearing = [r for r in decision.costs if r["clears"] and r["total"] is not None]
    tail = ""
    if cheapest and clearing:
        best_clearing = min(clearing, key=lambda r: r["total"])
        if best_clearing is not cheapest:
            tail = (f" The cheapest model that clears the bar is {escape(best_clearing['name'])} "
                    f"({_money(best_clearing['total'])} a month).")
    return ("### Expected monthly cost\n\n"
            f"{req.queries_per_month:,.0f} queries a month, {_money(req.cost_per_error)} per error; errors = queries × "
            f"(1 − {SPLIT_NAMES[decision.split]} accuracy), the range from the accuracy's 95% interval.{note}\n\n"
            + table(["backend", "accuracy", "errors / month", "error cost", "error cost (95%)", "serving / 1k queries",
                     "serving / month", "total / month", "clears the bar"], rows, align="lrrrrrrrc")
            + tail + "\n")


def _curves(decision: Decision) -> str:
    if not decision.curves:
        return ("Too little data? Run `audit learning-curve` and pass its folder with `--learning-curve` "
                "to answer it.\n")
    bar = decision.requirement.bar
    rows = [[escape(c["backend"]), human_count(c["n_parameters"]), _f(c["value_full"]),
             "–" if c["gain_per_doubling"] is None else f"{c['gain_per_doubling']:+.3f}",
             "yes" if c["still_rising"] else "no",
             "never" if c["first_fraction_at_bar"] is None else f"{c['first_fraction_at_bar']:g} ({c['first_n_train_at_bar']:,} rows)"]
            for c in decision.curves]
    metric = METRIC_NAMES.get(decision.curves[0]["metric"], decision.curves[0]["metric"])
    reached = [c for c in decision.curves if c["first_fraction_at_bar"] is not None]
    answer = ""
    if reached:
        fewest = min(c["first_n_train_at_bar"] for c in reached)
        least = [c["backend"] for c in reached if c["first_n_train_at_bar"] == fewest]
        never = [c["backend"] for c in decision.curves if c["first_fraction_at_bar"] is None]
        answer = (f" {', '.join(escape(b) for b in least)} reach{'es' if len(least) == 1 else ''} the bar with the "
                  f"least data ({fewest:,} training rows)"
                  + (f"; {', '.join(escape(b) for b in never)} never do{'es' if len(never) == 1 else ''}." if never else "."))
    rising = [c["backend"] for c in decision.curves if c["still_rising"]]
    verdict = (f"Still rising at 100%: {', '.join(escape(r) for r in rising)} - more labelled data should help "
               "them." if rising else "No curve is still rising at 100%: more of the same data is not the cure.")
    return ("### Too little data?\n\n"
            + table(["backend", "parameters", f"test {metric} at 100%", "gain per doubling (last step)", "still rising",
                     f"first share reaching {bar:g}"], rows, align="lrrrcl")
            + f"\n\n{verdict}{answer} *Still rising* = at least +{_rising_threshold(decision):.3f} per doubling "
            "of the training data over the last step of the curve (test split, one seed).\n")


def _rising_threshold(decision: Decision) -> float:
    return decision.verdict.get("rising_per_doubling", 0.01)


def _verdict(decision: Decision) -> str:
    v = decision.verdict
    branch = v.get("branch")
    if branch == "ship":
        return f"### Verdict\n\n**Ship {escape(decision.pick['choice'])}** - the smallest model that clears the bar."
    if branch == "within noise":
        return "### Verdict\n\n**Undecided: the bar is within the noise** of two models' intervals (see above)."
    lines = ["### Verdict", ""]
    gap = v.get("gap")
    lines.append(f"No model clears the bar{'' if gap is None else f' (the best is {gap:.3f} short)'}. "
                 f"The evidence points to: **{ {'labels': 'labels - fix the data first', 'capacity': 'capacity - a bigger model', 'data quantity': 'data quantity - more labelled data (or a bigger base with LoRA, which needs less)', 'unknown': 'no branch (no pairs diagnosis or learning curve to go on)'}[branch] }**.")
    ev = v.get("evidence", {})
    if "labels" in ev:
        e = ev["labels"]
        lines.append(f"- *labels*: {e['n_pairs']} pair(s) every model confuses ({', '.join(escape(p) for p in e['pairs'])}"
                     f"{' ...' if e['n_pairs'] > len(e['pairs']) else ''}); fixing them (merge, relabel or a guideline) "
                     f"is worth about {_gain(e['gain'])} of ensemble out-of-fold accuracy (sum of their merge gains in pairs.csv).")
    if "capacity" in ev:
        e = ev["capacity"]
        lines.append(f"- *capacity*: {e['n_pairs']} pair(s) only smaller models confuse ({', '.join(escape(p) for p in e['pairs'])}); "
                     f"{escape(e['largest'])} scores {_f(e['largest_value'])} against {_f(e['next_value'])} for "
                     f"{escape(e['next'])} ({_gain(e['gain'])}).")
    if "data quantity" in ev:
        e = ev["data quantity"]
        lines.append(f"- *data quantity*: curves still rising at 100% for {', '.join(escape(b) for b in e['backends'])}; "
                     f"{escape(e['best'])} gains {_gain(e['gain'])} per doubling of the training data.")
    if not ev:
        lines.append("- no evidence for any branch: pairs.csv has no `data`/`capacity` pairs and no learning curve was given.")
    return "\n".join(lines)


def _gain(x) -> str:
    return "–" if x is None else f"{x * 100:+.1f} points"
