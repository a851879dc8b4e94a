"""The click commands behind :mod:`rollback_decision.cli` (needs the ``cli`` extra): the group
and its options (:mod:`.base`), and the commands, by what they work on."""

from rollback_decision._cli import deciding, records, whatif  # noqa: F401  (they register)
from rollback_decision._cli.base import cli

__all__ = ["cli"]
