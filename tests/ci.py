"""Read ``CI``: on CI every prerequisite of the suite is required, elsewhere it may skip.

The one reading of the variable: ``tests/conftest.py`` imports ``in_ci`` and
``scripts/test`` runs ``python3 -m tests.ci``, so a value means the same to both. A value
that is neither yes nor no is an error, not a guess: ``CI=enabled`` read as "not CI"
would let whole legs skip unseen.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

YES = frozenset({"1", "true", "yes", "on"})
NO = frozenset({"", "0", "false", "no", "off"})


def in_ci(environ: Mapping[str, str] = os.environ) -> bool:
    """Return whether ``environ`` says this is a CI run; raise ``ValueError`` if unclear."""
    value = environ.get("CI", "")
    if value.strip().lower() in YES:
        return True
    if value.strip().lower() in NO:
        return False
    raise ValueError(
        f"CI={value!r} is neither yes nor no: use 1, true, yes or on (any case) to make"
        " every leg and service required, or 0, false, no, off or nothing"
    )


def main() -> int:
    """Print ``true`` or ``false`` for the shell; exit 2 on a value that is neither."""
    try:
        print("true" if in_ci() else "false")
    except ValueError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
