"""Argument types for the command lines: a bad value is a clear error naming the option.

argparse reports an ``ArgumentTypeError`` as ``argument --port: ...`` (a ``CommandError``
in a management command), never as a traceback or a value silently taken for another.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

#: Most parallel sends or checks one command may ask for: each is a task and a socket.
MAX_CONCURRENCY = 1024
#: Digits an integer option may have before it is refused unread (Python's own limit is
#: 4300, and no id, port or count needs more than a few).
_MAX_DIGITS = 18


def _integer(value: str) -> int:
    text = value.strip()
    digits = text.lstrip("+-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > _MAX_DIGITS:
        raise argparse.ArgumentTypeError(f"{value[:40]!r} is not a whole number")
    return int(text)


def int_between(low: int, high: int) -> Callable[[str], int]:
    """Return a type accepting a whole number from ``low`` to ``high``."""

    def parse(value: str) -> int:
        number = _integer(value)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number} is not between {low} and {high}")
        return number

    return parse


def seconds(minimum: float = 0.0, *, allow_zero: bool = True) -> Callable[[str], float]:
    """Return a type accepting a finite number of seconds (not NaN, not infinite)."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value[:40]!r} is not a number") from None
        if not math.isfinite(number):
            raise argparse.ArgumentTypeError(f"{value[:40]!r} is not a finite number")
        if number < minimum or (number == 0 and not allow_zero):
            bound = f"at least {minimum}" if allow_zero else f"more than {minimum}"
            raise argparse.ArgumentTypeError(f"{number} seconds: must be {bound}")
        return number

    return parse


def fraction(value: str) -> float:
    """Accept a finite number from 0 to 1."""
    number = seconds()(value)
    if number > 1:
        raise argparse.ArgumentTypeError(f"{number} is not between 0 and 1")
    return number


#: A TCP port to listen on; 0 picks a free one.
port = int_between(0, 65535)
#: Parallel sends or checks.
concurrency = int_between(1, MAX_CONCURRENCY)
