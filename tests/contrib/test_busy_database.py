"""A busy database answers 503 with ``Retry-After`` after bounded retries, never 500.

The errors are Django's own ``OperationalError`` with SQLite's and PostgreSQL's texts and
codes, raised by a plugin hook inside the connect transaction: the test database waits 30 s
for a real lock, so a real one would only make the test slow. The real collision (20
concurrent connects on a SQLite file) is ``tests/e2e/test_sqlite_concurrency.py``.
"""

import logging

import pytest
from django.core.checks import run_checks
from django.db import OperationalError, ProgrammingError
from django.test import override_settings

import apigw_ws
from apigw_ws.contrib.django import busy
from apigw_ws.contrib.django.checks import sqlite_lacks
from apigw_ws.contrib.django.models import WebSocketSession

# Transactions of their own: inside the test's transaction a retry cannot help.
pytestmark = pytest.mark.django_db(transaction=True)

LOCKED = "database is locked"


class Deadlock(Exception):
    sqlstate = "40P01"


class Busy:
    """Raise ``error`` from ``apigw_ws_authorize_connect`` the first ``times`` calls."""

    def __init__(self, times, error=None):
        self.times = times
        self.calls = 0
        self.error = error or (lambda: OperationalError(LOCKED))

    @apigw_ws.hookimpl
    def apigw_ws_authorize_connect(self, context):
        self.calls += 1
        if self.calls <= self.times:
            raise self.error()


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    monkeypatch.setattr(busy.time, "sleep", lambda seconds: None)


def test_a_connect_that_meets_a_locked_database_runs_again_and_opens(ws_client, ws_plugins):
    plugin = Busy(busy.ATTEMPTS - 1)
    ws_plugins.add(plugin)
    conn = ws_client.connect(channel="lobby")
    assert conn.response.status_code == 200
    assert plugin.calls == busy.ATTEMPTS
    assert WebSocketSession.objects.filter(connection_id=conn.connection_id).count() == 1


def test_a_database_that_stays_locked_answers_503_with_retry_after_and_no_error_log(
    ws_client, ws_plugins, caplog
):
    plugin = Busy(busy.ATTEMPTS)
    ws_plugins.add(plugin)
    caplog.set_level(logging.INFO)
    conn = ws_client.connect(channel="lobby")
    assert conn.response.status_code == 503
    assert conn.response["Retry-After"] == "1"
    assert conn.response.json() == {"error": "Service unavailable"}
    assert plugin.calls == busy.ATTEMPTS
    assert not WebSocketSession.objects.exists()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no admin mail


def test_inside_an_outer_transaction_the_first_lock_is_the_503(ws_client, ws_plugins):
    from django.db import transaction

    plugin = Busy(1)
    ws_plugins.add(plugin)
    with transaction.atomic():  # as under ATOMIC_REQUESTS
        assert ws_client.connect(channel="lobby").response.status_code == 503
    assert plugin.calls == 1


def test_a_postgresql_deadlock_is_busy_too(ws_client, ws_plugins):
    def deadlock():
        error = OperationalError("deadlock detected")
        error.__cause__ = Deadlock()
        return error

    ws_plugins.add(Busy(busy.ATTEMPTS, deadlock))
    assert ws_client.connect(channel="lobby").response.status_code == 503


def test_a_database_error_that_is_not_a_lock_is_not_retried_and_is_logged_as_a_database_error(
    ws_client, ws_plugins, caplog
):
    plugin = Busy(1, lambda: ProgrammingError("no such column: nope"))
    ws_plugins.add(plugin)
    caplog.set_level(logging.INFO)
    conn = ws_client.connect(channel="lobby")
    assert conn.response.status_code == 500
    assert conn.response.json() == {"error": "Internal error"}
    assert plugin.calls == 1
    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "a database query failed on route 'connect'" in error.getMessage()
    assert "ProgrammingError: no such column: nope" in error.getMessage()
    assert "plugin code failed" not in caplog.text


def test_a_handler_that_meets_a_locked_database_answers_503(ws_client, ws_plugins):
    conn = ws_client.connect(channel="lobby")

    @apigw_ws.hookimpl
    def apigw_ws_register_handlers(register):
        def save(ctx):
            raise OperationalError(LOCKED)

        register(save, route="$default", name="save")

    class Plugin:
        pass

    plugin = Plugin()
    plugin.apigw_ws_register_handlers = apigw_ws_register_handlers
    ws_plugins.add(plugin, name="saver")
    response = conn.send({"handler": "save"})
    assert response.status_code == 503
    assert response["Retry-After"] == "1"


@pytest.mark.parametrize(
    ("options", "missing"),
    [
        ({}, ["WAL", "transaction_mode", "timeout"]),
        ({"timeout": 20}, ["WAL", "transaction_mode"]),
        ({"transaction_mode": "IMMEDIATE", "timeout": 5}, ["WAL"]),
        ({"init_command": "PRAGMA journal_mode = wal;", "timeout": 5}, ["transaction_mode"]),
        (
            {"init_command": "PRAGMA journal_mode=WAL", "transaction_mode": "immediate"},
            ["timeout"],
        ),
        (
            {
                "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            [],
        ),
    ],
)
def test_a_sqlite_database_without_wal_immediate_and_a_timeout_is_named(options, missing):
    found = sqlite_lacks({"ENGINE": "django.db.backends.sqlite3", "OPTIONS": options})
    assert len(found) == len(missing)
    for word, text in zip(missing, found, strict=True):
        assert word in text


def test_other_engines_need_none_of_it():
    assert sqlite_lacks({"ENGINE": "django.db.backends.postgresql"}) == []


def test_djangos_default_sqlite_settings_are_warning_w050():
    from django.db import connections

    # The check reads only the settings: a SQLite entry with Django's defaults, on any
    # engine the suite runs on, restored right after.
    database = connections.settings["default"]
    saved = dict(database)
    database.update(ENGINE="django.db.backends.sqlite3", OPTIONS={})
    try:
        ids = [m.id for m in run_checks()]
    finally:
        database.clear()
        database.update(saved)
    assert "apigw_ws.W050" in ids


def test_the_test_settings_are_not_warned_about():
    with override_settings():
        assert "apigw_ws.W050" not in [m.id for m in run_checks()]
