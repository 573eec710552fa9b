"""The core Sender against the local gateway's Management API (no Django database)."""

import datetime
import decimal
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apigw_ws.errors import ManagementApiForbidden
from apigw_ws.sending import (
    Endpoint,
    MessageNotSerializable,
    MessageTooLarge,
    Recipient,
    Sender,
    SendReport,
    encode_message,
)

from .conftest import REGION, endpoint_of, received, to, unknown_ids

QUICK = {"base_delay": 0.001, "max_delay": 0.01}


def test_a_broadcast_reaches_every_open_connection_once_and_names_the_gone(gateway):
    live = gateway.open_sinks(50)
    gone = unknown_ids(7)
    report = Sender(concurrency=8).send(to(gateway, live + gone), {"hello": "all"})
    assert report.sent == 50
    assert sorted(report.gone) == sorted(gone)
    assert report.failed == []
    assert [received(gateway, cid) for cid in live] == [1] * 50
    assert report.attempted == 57
    assert report.ok


def test_recipients_are_consumed_lazily_with_a_bounded_number_in_flight(gateway):
    live = gateway.open_sinks(40)
    endpoint = endpoint_of(gateway)
    pulled = []

    def stream():
        for cid in live:
            pulled.append(cid)
            yield Recipient(cid, endpoint)

    report = Sender(concurrency=2).send(stream(), "x")
    assert report.sent == 40
    assert len(pulled) == 40


def test_data_is_encoded_once_with_djangos_encoder(gateway):
    (cid,) = gateway.open_sinks(1)
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    data = {"at": moment, "id": uuid.UUID(int=1), "price": decimal.Decimal("1.50")}
    assert Sender().send(to(gateway, [cid]), data).sent == 1
    assert json.loads(encode_message(data)) == {
        "at": "2026-01-02T03:04:05Z",
        "id": "00000000-0000-0000-0000-000000000001",
        "price": "1.50",
    }


@pytest.mark.parametrize(
    "data",
    [object(), {"n": float("nan")}, {1, 2}, "\ud800"],
    ids=["object", "nan", "set", "lone-surrogate"],
)
def test_unserialisable_data_raises_before_any_network_call(gateway, data):
    (cid,) = gateway.open_sinks(1)
    with pytest.raises(MessageNotSerializable):
        Sender().send(to(gateway, [cid]), data)
    assert received(gateway, cid) == 0


def test_oversized_data_raises_message_too_large_before_any_network_call(gateway):
    (cid,) = gateway.open_sinks(1)
    with pytest.raises(MessageTooLarge, match="131073 bytes; the limit is 131072"):
        Sender().send(to(gateway, [cid]), "x" * 131073)
    assert received(gateway, cid) == 0
    assert Sender().send(to(gateway, [cid]), "y" * 131072).sent == 1


def test_a_413_from_the_gateway_is_a_failure_for_that_recipient_and_not_retried(start_gateway):
    gateway = start_gateway(max_payload_bytes=10)
    ids = gateway.open_sinks(3)
    report = Sender(concurrency=3, **QUICK).send(to(gateway, ids), "x" * 100)
    assert report.sent == 0
    assert report.retried == 0
    assert {f.status for f in report.failed} == {413}
    assert "PayloadTooLarge" in report.failed[0].error


def test_throttling_is_retried_until_the_message_is_delivered(start_gateway):
    gateway = start_gateway(throttle_rate=0.5, seed=7)
    ids = gateway.open_sinks(30)
    report = Sender(concurrency=4, max_attempts=30, **QUICK).send(to(gateway, ids), "x")
    assert report.sent == 30
    assert report.failed == []
    assert report.retried > 0
    assert [received(gateway, cid) for cid in ids] == [1] * 30


def test_server_errors_that_persist_are_reported_after_max_attempts(start_gateway):
    gateway = start_gateway(error_rate=1.0)
    ids = gateway.open_sinks(4)
    report = Sender(concurrency=2, max_attempts=3, **QUICK).send(to(gateway, ids), "x")
    assert report.sent == 0
    assert report.retried == 4 * 2
    assert sorted(f.connection_id for f in report.failed) == sorted(ids)
    assert all(f.status == 500 and "gave up after 3 attempts" in f.error for f in report.failed)


def test_a_read_timeout_is_reported_and_never_re_posted(start_gateway):
    gateway = start_gateway(latency=1.0)
    (cid,) = gateway.open_sinks(1)
    report = Sender(read_timeout=0.2, **QUICK).send(to(gateway, [cid]), "x")
    assert report.sent == 0
    assert report.retried == 0
    (failure,) = report.failed
    assert failure.status is None
    assert "timed out" in failure.error


