"""The sending package's parts on their own: no gateway, no transport parameter."""

import pytest


@pytest.fixture
def transport():
    """Not parametrized here: these tests pick their transport, if any, themselves."""
    return None


@pytest.fixture
def _reach_the_local_gateway():
    """Isolated, as every test is by default (the outbox answers)."""
