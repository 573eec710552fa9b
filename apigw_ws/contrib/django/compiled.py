"""A ``values_list`` query compiled by the ORM once, then run again with new values.

Building and compiling a queryset costs the message path far more than running its SQL
(on PostgreSQL about twenty times a cursor call; on a SQLite file about fifteen). A
:class:`CompiledQuery` lets the ORM write the SQL and pick the database converters once
per database, with *marker* values standing where the real values go, and then
runs that same SQL with the real values: the SQL is Django's, the converters are
Django's (``SQLCompiler.get_converters`` and ``apply_converters``), and nothing is
hand-written per database.

    by_connection = CompiledQuery(
        lambda cid: Session.objects.filter(connection_id=cid).values_list("pk", "user_id"),
        markers=("\\x00cid\\x00",),
    )
    rows = by_connection.rows("abc=", using="default")

A marker must reach the SQL parameters unchanged (a string or an integer no real value
takes), exactly once. Where one does not (a field that rewrites it), the query is simply
built and run through the ORM every time: slower, never wrong.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections


class _Compiled:
    __slots__ = ("compiler", "converters", "params", "slots", "sql")

    def __init__(self, queryset: Any, markers: Sequence[Any], using: str) -> None:
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        self.slots: list[int] = []
        for marker in markers:
            found = [i for i, param in enumerate(params) if param == marker]
            if len(found) != 1 or type(params[found[0]]) is not type(marker):
                raise LookupError(f"marker {marker!r} is not one parameter of the SQL")
            self.slots.append(found[0])
        self.sql, self.params = sql, list(params)
        self.compiler = compiler
        fields = [select[0] for select in compiler.select[0 : compiler.col_count]]
        self.converters = compiler.get_converters(fields)


class CompiledQuery:
    """``build(*values)`` (a ``values_list`` queryset) compiled once per database."""

    def __init__(self, build: Callable[..., Any], markers: Sequence[Any]) -> None:
        self._build = build
        self._markers = tuple(markers)
        # One compiled form per database alias, shared by every thread's connection to it
        # (the SQL and the converters depend only on the backend; a compiler holds no
        # per-query state once compiled). None where the markers did not survive
        # compilation and the ORM runs every time. Keyed by alias, not by connection
        # object: threads come and go (runserver starts one per request), aliases don't.
        self._compiled: dict[str, _Compiled | None] = {}
        self._lock = threading.Lock()

    def rows(self, *values: Any, using: str) -> list[Any]:
        """Return the rows (lists) of the query with ``values`` in place of the markers."""
        try:
            compiled = self._compiled[using]
        except KeyError:
            compiled = self._compile(using)
        if compiled is None:
            return [list(row) for row in self._build(*values).using(using)]
        params = compiled.params.copy()
        for slot, value in zip(compiled.slots, values, strict=True):
            params[slot] = value
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            return list(compiled.compiler.apply_converters(rows, compiled.converters))
        return [list(row) for row in rows]

    def _compile(self, using: str) -> _Compiled | None:
        with self._lock:
            try:
                compiled: _Compiled | None = _Compiled(
                    self._build(*self._markers), self._markers, using
                )
            except LookupError:
                compiled = None
            self._compiled[using] = compiled
        return compiled
