"""The gateway in front of a stand-in HTTP backend: no Django, no database.

This is how it runs from Python for benchmarks; it also lets a test make the backend do
what the dispatch view never does (answer with a subprotocol, vanish, fail).
"""

import asyncio
import json
import logging
import socket
import time

import aiohttp
import pytest
from aiohttp import web

from apigw_ws.devgateway import DevGateway, Faults, GatewayConfig

from .conftest import TIMEOUT, run


class Backend:
    """An HTTP backend that records every integration request it gets."""

    def __init__(self):
        self.requests = []
        self.connect_status = 200
        self.connect_headers = {}
        self.arrived = asyncio.Condition()
        self.runner = None
        self.port = None

    @property
    def target(self):
        return f"http://127.0.0.1:{self.port}/ws/"

    async def start(self):
        app = web.Application()
        app.router.add_post("/ws/{route}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self.runner, sock).start()

    async def stop(self):
        await self.runner.cleanup()

    async def handle(self, request):
        route = request.match_info["route"]
        body = await request.read()
        async with self.arrived:
            self.requests.append(
                (route, request.headers.copy(), body, request.rel_url.raw_query_string)
            )
            self.arrived.notify_all()
        if route == "connect":
            return web.Response(status=self.connect_status, headers=self.connect_headers)
        if route == "disconnect":
            return web.Response()
        return web.json_response({"route": route, "body": body.decode()})

    async def wait_for(self, route, count=1):
        async with self.arrived:
            await asyncio.wait_for(
                self.arrived.wait_for(lambda: len(self.of(route)) >= count), TIMEOUT
            )
        return self.of(route)

    def of(self, route):
        return [r for r in self.requests if r[0] == route]


def with_gateway(scenario, **options):
    """Run ``scenario(backend, gateway, http)`` with a backend and a gateway in front of it."""

    async def main():
        backend = Backend()
        await backend.start()
        try:
            config = GatewayConfig(target=backend.target, port=0, **options)
            async with DevGateway(config) as gateway, aiohttp.ClientSession() as http:
                return await scenario(backend, gateway, http)
        finally:
            await backend.stop()

    return run(main())


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- handshake --------------------------------------------------------------------------


def test_subprotocol_in_the_connect_answer_is_echoed_in_the_handshake():
    async def scenario(backend, gateway, http):
        backend.connect_headers = {"Sec-WebSocket-Protocol": "chat.v2"}
        async with http.ws_connect(gateway.ws_url, protocols=("chat.v1", "chat.v2")) as ws:
            (connect,) = backend.of("connect")
            return ws.protocol, connect[1]["Sec-WebSocket-Protocol"]

    protocol, offered = with_gateway(scenario)
    assert protocol == "chat.v2"
    assert offered == "chat.v1,chat.v2"


def test_no_subprotocol_in_the_handshake_unless_the_backend_picks_one():
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url, protocols=("chat.v1",)) as ws:
            return ws.protocol

    assert with_gateway(scenario) is None


def test_connect_forwards_the_query_string_byte_for_byte():
    async def scenario(backend, gateway, http):
        url = f"{gateway.ws_url}?channel=a%20b&ws_token=x%2Fy%3D"
        async with http.ws_connect(aiohttp.client.URL(url, encoded=True)):
            return backend.of("connect")[0][3]

    assert with_gateway(scenario) == "channel=a%20b&ws_token=x%2Fy%3D"


def test_clients_may_connect_at_the_root_or_at_the_stage_path_only():
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url.rsplit("/", 1)[0] + "/"):
            pass
        with pytest.raises(aiohttp.WSServerHandshakeError) as wrong:
            await http.ws_connect(gateway.ws_url.rsplit("/", 1)[0] + "/other-stage")
        return wrong.value.status, len(backend.of("connect"))

    assert with_gateway(scenario) == (403, 1)


def test_a_plain_http_get_is_told_how_to_connect():
    async def scenario(backend, gateway, http):
        async with http.get(gateway.ws_url.replace("ws://", "http://")) as response:
            return response.status, await response.text(), gateway.ws_url

    status, text, ws_url = with_gateway(scenario)
    assert status == 426
    assert ws_url in text


# -- messages ---------------------------------------------------------------------------


def test_message_goes_to_the_route_url_of_its_custom_key():
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url) as ws:
            await ws.send_str('{"action": "chat", "text": "hi"}')
            reply = json.loads((await ws.receive(timeout=TIMEOUT)).data)
            (message,) = backend.of("chat")
            return reply, message

    reply, (_, headers, body, _) = with_gateway(scenario, routes={"$default", "chat"})
    assert reply == {"route": "chat", "body": '{"action": "chat", "text": "hi"}'}
    assert body == b'{"action": "chat", "text": "hi"}'
    assert headers["X-Apigw-Ws-Route-Key"] == "chat"


