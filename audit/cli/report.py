"""``audit report``: the data-quality report (markdown + PNG figures, optional HTML)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Literal, Optional

import typer

from audit.cli.options import command_group
from audit.options import BAR_METRICS, BAR_ON
from labelcore.cli import console, guarded

commands = command_group()


@commands.command("report")
@guarded
def report_command(
    issues: Path = typer.Option(..., "--issues", help="The --out folder of `audit find-issues`."),
    retrain: Optional[Path] = typer.Option(None, "--retrain", help="The --out folder of `audit retrain` (adds the before/after section)."),
    learning_curve: Optional[Path] = typer.Option(None, "--learning-curve", help="The --out folder of `audit learning-curve` (adds \"too little data?\" to the decision)."),
    out: Path = typer.Option(Path("report.md"), "--out", help="Markdown file to write; figures go beside it."),
    bar: Optional[float] = typer.Option(None, "--bar", help="The requirement: the score a model must reach, in (0, 1]. Default 0.9."),
    metric: Literal[BAR_METRICS] = typer.Option("accuracy", "--metric", help="What --bar applies to: accuracy, macro_f1, or worst_class_recall (a floor every class's recall must clear)."),
    bar_on: Literal[BAR_ON] = typer.Option("auto", "--bar-on", help="Which score: test (each backend trained on the whole train split, scored on the test split), oof (out-of-fold), or auto (test when recorded)."),
    accuracy_bar: Optional[float] = typer.Option(None, "--accuracy-bar", help="Old spelling of --bar with --metric accuracy; kept working."),
    cost_per_error: Optional[float] = typer.Option(None, "--cost-per-error", help="Money one misrouted query costs (e.g. a support escalation). With --queries-per-month: a monthly cost table."),
    queries_per_month: Optional[float] = typer.Option(None, "--queries-per-month", help="Traffic, e.g. 1e7."),
    serving_cost: List[str] = typer.Option([], "--serving-cost", help="Serving cost per 1,000 queries: one number for every backend, or NAME=COST per backend (repeat)."),
    compute_cost_per_hour: Optional[float] = typer.Option(None, "--compute-cost-per-hour", help="Price of the measured device per hour: backends without --serving-cost get batched latency x price."),
    top: int = typer.Option(25, "--top", min=0, help="How many issues to list."),
    annotations: List[Path] = typer.Option([], "--annotations", help="decisions.annotations.csv of `audit import-labelstudio` (adds reviewer agreement). Repeat, one per review round, oldest first, to see whether agreement rose, overall and per confused pair."),
    benchmark: List[Path] = typer.Option([], "--benchmark", help="The --out folder of `audit benchmark` (adds detection on planted noise). Repeat to set runs on the same noise side by side, e.g. without and with a language model."),
    html: bool = typer.Option(False, "--html", help="Also write an HTML page (same name, .html) that shows the figures."),
) -> None:
    """Write a markdown data-quality report with PNG figures beside it.

    Sections: overall label health, the top issues (texts escaped), the confused pairs with their diagnosis, a heatmap of the most confused classes, per-class label quality, the models across scales, their measured costs (latency, memory), the decision (which models clear --bar with their 95% intervals, the smallest of them, or a refusal when the bar is within the noise; monthly costs; the flowchart's verdict: ship, or labels / capacity / data quantity), with --retrain, the before/after of the fix, with --annotations, the reviewers' agreement (kappas, Krippendorff's alpha, per annotator and class pair; with one file per review round, whether it rose), and, with --benchmark, detection on planted noise.

    Examples:

      audit report --issues runs/demo --out runs/demo/report.md

      audit report --issues runs/b77 --bar 0.92 --metric accuracy --out report.md

      audit report --issues runs/b77 --bar 0.92 --cost-per-error 5 --queries-per-month 1e7 --serving-cost tfidf-lr=0.002 --serving-cost minilm-lr=0.02 --out report.md

      audit report --issues runs/b77 --annotations round1/decisions.annotations.csv --annotations round2/decisions.annotations.csv --out report.md

      audit report --issues runs/b77 --benchmark runs/noise-cpu --benchmark runs/noise-with-lm --out report.md

      audit report --issues runs/b77 --learning-curve runs/b77-curve --bar 0.6 --metric worst_class_recall --out report.md --html
    """
    import glob

    from rich.markup import escape

    from audit.decision import Requirement
    from audit.report.build import write_report
    from labelcore.errors import ConfigError
    from labelcore.io import check_output_file

    if bar is not None and accuracy_bar is not None:
        raise ConfigError("give --bar or --accuracy-bar, not both")
    if accuracy_bar is not None and metric != "accuracy":
        raise ConfigError("--accuracy-bar is --bar with --metric accuracy; use --bar with --metric")
    requirement = Requirement(
        bar=bar if bar is not None else accuracy_bar if accuracy_bar is not None else 0.9, metric=metric, on=bar_on,
        cost_per_error=cost_per_error, queries_per_month=queries_per_month,
        serving_cost_per_1k=parse_serving_costs(serving_cost), compute_cost_per_hour=compute_cost_per_hour,
    )
    check_output_file(out)  # a bad --out fails before the run folder is read
    path = write_report(issues, out, retrain_dir=retrain, requirement=requirement, learning_curve_dir=learning_curve,
                        top_issues=top, html=html, annotations=annotations or None, benchmark_dirs=benchmark)
    figures = sorted(path.parent.glob(f"{glob.escape(path.stem)}-*.png"))
    console.print(f"Wrote {escape(str(path))} with {len(figures)} figure(s)")
    if html:
        console.print(f"Wrote {escape(str(path.with_suffix('.html')))}")


def parse_serving_costs(items: List[str]) -> float | dict[str, float] | None:
    """['0.01'] -> 0.01; ['a=0.01', 'b=0.2'] -> {'a': 0.01, 'b': 0.2}; [] -> None."""
    from labelcore.errors import ConfigError

    if not items:
        return None
    try:
        if len(items) == 1 and "=" not in items[0]:
            return float(items[0])
        pairs = [item.split("=", 1) for item in items]
        if any(len(p) != 2 for p in pairs):
            raise ValueError
        return {name.strip(): float(value) for name, value in pairs}
    except ValueError:
        raise ConfigError(f"--serving-cost takes a number or NAME=NUMBER (repeatable), got {items}") from None
