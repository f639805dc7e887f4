"""``audit agreement``: how far do the reviewers agree?"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from audit.cli.options import command_group
from labelcore.cli import console, guarded


commands = command_group()


@commands.command("agreement")
@guarded
def agreement_command(
    annotations: Path = typer.Option(..., "--annotations", help="decisions.annotations.csv, written by "
                                     "`audit import-labelstudio` next to the decision log."),
    issues: Optional[Path] = typer.Option(None, "--issues", file_okay=False, help="The find-issues folder the "
                                          "tasks came from: adds agreement with the models and per class pair."),
    min_pair_tasks: int = typer.Option(5, "--min-pair-tasks", min=2, help="A class pair is listed when at least "
                                       "N of its tasks have two or more votes."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the figures as JSON (keys "
                                            "cohen_kappa, fleiss_kappa, krippendorff_alpha, per_annotator, ...)."),
) -> None:
    """Measure agreement between reviewers from their per-annotator votes.

    A vote is the decision with its label (relabel->x and relabel->y disagree); skipped and invalid annotations are left out, and a changed annotation counts once (its last version). Prints Cohen's kappa (exactly two annotators), Fleiss' kappa (tasks with the most common number of votes), Krippendorff's alpha (nominal; any number of votes per task), each annotator's agreement with the majority of the others and with the models' suggestion, and agreement per class pair.

    Agreement needs tasks seen by two people: export with --overlap (e.g. 0.2 sends a fifth of the tasks to two annotators).

    Examples:

      audit agreement --annotations runs/b77/decisions.annotations.csv

      audit agreement --annotations runs/b77/decisions.annotations.csv --issues runs/b77 --json runs/b77/agreement.json
    """
    from rich.table import Table

    from audit.agreement import labels_from_issues, read_votes, reviewer_agreement
    from audit.formats.run_folder import ISSUES, read_run_folder
    from labelcore.io import write_json

    labels = labels_from_issues(read_run_folder(issues, require=[ISSUES]).issues) if issues else None
    result = reviewer_agreement(read_votes(annotations), labels=labels, min_pair_tasks=min_pair_tasks)

    def num(x):
        return "–" if x is None else f"{x:.3f}"

    console.print(f"{result['n_votes']} valid votes by {len(result['annotators'])} annotator(s) on "
                  f"{result['n_tasks']} tasks; {result['n_tasks_multi']} with two or more votes.")
    overall = Table(title="Agreement", show_header=False)
    for name, value in (("Cohen's kappa", num(result["cohen_kappa"])),
                        ("Fleiss' kappa", f"{num(result['fleiss_kappa'])} ({result['fleiss_n_tasks']} tasks)"),
                        ("Krippendorff's alpha (nominal)", num(result["krippendorff_alpha"])),
                        ("observed agreement", num(result["observed_agreement"]))):
        overall.add_row(name, value)
    console.print(overall)
    people = Table(title="Per annotator")
    for column in ("annotator", "votes", "with the others' majority", "with the models"):
        people.add_column(column)
    for name, a in result["per_annotator"].items():
        people.add_row(name, str(a["n_votes"]), f"{num(a['agreement_with_consensus'])} ({a['n_compared']})",
                       f"{num(a['agreement_with_models'])} ({a['n_model_compared']})")
    console.print(people)
    if result["per_pair"]:
        pairs = Table(title="Per class pair")
        for column in ("label a", "label b", "tasks", "observed", "alpha"):
            pairs.add_column(column)
        for p in result["per_pair"]:
            pairs.add_row(p["label_a"], p["label_b"], str(p["n_tasks"]), num(p["observed_agreement"]),
                          num(p["krippendorff_alpha"]))
        console.print(pairs)
    if json_out:
        console.print(f"Wrote {write_json(result, json_out)}")
