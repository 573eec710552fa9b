"""A busy database is not a bug: retry the transaction a few times, then answer 503.

SQLite answers ``database is locked`` when writers collide (above all with Django's
default deferred transactions, whose read-then-write cannot wait for the lock);
PostgreSQL aborts one side of a deadlock or a serialization conflict. Each of these leaves
nothing behind once its transaction rolled back, so the transaction can run again; when it
keeps failing the client gets ``503`` with ``Retry-After`` (API Gateway then refuses the
connect, and the browser retries), never a 500.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, transaction

from apigw_ws.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: How many times a transaction runs before the request gets 503.
ATTEMPTS = 4
#: SQLite's lock messages; PostgreSQL's serialization failure, deadlock and lock timeout.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database schema is locked")
_POSTGRES_BUSY = frozenset({"40001", "40P01", "55P03"})


def is_busy(exc: BaseException) -> bool:
    """Return whether ``exc`` says the database was busy, not that the query was wrong."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return code in _POSTGRES_BUSY or any(text in str(exc) for text in _SQLITE_BUSY)


def unavailable(exc: BaseException) -> ServiceUnavailable:
    """Return the 503 refusal for a busy database."""
    return ServiceUnavailable(f"the database stayed busy: {exc}", retry_after=1)


def run_atomic(func: Callable[[], T], *, attempts: int = ATTEMPTS, using: str | None = None) -> T:
    """Run ``func`` in ``transaction.atomic()``; retry it while the database is busy.

    Inside an outer transaction (``ATOMIC_REQUESTS``) a retry cannot help: the outer
    transaction is what failed, so the first busy error is the 503.
    """
    nested = transaction.get_connection(using).in_atomic_block
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(using=using):
                return func()
        except OperationalError as exc:
            if not is_busy(exc):
                raise
            if nested or attempt == attempts:
                raise unavailable(exc) from exc
            logger.info("apigw_ws: database busy (%s), attempt %d of %d", exc, attempt, attempts)
            # Jittered backoff so that the colliding writers do not collide again.
            time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - not a secret
    raise AssertionError("unreachable")
