"""What both fan-out workers share: settings, the session rows, timing and the JSON output.

Imported by ``fanout_ours.py`` (our venv) and ``fanout_incumbent.py`` (the incumbent's
venv), so it uses nothing but the standard library and Django, imported lazily.

A worker is started with a SQLite file, a file of connection ids (one per line, opened as
sinks on the local gateway by ``fanout_gateway.py``) and what to do:

- ``seed``: create the tables, one gateway row and a session row per id (``bulk_create``);
- ``send``: for each ``--sizes`` x ``--concurrency`` point, send one message to the first
  N sessions ``--rounds`` times (per size), after one untimed warm-up send to 100 of them.

It prints one JSON document on stdout: every timed send's rate, and the process's peak
resident memory.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

API_ID = "bench0api1"
STAGE = "bench"
REGION = "us-east-1"
#: What every recipient gets (about the size of a chat message with its envelope).
MESSAGE = {
    "type": "chat.message",
    "room": "lobby",
    "user": "bench-user",
    "text": "The quick brown fox jumps over the lazy dog. " * 3,
}
WARMUP = 100


class BenchError(RuntimeError):
    """A send did not reach every recipient: the figures would be meaningless."""


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("action", choices=["seed", "send"])
    p.add_argument("--db", type=Path, required=True, help="the SQLite file")
    p.add_argument("--ids", type=Path, help="seed: the connection ids, one per line")
    p.add_argument("--endpoint", help="send: the gateway's endpoint URL (no stage)")
    p.add_argument("--sizes", type=_ints, default=[1000], help="send: recipients, e.g. 1000,10000")
    p.add_argument("--concurrency", type=_ints, default=[0], help="send: 0 = the default")
    p.add_argument("--rounds", type=_ints, default=[3], help="send: per size, e.g. 3,1")
    p.add_argument(
        "--cold", action="store_true", help="send: no warm-up; the first send of the process"
    )
    return p


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def configure(db: Path, app: str, **extra: Any) -> None:
    """Set up Django on the SQLite file ``db`` with ``app`` installed; migrate if new."""
    import django
    from django.conf import settings
    from django.core.management import call_command

    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark-only-not-secret",
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", app],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(db)}},
        LOGGING_CONFIG=None,
        **extra,
    )
    django.setup()
    if not db.exists() or db.stat().st_size == 0:
        call_command("migrate", verbosity=0, interactive=False)


def read_ids(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line]


def bulk_seed(model: type, ids: Iterable[str], **fields: Any) -> int:
    """Create one ``model`` row per connection id, in batches; return how many."""
    rows = [model(connection_id=cid, **fields) for cid in ids]
    model.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (``ru_maxrss`` is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_points(
    send: Callable[[int, int], int],
    sizes: list[int],
    concurrencies: list[int],
    rounds: list[int],
    *,
    cold: bool = False,
) -> list[dict[str, Any]]:
    """Time ``send(n, concurrency)`` (which returns how many were delivered) per point.

    One untimed warm-up send to ``WARMUP`` sessions first at each concurrency (clients and
    connection pools are made there); then ``rounds`` timed sends per size (one number
    for every size, or one per size), the median taken. ``cold``: no warm-up, one
    concurrency, one size, one round: the first send of a fresh process, imports and
    client set-up included.
    """
    if len(rounds) == 1:
        rounds = rounds * len(sizes)
    if len(rounds) != len(sizes):
        raise ValueError("--rounds takes one number, or one per size")
    points = []
    for concurrency in concurrencies:
        if not cold:
            _check(send(WARMUP, concurrency), WARMUP, concurrency)
        warm_rss = peak_rss_mb()
        for n, repeat in zip(sizes, rounds, strict=True):
            rates, cpu = [], []
            for _ in range(repeat):
                gc.collect()
                cpu_start, start = cpu_seconds(), time.perf_counter()
                delivered = send(n, concurrency)
                elapsed, used = time.perf_counter() - start, cpu_seconds() - cpu_start
                _check(delivered, n, concurrency)
                rates.append(n / elapsed)
                cpu.append(used / n * 1e6)
            points.append(
                {
                    "sessions": n,
                    "concurrency": concurrency,
                    "rates": rates,
                    "rate": statistics.median(rates),
                    # CPU time of this process (every thread) per message: at ~1e6 / rate
                    # the sender is CPU-bound (the GIL lets one thread run at a time).
                    "cpu_us_per_message": statistics.median(cpu),
                    # Peak RSS after the warm-up (Django, boto3, the client pool loaded)
                    # and after this point's sends.
                    "peak_rss_mb_warm": warm_rss,
                    "peak_rss_mb": peak_rss_mb(),
                }
            )
            print(
                f"    {n:>7,} sessions, concurrency {concurrency or 'default':>7}: "
                f"{statistics.median(rates):>8,.0f} msg/s, "
                f"{statistics.median(cpu):>6,.0f} us CPU/msg",
                file=sys.stderr,
            )
    return points


def _check(delivered: int, expected: int, concurrency: int) -> None:
    if delivered != expected:
        raise BenchError(
            f"{delivered} of {expected} recipients got the message (concurrency {concurrency})"
        )


def emit(result: dict[str, Any]) -> None:
    result["peak_rss_mb"] = peak_rss_mb()
    json.dump(result, sys.stdout)
