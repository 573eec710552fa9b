"""Hostile input from clients and callers: AWS's answer every time, never a crash or a 5xx."""

import asyncio
import http.client
import json
import string

import aiohttp
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apigw_ws.devgateway import RouteSelector, run_in_thread

from .conftest import TIMEOUT
from .test_without_django import with_gateway

NOWHERE = "http://127.0.0.1:9/ws/"  # the discard port: these tests never reach a backend
ROUTES = frozenset({"$default", "chat", "$connect"})

#: Text a client can put in a frame: any Unicode but lone surrogates (not UTF-8 encodable).
frame_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
json_frames = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | frame_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(frame_text, inner, max_size=4),
    max_leaves=20,
).map(json.dumps)
with_action = st.fixed_dictionaries(
    {"action": st.one_of(st.sampled_from([*sorted(ROUTES), "$disconnect"]), frame_text)}
).map(json.dumps)
#: Nested deeper than Python's JSON decoder can go, yet under the 32 KB frame limit.
too_deep = st.sampled_from(["[" * 32000, '{"a":' * 6000, '{"action": ' + "[" * 20000])
frames = st.one_of(frame_text, json_frames, with_action, too_deep)


@given(st.one_of(frames.map(str.encode), st.binary(max_size=300)))
def test_route_selection_of_any_frame_is_a_route_with_an_integration_and_never_raises(body):
    route = RouteSelector.parse("$request.body.action", ROUTES).select(body)
    assert route in ("$default", "chat")


def test_a_frame_nested_too_deep_for_json_goes_to_the_default_route():
    assert RouteSelector.parse("$request.body.action", ROUTES).select(b"[" * 32000) == "$default"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(frames, min_size=1, max_size=5))
def test_every_text_frame_is_forwarded_once_and_answered_and_the_socket_stays_open(sent):
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url) as ws:
            for frame in sent:
                await ws.send_str(frame)
            answers = [json.loads((await ws.receive(timeout=TIMEOUT)).data) for _ in sent]
            still_open = gateway.connection_ids()
        return answers, still_open

    answers, still_open = with_gateway(scenario, routes={"$default", "chat"})
    assert sorted(a["body"] for a in answers) == sorted(sent)
    assert {a["route"] for a in answers} <= {"default", "chat"}  # the URL path
    assert len(still_open) == 1


# -- the Management API -----------------------------------------------------------------


@pytest.fixture(scope="module")
def lone_gateway():
    """A gateway with no backend: the Management API needs none to answer."""
    with run_in_thread(target=NOWHERE, port=0) as gateway:
        yield gateway


def call(gateway, method, path, body=b""):
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=TIMEOUT)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


url_text = st.text(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@%", max_size=40)
segments = st.lists(
    st.one_of(st.sampled_from(["local", "prod", "@connections", "%40connections", ""]), url_text),
    max_size=5,
)
methods = st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=methods, parts=segments, body=st.binary(max_size=300))
def test_any_request_to_the_gateway_gets_an_answer_below_500(lone_gateway, method, parts, body):
    status, _ = call(lone_gateway, method, "/" + "/".join(parts), body)
    assert status < 500


@settings(max_examples=100, deadline=None)
@given(connection_id=url_text)
@example(connection_id="%0A")  # decodes to a newline, which "." in a route pattern misses
def test_any_connection_id_is_answered_gone_bad_request_or_forbidden(lone_gateway, connection_id):
    status, body = call(lone_gateway, "POST", f"/local/@connections/{connection_id}", b"x")
    assert status in (400, 403, 410)
    assert b"Traceback" not in body


def test_the_gateway_still_serves_after_hostile_requests(lone_gateway):
    assert call(lone_gateway, "GET", "/local/@connections/AAAAAAAAAAAAAAA=")[0] == 410
    assert call(lone_gateway, "GET", "/local")[0] == 426  # a plain GET is told to upgrade


def test_a_handshake_with_a_malformed_websocket_key_is_not_upgraded():
    async def scenario(backend, gateway, http):
        headers = {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "not base64!",
        }
        async with http.get(gateway.ws_url.replace("ws://", "http://"), headers=headers) as r:
            return r.status, backend.of("connect"), gateway.connection_ids()

    status, connects, open_ids = with_gateway(scenario)
    assert 400 <= status < 500
    assert connects == []
    assert open_ids == []


def test_binary_junk_in_place_of_a_handshake_gets_400_and_the_gateway_keeps_serving():
    async def scenario(backend, gateway, http):
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n"
        )
        answer = await reader.read(100)
        writer.close()
        async with http.ws_connect(gateway.ws_url):
            return answer, gateway.connection_ids()

    answer, open_ids = with_gateway(scenario)
    assert answer.split(b" ", 2)[1] == b"400"
    assert len(open_ids) == 1


@pytest.mark.parametrize("frame_type", [aiohttp.WSMsgType.CONTINUATION, aiohttp.WSMsgType.PONG])
def test_stray_control_and_continuation_frames_never_reach_the_backend(frame_type):
    async def scenario(backend, gateway, http):
        async with http.ws_connect(gateway.ws_url) as ws:
            await ws.send_frame(b"stray", frame_type)
            await ws.send_str('{"still": "answered?"}')
            msg = await ws.receive(timeout=TIMEOUT)
        await backend.wait_for("disconnect")
        return msg, [r[0] for r in backend.requests]

    msg, routes = with_gateway(scenario)
    if frame_type is aiohttp.WSMsgType.PONG:  # unsolicited pongs are allowed and ignored
        assert json.loads(msg.data)["body"] == '{"still": "answered?"}'
        assert routes == ["connect", "default", "disconnect"]
    else:  # a continuation with nothing to continue is a protocol error: 1002
        assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, 1002)
        assert routes == ["connect", "disconnect"]