def test_route_selection_expression_can_be_a_template_of_body_keys():
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url) as ws:
            await ws.send_str('{"service": "chat", "op": "send"}')
            return json.loads((await ws.receive(timeout=TIMEOUT)).data)["route"]

    route = with_gateway(
        scenario,
        route_selection_expression="${request.body.service}-${request.body.op}",
        routes={"$default", "chat-send"},
    )
    assert route == "chat-send"


def test_without_a_default_route_an_unmatched_message_is_answered_forbidden():
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url) as ws:
            await ws.send_str('{"action": "nope"}')
            answer = json.loads((await ws.receive(timeout=TIMEOUT)).data)
            return answer, gateway.connection_ids()[0], [r[0] for r in backend.requests]

    answer, connection_id, routes = with_gateway(scenario, routes={"chat"})
    assert answer["message"] == "Forbidden"
    assert answer["connectionId"] == connection_id
    assert routes == ["connect"]


def test_disconnect_post_carries_the_mapped_headers_and_no_body():
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url):
            connection_id = gateway.connection_ids()[0]
        (disconnect,) = await backend.wait_for("disconnect")
        return connection_id, disconnect

    connection_id, (_, headers, body, _) = with_gateway(scenario, api_id="abc123", secret="k" * 32)
    assert body == b""
    assert headers["Connectionid"] == connection_id
    assert headers["User-Agent"] == "AmazonAPIGateway_abc123"
    assert headers["X-Amzn-Apigateway-Api-Id"] == "abc123"
    assert headers["X-Apigw-Ws-Api-Id"] == "abc123"  # the mapped context.apiId
    assert headers["X-Apigw-Ws-Route-Key"] == "$disconnect"
    assert headers["X-Apigw-Ws-Event-Type"] == "DISCONNECT"
    assert headers["X-Apigw-Ws-Secret"] == "k" * 32
    assert headers["X-Apigw-Ws-Source-Ip"] == "127.0.0.1"


def test_without_a_secret_no_secret_header_is_sent():
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url, headers={"X-Apigw-Ws-Secret": "guess"}):
            return backend.of("connect")[0][1]

    assert "X-Apigw-Ws-Secret" not in with_gateway(scenario)


def test_invalid_utf8_in_a_text_frame_closes_with_1007_and_posts_the_disconnect():
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url) as ws:
            await ws.send_frame(b"\xff\xfe", aiohttp.WSMsgType.TEXT)
            msg = await ws.receive(timeout=TIMEOUT)
        await backend.wait_for("disconnect")
        return msg, [r[0] for r in backend.requests]

    msg, routes = with_gateway(scenario)
    assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, 1007)
    assert routes == ["connect", "disconnect"]


# -- a backend that is down or fails --------------------------------------------------


def test_backend_down_refuses_every_connect_with_502_and_the_gateway_keeps_serving(caplog):
    async def main():
        config = GatewayConfig(target=f"http://127.0.0.1:{free_port()}/ws/", port=0)
        async with DevGateway(config) as gateway, aiohttp.ClientSession() as http:
            statuses = []
            for _ in range(2):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(gateway.ws_url)
                statuses.append(refused.value.status)
            async with http.get(f"{gateway.management_url}/@connections/AAAAAAAAAAAAAAA=") as r:
                return statuses, r.status

    with caplog.at_level(logging.WARNING, logger="apigw_ws.devgateway"):
        statuses, gone = run(main())
    assert statuses == [502, 502]
    assert gone == 410
    assert "refused: Django failed" in caplog.text


def test_backend_gone_after_connect_tells_the_client_internal_server_error():
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url) as ws:
            await backend.stop()
            await ws.send_str('{"a": 1}')
            answer = json.loads((await ws.receive(timeout=TIMEOUT)).data)
            return answer

    assert with_gateway(scenario)["message"] == "Internal server error"


# -- the Management API, raw ------------------------------------------------------------


