"""The ceiling on Management API requests a second: slots at the rate, after a short burst."""

import pytest

from apigw_ws.sending import Endpoint, Sender, throttle
from apigw_ws.sending.throttle import RateLimit


def test_the_rate_limit_hands_out_slots_at_its_rate_after_a_short_burst(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(throttle.time, "monotonic", lambda: clock[0])
    limit = RateLimit(100, burst_seconds=0.1)
    waits = [limit.reserve() for _ in range(30)]
    assert waits[:11] == [0.0] * 11  # a tenth of a second's worth at once
    assert waits[11:] == pytest.approx([0.01 * n for n in range(1, 20)])
    clock[0] += 10  # idle: the burst is available again, not ten seconds' worth
    assert [limit.reserve() for _ in range(11)][-1] == 0.0
    assert limit.reserve() == pytest.approx(0.01)


def test_every_sender_of_the_process_shares_one_limit_per_region():
    one, two = Sender(rate_limit=300), Sender(rate_limit=300)
    a, b = Endpoint("http://x/a", "us-east-1"), Endpoint("http://x/b", "us-east-1")
    shared = throttle.rate_limit(300, "us-east-1", None)
    assert throttle.rate_limit(300, "us-east-1", None) is shared
    one.slot_delay(a)
    two.slot_delay(b)
    assert one._limits[a] is two._limits[b] is shared
    assert throttle.rate_limit(300, "eu-west-1", None) is not one._limits[a]
    assert Sender(rate_limit=None).slot_delay(a) == 0.0
