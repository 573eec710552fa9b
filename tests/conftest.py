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


@pytest.fixture(autouse=True)
def _clear_handler_calls():
    chat.CALLS.clear()
    yield
    chat.CALLS.clear()


@pytest.fixture
def handler_calls():
    """The (handler, connection id) pairs the test plugin's handlers saw."""
    return chat.CALLS
