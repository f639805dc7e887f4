"""``audit``: the command-line entry point. Each command module declares its commands on its
own group (``commands``); this module merges the groups, so no command module imports this one.
Heavy imports happen inside the commands, so ``--help`` is instant."""

from __future__ import annotations

import typer

from audit.cli import (
    agreement, benchmark, find_issues, labelstudio, learning_curve, report, rerank, retrain, versions, what_if,
)
from labelcore.cli import OptionErrorGroup

app = typer.Typer(
    name="audit",
    help=(
        "Audit the labels of a text-classification dataset.\n\n"
        "Typical loop: [bold]find-issues[/] (out-of-fold predictions + cleanlab) -> "
        "[bold]export-labelstudio[/] -> humans decide -> [bold]import-labelstudio[/] -> "
        "[bold]apply[/] (new dataset version) -> [bold]retrain[/] -> [bold]report[/]."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=OptionErrorGroup,  # option errors exit 64, as ConfigError does
)

for module in (find_issues, labelstudio, agreement, versions, retrain, what_if, rerank, report, benchmark,
               learning_curve):
    app.add_typer(module.commands)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
