"""How recipients reach the loop, and a rate-limited fan-out.

No wall-clock assertions: the hand-over is counted (chunks, never one recipient at a
time, and no coroutine handed across threads per recipient).
"""

import asyncio

from apigw_ws.sending import Sender, aiohttp_transport

from .conftest import received, to


def test_recipients_cross_to_the_loop_in_chunks_not_one_by_one(gateway, monkeypatch, transport):
    if transport != "aiohttp":
        return  # the boto3 transport has no loop; its hand-over is tested elsewhere
    handed = []
    threadsafe = []
    real_feed = aiohttp_transport._FanOut.feed
    real_run = asyncio.run_coroutine_threadsafe

    def feed(self, chunk):
        handed.append(len(chunk))
        return real_feed(self, chunk)

    def counted(coro, loop):
        threadsafe.append(coro)
        return real_run(coro, loop)

    monkeypatch.setattr(aiohttp_transport._FanOut, "feed", feed)
    monkeypatch.setattr(asyncio, "run_coroutine_threadsafe", counted)
    monkeypatch.setattr(aiohttp_transport, "CHUNK", 100)
    ids = gateway.open_sinks(450)
    report = Sender(concurrency=16).send(to(gateway, ids), "x")
    assert report.sent == 450
    assert handed == [100, 100, 100, 100, 50]
    assert threadsafe == []  # no coroutine per recipient (nor per chunk) crosses threads
    assert [received(gateway, cid) for cid in ids] == [1] * 450


def test_recipients_are_read_while_earlier_chunks_are_sent(gateway, monkeypatch, transport):
    if transport != "aiohttp":
        return
    monkeypatch.setattr(aiohttp_transport, "CHUNK", 10)
    ids = gateway.open_sinks(200)
    seen_settled = []
    report_holder = {}

    def recipients():
        for n, recipient in enumerate(to(gateway, ids)):
            if n and n % 50 == 0:  # the caller's thread, between chunks: sends happened
                seen_settled.append(report_holder["tally"].report.sent)
            yield recipient

    real_init = aiohttp_transport._FanOut.__init__

    def init(self, loop, sender, operation, tally):
        report_holder["tally"] = tally
        real_init(self, loop, sender, operation, tally)

    monkeypatch.setattr(aiohttp_transport._FanOut, "__init__", init)
    report = Sender(concurrency=4).send(recipients(), "x")
    assert report.sent == 200
    # Reading never ran more than QUEUED_CHUNKS chunks (plus those in flight) ahead.
    limit = (aiohttp_transport.QUEUED_CHUNKS + 1) * 10 + 4
    assert all(50 * (i + 1) - settled <= limit for i, settled in enumerate(seen_settled))


def test_a_rate_limited_fan_out_still_reaches_everyone(gateway):
    ids = gateway.open_sinks(40)
    report = Sender(concurrency=8, rate_limit=400).send(to(gateway, ids), "x")
    assert report.sent == 40
    assert [received(gateway, cid) for cid in ids] == [1] * 40
