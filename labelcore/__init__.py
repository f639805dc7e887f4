"""labelcore: what both ``finetune`` (the models) and ``audit`` (the audit) stand on.

The dataset layer (:mod:`labelcore.data`), the exceptions a user can act on
(:mod:`labelcore.errors`), atomic file and folder writes (:mod:`labelcore.io`) and the CLI
plumbing shared by both command-line tools (:mod:`labelcore.cli`). It imports neither
``audit`` nor ``finetune`` (checked by the import contracts in ``pyproject.toml``).
"""

__version__ = "0.1.0"
