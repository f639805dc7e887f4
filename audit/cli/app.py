"""``audit``: the command-line entry point. Each command lives in its own module and
registers itself on :data:`app`; heavy imports happen inside the commands so ``--help`` is
instant."""

from __future__ import annotations

import typer

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
)


def _register_commands() -> None:
    # Importing a command module registers its commands on `app`.
    from audit.cli import find_issues  # noqa: F401
    from audit.cli import versions  # noqa: F401
    from audit.cli import retrain  # noqa: F401
    from audit.cli import report  # noqa: F401
    from audit.cli import benchmark  # noqa: F401
    from audit.cli import labelstudio  # noqa: F401
    from audit.cli import agreement  # noqa: F401
    from audit.cli import what_if  # noqa: F401
    from audit.cli import rerank  # noqa: F401


def main() -> None:
    _register_commands()
    app()


if __name__ == "__main__":
    main()
