import os
import socket
from typing import NoReturn

import pytest

from tests.ci import in_ci
from tests.plugins import chat

try:
    IN_CI = in_ci()
except ValueError as exc:
    raise pytest.UsageError(str(exc)) from None


def missing_prerequisite(message: str, *, allow_module_level: bool = False) -> NoReturn:
    """Skip: a service, a program or a module the test needs is missing; in CI, fail."""
    if IN_CI:
        pytest.fail(f"{message} (required in CI)", pytrace=False)
    pytest.skip(message, allow_module_level=allow_module_level)


def require_service(name: str, host: str, port: int) -> None:
    """Skip a test whose service is down on a laptop; in CI fail it instead."""
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        missing_prerequisite(f"service unavailable: {name} on {host}:{port} ({exc})")


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