def test_malformed_management_api_requests_get_aws_answers():
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url) as ws:
            connection_id = gateway.connection_ids()[0]
            base, root = gateway.management_url, gateway.endpoint_url
            url = f"{base}/@connections/{connection_id}"
            calls = {
                "put": await http.put(url, data=b"x"),
                "bad id": await http.post(f"{base}/@connections/not%20an%20id!", data=b"x"),
                "no id": await http.post(f"{base}/@connections/", data=b"x"),
                "wrong stage": await http.post(f"{root}/prod/@connections/{connection_id}"),
                "unknown path": await http.post(f"{root}/{gateway.config.stage}/elsewhere"),
                "too long": await http.post(url, data=b"z" * 131073),
                "unknown id": await http.get(f"{base}/@connections/AAAAAAAAAAAAAAA="),
            }
            answers = {
                name: (r.status, r.headers.get("x-amzn-ErrorType"), await r.json())
                for name, r in calls.items()
            }
            # The connection survived all of that, and takes both path spellings.
            async with http.post(f"{root}/@connections/{connection_id}", data=b"one") as r:
                assert r.status == 200
            async with http.post(f"{base}/%40connections/{connection_id}", data=b"two") as r:
                assert r.status == 200
            received = [(await ws.receive(timeout=TIMEOUT)).data for _ in range(2)]
            return answers, received

    answers, received = with_gateway(scenario)
    assert answers["put"][:2] == (403, "ForbiddenException")
    assert answers["bad id"][:2] == (400, "BadRequestException")
    assert answers["no id"][:2] == (403, "ForbiddenException")
    assert answers["wrong stage"][:2] == (403, "ForbiddenException")
    assert answers["unknown path"][0] == 403
    assert answers["too long"][:2] == (413, "PayloadTooLargeException")
    assert answers["unknown id"][:2] == (410, "GoneException")
    assert received == ["one", "two"]


def test_non_utf8_post_to_connection_arrives_as_a_binary_frame():
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url) as ws:
            url = f"{gateway.management_url}/@connections/{gateway.connection_ids()[0]}"
            async with http.post(url, data=b"\xff\xfe") as response:
                assert response.status == 200
            return await ws.receive(timeout=TIMEOUT)

    msg = with_gateway(scenario)
    assert msg.type is aiohttp.WSMsgType.BINARY
    assert msg.data == b"\xff\xfe"


# -- fault injection --------------------------------------------------------------------


def _statuses(faults, calls=20):
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url):
            url = f"{gateway.management_url}/@connections/{gateway.connection_ids()[0]}"
            statuses = []
            for _ in range(calls):
                async with http.get(url) as response:
                    statuses.append((response.status, response.headers.get("x-amzn-ErrorType")))
            return statuses

    return with_gateway(scenario, faults=faults)


def test_throttle_rate_answers_429_limit_exceeded():
    assert set(_statuses(Faults(throttle_rate=1.0))) == {(429, "LimitExceededException")}


def test_error_rate_answers_500():
    assert set(_statuses(Faults(error_rate=1.0))) == {(500, "InternalServerErrorException")}


def test_fault_rates_are_fractions_and_a_seed_repeats_them():
    faults = Faults(throttle_rate=0.3, error_rate=0.2, seed=7)
    first, second = _statuses(faults, calls=60), _statuses(faults, calls=60)
    assert first == second
    counts = {status: sum(1 for s, _ in first if s == status) for status in (200, 429, 500)}
    assert all(counts.values()), counts


def test_gone_ids_are_answered_410_though_open(monkeypatch):
    from apigw_ws.devgateway import connections

    monkeypatch.setattr(connections, "new_connection_id", lambda: "GoneGoneGone123=")

    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url):
            url = f"{gateway.management_url}/@connections/GoneGoneGone123="
            async with http.post(url, data=b"x") as r:
                return gateway.connection_ids(), r.status

    open_ids, status = with_gateway(scenario, faults=Faults(gone=["GoneGoneGone123="]))
    assert open_ids == ["GoneGoneGone123="]
    assert status == 410


def test_latency_is_added_to_every_management_api_call():
    async def scenario(backend, gateway, http):
        started = time.monotonic()
        async with http.get(f"{gateway.management_url}/@connections/AAAAAAAAAAAAAAA=") as r:
            return r.status, time.monotonic() - started

    status, elapsed = with_gateway(scenario, faults=Faults(latency=0.2))
    assert status == 410
    assert elapsed >= 0.2


# -- binding ----------------------------------------------------------------------------


def test_binding_beyond_loopback_logs_a_loud_warning(caplog):
    async def main():
        async with DevGateway(
            GatewayConfig(target="http://127.0.0.1:9/ws/", host="0.0.0.0", port=0)
        ):
            pass

    with caplog.at_level(logging.WARNING, logger="apigw_ws.devgateway"):
        run(main())
    assert "reachable from other machines" in caplog.text


def test_loopback_binding_logs_no_warning(caplog):
    async def main():
        async with DevGateway(GatewayConfig(target="http://127.0.0.1:9/ws/", port=0)):
            pass

    with caplog.at_level(logging.WARNING, logger="apigw_ws.devgateway"):
        run(main())
    assert caplog.text == ""
