"""How ``ws_send`` and ``ws_prune`` show a report: a summary table, or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand

from apigw_ws.sending import SendReport

from .base import format_table

#: Failures listed one by one in the table; the rest are counted.
SHOWN_FAILURES = 20


def write_report(
    command: BaseCommand, report: SendReport, labels: dict[str, int], as_json: bool
) -> None:
    """Write ``labels`` (e.g. ``sent``, ``gone``) and the failures, as a table or JSON."""
    if as_json:
        command.stdout.write(json.dumps({**labels, **report.as_dict()}, indent=2))
        return
    rows = [[name, str(value)] for name, value in labels.items()]
    rows += [["retried", str(report.retried)], ["duration", f"{report.duration:.3f}s"]]
    command.stdout.write(format_table(["", "count"], rows))
    if report.failed:
        shown = [[f.connection_id, str(f.status or ""), f.error] for f in report.failed]
        command.stdout.write("")
        command.stdout.write(
            format_table(["failed connection", "status", "error"], shown[:SHOWN_FAILURES])
        )
        if len(shown) > SHOWN_FAILURES:
            command.stdout.write(f"... and {len(shown) - SHOWN_FAILURES} more (see --json)")


@contextmanager
def progress_bar(total: int, enabled: bool, description: str) -> Any:
    """Yield ``update(n)`` for a tqdm bar on a terminal, or a no-op elsewhere."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    try:
        from tqdm import tqdm
    except ImportError:  # the `cli` extra is not installed: no bar, same result
        yield None
        return
    with tqdm(total=total, desc=description, unit="conn", file=sys.stderr) as bar:
        update: Callable[[int], object] = bar.update
        yield update
