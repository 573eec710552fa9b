import os
import socket

import pytest

from tests.plugins import chat

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(name: str, host: str, port: int) -> None:
    """Skip a test whose service is down on a laptop; in CI (CI=true) fail it instead."""
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        message = f"service unavailable: {name} on {host}:{port} ({exc})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def pytest_collection_modifyitems(config, items):
    """Deselect (not skip) the PostgreSQL-only tests on a SQLite run.

    They run on the PostgreSQL leg; deselecting keeps "skipped" meaning "a service was
    missing", which CI turns into a failure.
    """
    if os.environ.get("APIGW_WS_TEST_DB", "sqlite") == "postgres":
        return
    keep, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("postgres") else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(autouse=True)
def _clear_handler_calls():
    chat.CALLS.clear()
    yield
    chat.CALLS.clear()


@pytest.fixture
def handler_calls():
    """The (handler, connection id) pairs the test plugin's handlers saw."""
    return chat.CALLS