def test_an_unreachable_endpoint_is_reported_without_retries_and_others_still_served(gateway):
    live = gateway.open_sinks(3)
    dead = Endpoint("http://127.0.0.1:9/local", REGION)
    recipients = to(gateway, live) + [Recipient(cid, dead) for cid in unknown_ids(2)]
    report = Sender(concurrency=4, max_attempts=5, **QUICK).send(recipients, "x")
    assert report.sent == 3
    assert len(report.failed) == 2
    assert report.retried == 0
    assert all("cannot reach http://127.0.0.1:9/local" in f.error for f in report.failed)


def test_a_recipient_without_an_endpoint_is_a_failure_not_an_exception(gateway):
    (cid,) = gateway.open_sinks(1)
    report = Sender().send([Recipient("nogateway0000000=", None), *to(gateway, [cid])], "x")
    assert report.sent == 1
    assert "no Management API endpoint" in report.failed[0].error


def test_a_403_is_a_configuration_error_with_the_iam_hint_and_stops_that_endpoint(gateway):
    # The gateway serves stage "local": posting to stage "other" is refused with 403.
    wrong = Endpoint(gateway.endpoint_url + "/other", REGION)
    ids = unknown_ids(20)
    report = Sender(concurrency=1).send([Recipient(cid, wrong) for cid in ids], "x")
    assert report.sent == 0
    assert len(report.failed) == 20
    assert report.failed[0].status == 403
    assert "execute-api:ManageConnections" in report.failed[0].error
    assert ManagementApiForbidden.hint in report.failed[0].error
    # After the first 403 nothing more is posted to that endpoint.
    assert all(f.status is None for f in report.failed[1:])


def test_a_fan_out_over_several_endpoints_posts_each_to_its_own(start_gateway):
    first, second = start_gateway(stage="blue"), start_gateway(stage="green", api_id="other")
    a, b = first.open_sinks(5), second.open_sinks(5)
    report = Sender(concurrency=4).send(to(first, a) + to(second, b), "x")
    assert report.sent == 10
    assert [received(first, cid) for cid in a] == [1] * 5
    assert [received(second, cid) for cid in b] == [1] * 5


def test_check_names_the_gone_and_close_closes(gateway):
    live = gateway.open_sinks(3)
    gone = unknown_ids(2)
    report = Sender().check(to(gateway, live + gone))
    assert report.sent == 3
    assert sorted(report.gone) == sorted(gone)
    closed = Sender().close(to(gateway, live[:1]))
    assert closed.sent == 1
    assert gateway.table.get(live[0]) is None
    assert Sender().check(to(gateway, live[:1])).gone == live[:1]


def test_clients_are_pooled_per_endpoint_with_a_pool_at_least_the_concurrency(gateway):
    sender = Sender(concurrency=64, connect_timeout=1.5, read_timeout=4)
    client = sender.client(endpoint_of(gateway))
    assert sender.client(endpoint_of(gateway)) is client
    assert client.meta.config.max_pool_connections == 64
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (1.5, 4)
    other = sender.client(Endpoint(gateway.management_url, "eu-west-1"))
    assert other is not client


def test_bad_sender_options_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        Sender(concurrency=0)


def test_the_report_round_trips_through_json():
    report = Sender().send([Recipient("nogateway0000000=", None)], "x")
    data = json.loads(json.dumps(report.as_dict()))
    again = SendReport.from_dict(data)
    assert again.failed == report.failed
    assert again.sent == 0
    assert "0 sent, 0 gone, 1 failed" in str(again)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    live=st.integers(0, 12),
    gone=st.integers(0, 6),
    throttle=st.sampled_from([0.0, 0.2, 0.5]),
    errors=st.sampled_from([0.0, 0.1, 0.3]),
    attempts=st.integers(1, 4),
    concurrency=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_every_live_recipient_gets_the_message_once_unless_reported_failed(
    start_gateway, live, gone, throttle, errors, attempts, concurrency, seed
):
    gateway = start_gateway(throttle_rate=throttle, error_rate=errors, seed=seed)
    live_ids, gone_ids = gateway.open_sinks(live), unknown_ids(gone)
    recipients = to(gateway, live_ids + gone_ids)
    report = Sender(concurrency=concurrency, max_attempts=attempts, **QUICK).send(recipients, "m")
    failed = {f.connection_id for f in report.failed}
    for cid in live_ids:
        assert received(gateway, cid) == (0 if cid in failed else 1)
    assert not set(report.gone) & set(live_ids)  # nothing live is ever called gone
    assert set(report.gone) | failed >= set(gone_ids) - failed
    assert report.sent == live - len(failed & set(live_ids))
    assert report.attempted == live + gone
