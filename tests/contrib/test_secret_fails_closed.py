"""A ``GATEWAY_SECRET`` with an empty or non-string entry refuses every request (403).

An empty entry would match a request that carries no secret header (``compare_digest(b"",
b"")``), so a rotation written as ``[os.environ.get("NEW", ""), OLD]`` must not turn
authentication off: every request is refused, the reason is logged at the first request
(servers such as gunicorn never run system checks) and reported as E003.
"""

import logging

import pytest
from django.core.checks import run_checks
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apigw_ws.contrib.django.models import WebSocketSession
from apigw_ws.testing import new_connection_id
from tests.settings import APIGW_WS, TEST_GATEWAY_SECRET

pytestmark = pytest.mark.django_db

REAL = TEST_GATEWAY_SECRET
BROKEN = [
    "",
    [],
    ["", REAL],
    [REAL, ""],
    [None, REAL],
    [REAL, None],
    (REAL, 42),
    [[REAL]],
    42,
]


def _settings(secret):
    return override_settings(APIGW_WS={**APIGW_WS, "GATEWAY_SECRET": secret})


@pytest.mark.parametrize("secret", BROKEN, ids=repr)
@pytest.mark.parametrize("header", [None, "", REAL])
def test_a_broken_secret_refuses_every_request_with_or_without_a_secret_header(
    ws_client, secret, header, caplog
):
    ws_client.secret = header
    with _settings(secret), caplog.at_level(logging.INFO, logger="apigw_ws"):
        response = ws_client.post("connect", new_connection_id())
    assert response.status_code == 403, response.content
    assert response.json() == {"error": "Forbidden"}
    assert not WebSocketSession.objects.exists()
    assert "every request is refused" in caplog.text
    assert REAL not in caplog.text


@pytest.mark.parametrize("secret", BROKEN, ids=repr)
def test_a_broken_secret_is_logged_as_an_error_once_at_the_first_request(ws_client, secret, caplog):
    ws_client.secret = None
    with _settings(secret), caplog.at_level(logging.INFO, logger="apigw_ws"):
        for _ in range(3):
            assert ws_client.post("connect", new_connection_id()).status_code == 403
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "GATEWAY_SECRET" in errors[0].getMessage()
    assert "E003" in errors[0].getMessage()


@pytest.mark.parametrize("secret", BROKEN, ids=repr)
def test_a_broken_secret_is_a_system_check_error(secret):
    with _settings(secret):
        ids = [m.id for m in run_checks(include_deployment_checks=True)]
    assert "apigw_ws.E003" in ids
    assert "apigw_ws.W001" not in ids  # it is set, wrongly: not "not set"


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    good=st.lists(st.just(REAL), max_size=2),
    bad=st.one_of(st.just(""), st.none(), st.integers(), st.lists(st.text(), max_size=1)),
    where=st.integers(min_value=0, max_value=2),
    header=st.one_of(st.none(), st.just(""), st.just(REAL)),
)
def test_any_secret_list_with_one_unusable_entry_fails_closed(ws_client, good, bad, where, header):
    entries = list(good)
    entries.insert(min(where, len(entries)), bad)
    ws_client.secret = header
    with _settings(entries):
        response = ws_client.post("connect", new_connection_id())
    assert response.status_code == 403


def test_a_good_rotation_list_still_accepts_either_secret(ws_client):
    new = "n" * 40
    with _settings([new, REAL]):
        for secret in (new, REAL):
            ws_client.secret = secret
            assert ws_client.post("connect", new_connection_id()).status_code == 200
        ws_client.secret = None
        assert ws_client.post("connect", new_connection_id()).status_code == 403
