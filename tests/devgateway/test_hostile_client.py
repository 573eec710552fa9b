"""One hostile client cannot stall the local gateway for others.

A flood of frames gets at most ``max_in_flight`` integration calls at once for that
connection; the excess is answered ``{"message": "Too Many Requests", ...}`` (API
Gateway's throttling answer) and never forwarded. A client that stops reading is
dropped once a write to it waits ``send_timeout``: a Management API post to it answers
410 instead of hanging.
"""

import asyncio
import base64
import json
import os
import socket

from .test_without_django import Backend, with_gateway

FLOOD = 2000


class Held:
    """Make the backend hold every message until released, counting the concurrent ones."""

    def __init__(self, monkeypatch):
        self.release = None
        self.now = self.peak = 0
        original = Backend.handle
        held = self

        async def handle(backend, request):
            if request.match_info["route"] != "default":
                return await original(backend, request)
            held.now += 1
            held.peak = max(held.peak, held.now)
            try:
                await held.release.wait()
                return await original(backend, request)
            finally:
                held.now -= 1

        monkeypatch.setattr(Backend, "handle", handle)


def test_a_flood_of_frames_is_throttled_per_connection_and_others_still_get_through(
    monkeypatch,
):
    held = Held(monkeypatch)

    async def scenario(backend, gateway, http):
        held.release = asyncio.Event()
        async with (
            http.ws_connect(gateway.ws_url) as flooder,
            http.ws_connect(gateway.ws_url) as other,
        ):
            for _ in range(FLOOD):
                await flooder.send_str('{"action": "x"}')
            throttled = 0
            while throttled == 0:
                reply = json.loads((await flooder.receive(timeout=10)).data)
                throttled += reply["message"] == "Too Many Requests"
            await other.send_str('{"action": "y"}')
            # The other client's message reaches the backend while the flood is held.
            while held.now < 4 + 1:
                await asyncio.sleep(0.01)
            peak = held.peak
            held.release.set()
            return peak, throttled

    peak, throttled = with_gateway(scenario, max_in_flight=4)
    assert peak == 4 + 1  # the flooder's 4, and the other client's one
    assert throttled >= 1


def _handshake(port, path):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock  # and never read from it again


def test_a_client_that_never_reads_is_dropped_instead_of_blocking_posts_to_it():
    async def scenario(backend, gateway, http):
        port = int(gateway.ws_url.rsplit(":", 1)[1].split("/")[0])
        path = "/" + gateway.ws_url.split("/", 3)[3]
        sock = await asyncio.to_thread(_handshake, port, path)
        try:
            (connect,) = await backend.wait_for("connect")
            url = f"{gateway.management_url}/@connections/{connect[1]['Connectionid']}"
            statuses = []
            for _ in range(400):
                async with http.post(url, data=b"x" * 100_000) as response:
                    statuses.append(response.status)
                if response.status == 410:
                    break
            await backend.wait_for("disconnect")
            return statuses
        finally:
            sock.close()

    statuses = with_gateway(scenario, send_timeout=0.5)
    assert statuses[-1] == 410
    assert set(statuses[:-1]) <= {200}
