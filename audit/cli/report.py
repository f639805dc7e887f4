"""``audit report``: the data-quality report (markdown + PNG figures, optional HTML)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer

from audit.cli.options import command_group
from audit.options import BAR_ON
from labelcore.cli import console, guarded

commands = command_group()


@commands.command("report")
@guarded
def report_command(
    issues: Path = typer.Option(..., "--issues", help="The --out folder of `audit find-issues`."),
    retrain: Path | None = typer.Option(None, "--retrain", help="The --out folder of `audit retrain` (adds the before/after section)."),
    out: Path = typer.Option(Path("report.md"), "--out", help="Markdown file to write; figures go beside it."),
    accuracy_bar: float = typer.Option(0.9, "--accuracy-bar", help="Decision rule: the smallest model reaching this accuracy."),
    bar_on: Literal[BAR_ON] = typer.Option("oof", "--bar-on", help="Which accuracy the bar applies to: oof (out-of-fold) or test."),
    top: int = typer.Option(25, "--top", min=0, help="How many issues to list."),
    annotations: Path | None = typer.Option(None, "--annotations", help="decisions.annotations.csv of `audit import-labelstudio` (adds reviewer agreement)."),
    html: bool = typer.Option(False, "--html", help="Also write an HTML page (same name, .html) that shows the figures."),
) -> None:
    """Write a markdown data-quality report with PNG figures beside it.

    Sections: overall label health (flag counts, cleanlab's overall_label_health_score), the top issues (texts escaped), the confused pairs with their diagnosis, a heatmap of the most confused classes, per-class label quality, the models compared across scales with the decision rule (the smallest model clearing --accuracy-bar), with --retrain, the before/after of the fix with its confidence intervals, and, with --annotations, the reviewers' agreement (kappas, Krippendorff's alpha, per annotator and class pair).

    Examples:

      audit report --issues runs/demo --out runs/demo/report.md

      audit report --issues runs/b77 --retrain runs/retrain --accuracy-bar 0.92 --out report.md --html
    """
    import glob

    from rich.markup import escape

    from audit.report.build import write_report
    from labelcore.io import check_output_file

    check_output_file(out)  # a bad --out fails before the run folder is read
    path = write_report(issues, out, retrain_dir=retrain, accuracy_bar=accuracy_bar, bar_on=bar_on, top_issues=top,
                        html=html, annotations=annotations)
    figures = sorted(path.parent.glob(f"{glob.escape(path.stem)}-*.png"))
    console.print(f"Wrote {escape(str(path))} with {len(figures)} figure(s)")
    if html:
        console.print(f"Wrote {escape(str(path.with_suffix('.html')))}")
