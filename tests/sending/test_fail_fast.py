"""A broken endpoint fails the rest of its recipients at once, with the reason, untried.

Refused connections (a loopback port nobody listens on), missing region or credentials,
403 and a run of timeouts break an endpoint for the rest of the fan-out; 429 and 5xx of
an endpoint that answers are still retried. "Untried" is counted: each transport's one
attempt function is wrapped to count the calls that reach it.
"""

import pytest

from apigw_ws.sending import Endpoint, Recipient, Sender, boto3_transport
from apigw_ws.sending.aiohttp_transport import _FanOut
from apigw_ws.sending.signing import management_signer
from apigw_ws.sending.tally import CONSECUTIVE_TIMEOUTS

from .conftest import REGION, received, to, unknown_ids

REFUSED = "http://127.0.0.1:9/local"  # the discard port: nothing listens on loopback


@pytest.fixture
def attempts(monkeypatch, transport):
    """Count the Management API calls each transport really makes."""
    calls = []
    if transport == "boto3":
        real = boto3_transport._attempt

        def counted(client, cid, operation):
            calls.append(cid)
            return real(client, cid, operation)

        monkeypatch.setattr(boto3_transport, "_attempt", counted)
    else:
        real = _FanOut._attempt

        async def counted(self, signer, url):
            calls.append(url)
            return await real(self, signer, url)

        monkeypatch.setattr(_FanOut, "_attempt", counted)
    return calls


def test_a_refused_endpoint_fails_5000_recipients_with_at_most_concurrency_attempts(
    gateway, attempts
):
    live = gateway.open_sinks(3)
    dead = Endpoint(REFUSED, REGION)
    recipients = [Recipient(cid, dead) for cid in unknown_ids(5000)] + to(gateway, live)
    report = Sender(concurrency=16, max_attempts=5).send(recipients, "x")
    assert report.sent == 3
    assert [received(gateway, cid) for cid in live] == [1, 1, 1]
    assert len(report.failed) == 5000
    assert report.retried == 0
    assert all(f"cannot reach {REFUSED}" in f.error for f in report.failed)
    assert len(attempts) <= 16 + 3  # those already in flight when it broke, and the live


def test_a_missing_region_fails_the_endpoint_before_any_call_and_resolves_once(
    gateway, attempts, monkeypatch
):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    no_region = Endpoint(gateway.management_url, None)
    report = Sender(concurrency=32).send([Recipient(c, no_region) for c in unknown_ids(500)], "x")
    assert len(report.failed) == 500
    assert "region" in report.failed[0].error.lower()
    assert attempts == []
    made = boto3_transport.management_client.cache_info().misses
    signed = management_signer.cache_info().misses
    assert made + signed == 1  # tried once per fan-out, not once per thread or recipient


def test_consecutive_timeouts_break_the_endpoint(start_gateway, attempts):
    gateway = start_gateway(latency=2.0)
    ids = gateway.open_sinks(3) + unknown_ids(40)
    report = Sender(concurrency=1, read_timeout=0.05).send(to(gateway, ids), "x")
    assert report.sent == 0
    assert len(report.failed) == 43
    assert len(attempts) == CONSECUTIVE_TIMEOUTS
    assert f"{CONSECUTIVE_TIMEOUTS} timeouts in a row" in report.failed[-1].error


def test_throttling_and_server_errors_of_a_healthy_endpoint_are_still_retried(
    start_gateway, attempts
):
    gateway = start_gateway(throttle_rate=0.2, error_rate=0.1, seed=7)
    ids = gateway.open_sinks(60)
    report = Sender(concurrency=8, max_attempts=30, base_delay=0.001, max_delay=0.01).send(
        to(gateway, ids), "x"
    )
    assert report.sent == 60
    assert report.retried > 0
    assert len(attempts) == 60 + report.retried
