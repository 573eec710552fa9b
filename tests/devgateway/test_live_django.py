"""End to end: real WebSocket clients -> the local gateway -> a live Django, and back."""

import asyncio
import contextlib
import datetime
import json

import aiohttp
import boto3
import pytest
from botocore.config import Config

from apigw_ws.contrib.django.models import WebSocketSession

from .conftest import API_ID, TIMEOUT, run


def management(gateway):
    """Return a boto3 Management API client pointed at the gateway, as code for AWS makes it."""
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=gateway.management_url,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}),
    )


async def receive_json(ws):
    msg = await ws.receive(timeout=TIMEOUT)
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def expect_close(ws):
    """Return the code of the close frame the gateway sends next."""
    msg = await ws.receive(timeout=TIMEOUT)
    assert msg.type is aiohttp.WSMsgType.CLOSE, msg
    return msg.data


@contextlib.asynccontextmanager
async def connected(gateway, query="", **options):
    """Open one WebSocket to the gateway, as a browser would."""
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(gateway.ws_url + query, **options) as ws,
    ):
        yield ws


def session_of(connection_id):
    return WebSocketSession.objects.get(connection_id=connection_id)


def only_session():
    return WebSocketSession.objects.get()


def only_id(gateway):
    """Return the id of the gateway's one open connection (no database query: async-safe)."""
    (connection_id,) = gateway.connection_ids()
    return connection_id


# -- $connect ---------------------------------------------------------------------------


def test_connect_posts_api_gateways_headers_and_django_opens_a_session(
    start_gateway, django_side, live_django
):
    gateway = start_gateway()

    async def scenario():
        async with aiohttp.ClientSession() as http:
            headers = {
                "Origin": live_django.url,
                "Cookie": "theme=dark",
                "User-Agent": "TestBrowser/1.0",
                "X-Forwarded-For": "198.51.100.1",  # a client's own claim is kept, not trusted
                "X-Apigw-Ws-Source-Ip": "203.0.113.99",  # forged: must never reach Django
                "Connectionid": "forged",
            }
            async with http.ws_connect(f"{gateway.ws_url}?channel=lobby", headers=headers):
                return only_id(gateway)

    session = session_of(run(scenario()))
    assert session.channel_name == "lobby"
    assert session.source_ip == "127.0.0.1"
    assert session.user_agent == "TestBrowser/1.0"
    seen = django_side.connect_headers[session.connection_id]
    assert seen["connectionid"] == session.connection_id
    assert seen["x-amzn-apigateway-api-id"] == API_ID
    assert seen["x-apigw-ws-source-ip"] == "127.0.0.1"
    assert seen["x-apigw-ws-route-key"] == "$connect"
    assert seen["x-apigw-ws-event-type"] == "CONNECT"
    assert seen["x-forwarded-for"] == "198.51.100.1, 127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-port"] == str(gateway.port)
    assert seen["x-amzn-trace-id"].startswith("Root=1-")
    assert seen["origin"] == live_django.url
    assert seen["cookie"] == "theme=dark"
    assert seen["user-agent"] == "TestBrowser/1.0"
    assert seen["sec-websocket-version"] == "13"
    assert seen["sec-websocket-key"]


def test_connection_ids_look_like_aws_ones(start_gateway):
    gateway = start_gateway()

    async def scenario():
        async with connected(gateway):
            return only_id(gateway)

    connection_id = run(scenario())
    # Django stored the connect under that id (the socket is closed by now, and its
    # $disconnect may or may not have been served yet: the row is there either way).
    assert session_of(connection_id).connection_id == connection_id
    assert len(connection_id) == 16
    assert connection_id.endswith("=")


def test_connect_refused_by_django_refuses_the_upgrade_with_djangos_status(
    start_gateway, django_side, gateway_log
):
    gateway = start_gateway()
    django_side.refuse_connect = True

    async def scenario():
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(gateway.ws_url)
            return refused.value.status

    assert run(scenario()) == 403
    assert not WebSocketSession.objects.exists()
    assert gateway.connection_ids() == []
    gateway_log.wait_for("connect", "refused: Django answered 403")


def test_connect_without_the_gateway_secret_is_refused_by_django(start_gateway):
    gateway = start_gateway(secret="not-the-configured-secret-but-long-enough")

    async def scenario():
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(gateway.ws_url)
            return refused.value.status

    assert run(scenario()) == 403
    assert not WebSocketSession.objects.exists()


def test_management_api_answers_410_while_the_connect_is_in_flight(start_gateway, django_side):
    import threading

    gateway = start_gateway()
    django_side.hold_connect = threading.Event()
    api = management(gateway)

    async def scenario():
        async with aiohttp.ClientSession() as http:
            connecting = asyncio.ensure_future(http.ws_connect(gateway.ws_url))
            try:
                await asyncio.to_thread(django_side.connect_started.wait, TIMEOUT)
                (connection_id,) = django_side.connect_headers
                with pytest.raises(api.exceptions.GoneException):
                    await asyncio.to_thread(
                        api.post_to_connection, ConnectionId=connection_id, Data=b"early"
                    )
            finally:
                django_side.hold_connect.set()
            ws = await connecting
            await asyncio.to_thread(api.post_to_connection, ConnectionId=connection_id, Data=b"now")
            msg = await ws.receive(timeout=TIMEOUT)
            await ws.close()
            return msg.data

    assert run(scenario()) == "now"


# -- messages ---------------------------------------------------------------------------


def test_route_response_sends_djangos_answer_back_to_the_client(start_gateway, handler_calls):
    gateway = start_gateway()

    async def scenario():
        async with connected(gateway) as ws:
            await ws.send_str(json.dumps({"text": "hello"}))
            return await receive_json(ws)

    assert run(scenario()) == {"echo": {"text": "hello"}, "user": None}
    assert [name for name, _ in handler_calls] == ["default"]


def test_message_is_routed_to_the_custom_route_its_action_names(start_gateway, handler_calls):
    gateway = start_gateway()

    async def scenario():
        async with connected(gateway, "?channel=blue") as ws:
            await ws.send_str(json.dumps({"action": "presence", "handler": "status"}))
            return await receive_json(ws)

    assert run(scenario()) == {"channel": "blue"}
    assert [name for name, _ in handler_calls] == ["presence"]


def test_unknown_action_and_non_json_frames_go_to_the_default_route(start_gateway, handler_calls):
    gateway = start_gateway()

    async def scenario():
        async with connected(gateway) as ws:
            await ws.send_str(json.dumps({"action": "no-such-route"}))
            echoed = await receive_json(ws)
            await ws.send_str("not json at all")
            refused = await receive_json(ws)  # Django's 400 body, passed through
            return echoed, refused

    echoed, refused = run(scenario())
    assert echoed["echo"] == {"action": "no-such-route"}
    assert set(refused) == {"error"}
    assert [name for name, _ in handler_calls] == ["default"]


def test_message_posts_carry_the_gateway_user_agent_and_mapped_headers(start_gateway, django_side):
    gateway = start_gateway()

    async def scenario():
        async with connected(gateway, headers={"Cookie": "a=b"}) as ws:
            await ws.send_str(json.dumps({"handler": "headers"}))
            return await receive_json(ws)

    seen = run(scenario())
    assert seen["connectionid"] == only_session().connection_id
    assert seen["user-agent"] == f"AmazonAPIGateway_{API_ID}"
    assert seen["x-amzn-apigateway-api-id"] == API_ID
    assert seen["x-apigw-ws-route-key"] == "$default"
    assert seen["x-apigw-ws-event-type"] == "MESSAGE"
    assert "cookie" not in seen  # handshake headers go to $connect only
    assert "x-apigw-ws-secret" in seen


def test_route_without_a_route_response_sends_nothing_back(
    start_gateway, gateway_log, handler_calls
):
    gateway = start_gateway(route_responses=())

    async def scenario():
        async with connected(gateway) as ws:
            await ws.send_str(json.dumps({"text": "one-way"}))
            await asyncio.to_thread(gateway_log.wait_for, "-> $default: Django answered 200")
            # Anything sent for the first message is ahead of this reply on the socket.
            await ws.send_str(json.dumps({"handler": "say", "text": "pushed"}))
            return await receive_json(ws)

    assert run(scenario()) == {"type": "said", "text": "pushed"}
    assert [name for name, _ in handler_calls] == ["default", "say"]


# -- the Management API through boto3 ---------------------------------------------------


def test_ctx_reply_reaches_the_client_through_post_to_connection(start_gateway, gateway_log):
    gateway = start_gateway()

    async def scenario():
        async with connected(gateway) as ws:
            await ws.send_str(json.dumps({"handler": "say", "text": "héllo"}))
            return await receive_json(ws)

    assert run(scenario()) == {"type": "said", "text": "héllo"}
    gateway_log.wait_for("@connections POST", ": 200")


def test_boto3_post_get_and_delete_work_unchanged_against_the_gateway(start_gateway, django_side):
    gateway = start_gateway()
    api = management(gateway)

    async def scenario():
        async with connected(gateway, headers={"User-Agent": "UA/2"}) as ws:
            connection_id = only_id(gateway)
            await asyncio.to_thread(
                api.post_to_connection, ConnectionId=connection_id, Data=b'{"n": 1}'
            )
            pushed = await receive_json(ws)
            info = await asyncio.to_thread(api.get_connection, ConnectionId=connection_id)
            deleted = await asyncio.to_thread(api.delete_connection, ConnectionId=connection_id)
            code = await expect_close(ws)
            return connection_id, pushed, info, deleted, code

    connection_id, pushed, info, deleted, code = run(scenario())
    assert pushed == {"n": 1}
    assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "UA/2"}
    assert info["ConnectedAt"] <= info["LastActiveAt"]
    assert info["ConnectedAt"].tzinfo is not None
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert code == 1000
    assert django_side.disconnect_event(connection_id).wait(TIMEOUT)
    assert not session_of(connection_id).connected


def test_delete_connection_closes_the_socket_and_django_sees_the_disconnect(
    start_gateway, django_side
):
    gateway = start_gateway()
    api = management(gateway)

    async def scenario():
        async with connected(gateway) as ws:
            connection_id = only_id(gateway)
            await asyncio.to_thread(api.delete_connection, ConnectionId=connection_id)
            return connection_id, await expect_close(ws)

    connection_id, code = run(scenario())
    assert code == 1000
    assert django_side.disconnect_event(connection_id).wait(TIMEOUT)
    session = session_of(connection_id)
    assert not session.connected
    assert session.disconnected_at is not None


def test_every_management_call_on_a_closed_connection_is_gone_410(start_gateway, gateway_log):
    gateway = start_gateway()
    api = management(gateway)

    async def scenario():
        async with connected(gateway) as ws:
            connection_id = only_id(gateway)
            await ws.close()
        return connection_id

    connection_id = run(scenario())
    for call, kwargs in (
        (api.post_to_connection, {"Data": b"late"}),
        (api.get_connection, {}),
        (api.delete_connection, {}),
    ):
        with pytest.raises(api.exceptions.GoneException):
            call(ConnectionId=connection_id, **kwargs)
    gateway_log.wait_for(f"disconnect {connection_id}", "client closed", "answered 200")
    assert not session_of(connection_id).connected


def test_session_send_message_marks_a_closed_connection_disconnected(start_gateway, gateway_log):
    gateway = start_gateway()

    async def scenario():
        async with connected(gateway) as ws:
            connection_id = only_id(gateway)
            await ws.close()
        return connection_id

    session = session_of(run(scenario()))
    # The row still says connected: pretend the $disconnect never arrived (best effort),
    # a minute ago (a 410 right after the row is written may be a $connect in flight).
    gateway_log.wait_for(f"disconnect {session.connection_id}", "answered 200")
    WebSocketSession.objects.filter(pk=session.pk).update(
        connected=True, connected_at=session.connected_at - datetime.timedelta(minutes=1)
    )
    assert session.send_message({"too": "late"}) is False
    assert not session_of(session.connection_id).connected


def test_post_to_connection_above_131072_bytes_is_413_and_at_the_limit_is_delivered(
    start_gateway,
):
    gateway = start_gateway()
    api = management(gateway)

    async def scenario():
        async with connected(gateway) as ws:
            connection_id = only_id(gateway)
            with pytest.raises(api.exceptions.PayloadTooLargeException):
                await asyncio.to_thread(
                    api.post_to_connection, ConnectionId=connection_id, Data=b"x" * 131073
                )
            await asyncio.to_thread(
                api.post_to_connection, ConnectionId=connection_id, Data=b"y" * 131072
            )
            msg = await ws.receive(timeout=TIMEOUT)
            return msg.data

    assert run(scenario()) == "y" * 131072


# -- closing ----------------------------------------------------------------------------


def test_frame_above_32_kb_closes_the_socket_with_1009_and_django_sees_the_disconnect(
    start_gateway, django_side, handler_calls
):
    gateway = start_gateway()

    async def scenario():
        async with connected(gateway) as ws:
            connection_id = only_id(gateway)
            at_limit = json.dumps({"pad": "a" * (32768 - 11)})
            assert len(at_limit) == 32768
            await ws.send_str(at_limit)
            echoed = await receive_json(ws)
            await ws.send_str(json.dumps({"pad": "b" * 32768}))
            return connection_id, echoed, await expect_close(ws)

    connection_id, echoed, code = run(scenario())
    assert len(echoed["echo"]["pad"]) == 32768 - 11
    assert code == 1009
    assert django_side.disconnect_event(connection_id).wait(TIMEOUT)
    assert [name for name, _ in handler_calls] == ["default"]  # the big one never reached it


def test_binary_frame_closes_the_socket_with_1003(start_gateway, django_side, handler_calls):
    gateway = start_gateway()

    async def scenario():
        async with connected(gateway) as ws:
            connection_id = only_id(gateway)
            await ws.send_bytes(b'{"handler": "say", "text": "binary"}')
            return connection_id, await expect_close(ws)

    connection_id, code = run(scenario())
    assert code == 1003
    assert django_side.disconnect_event(connection_id).wait(TIMEOUT)
    assert handler_calls == []


def test_idle_timeout_closes_the_socket_with_1001_and_django_sees_the_disconnect(
    start_gateway, django_side, gateway_log
):
    gateway = start_gateway(idle_timeout=0.3)

    async def scenario():
        async with connected(gateway) as ws:
            return only_id(gateway), await expect_close(ws)

    connection_id, code = run(scenario())
    assert code == 1001
    assert django_side.disconnect_event(connection_id).wait(TIMEOUT)
    gateway_log.wait_for(f"disconnect {connection_id}", "idle timeout")


def test_maximum_duration_closes_even_an_active_socket(start_gateway, django_side, gateway_log):
    gateway = start_gateway(max_duration=0.5)

    async def scenario():
        async with connected(gateway) as ws:
            connection_id = only_id(gateway)
            while True:  # keep talking: only the maximum duration can end this
                await ws.send_str(json.dumps({"keep": "alive"}))
                msg = await ws.receive(timeout=TIMEOUT)
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    assert msg.type is aiohttp.WSMsgType.CLOSE, msg
                    return connection_id, msg.data

    connection_id, code = run(scenario())
    assert code == 1001
    gateway_log.wait_for(f"disconnect {connection_id}", "maximum connection duration")
    assert django_side.disconnect_event(connection_id).wait(TIMEOUT)


def test_stopping_the_gateway_closes_every_socket_and_posts_each_disconnect(
    start_gateway, django_side, settings
):
    from apigw_ws.devgateway import run_in_thread

    from .conftest import STAGE

    target = start_gateway().config.target
    running = run_in_thread(
        target=target, api_id=API_ID, stage=STAGE, port=0, secret=settings.TEST_GATEWAY_SECRET
    )

    async def scenario():
        async with aiohttp.ClientSession() as http:
            gateway = running.__enter__()
            sockets = [await http.ws_connect(gateway.ws_url) for _ in range(3)]
            ids = gateway.connection_ids()
            await asyncio.to_thread(running.__exit__, None, None, None)
            return ids, [await expect_close(ws) for ws in sockets]

    ids, codes = run(scenario())
    assert codes == [1001, 1001, 1001]
    assert len(ids) == 3
    for connection_id in ids:
        assert django_side.disconnect_event(connection_id).is_set()  # before stop returned
    assert not WebSocketSession.objects.filter(connected=True).exists()


# -- a Django that is down or slow ------------------------------------------------------


def test_slow_django_on_a_message_gets_aws_timeout_message_and_the_gateway_keeps_serving(
    start_gateway, django_side
):
    gateway = start_gateway(integration_timeout=0.5)

    async def scenario():
        async with connected(gateway) as ws:
            try:
                await ws.send_str(json.dumps({"handler": "slow"}))
                timed_out = await receive_json(ws)
            finally:
                django_side.release_slow.set()
            await ws.send_str(json.dumps({"still": "here"}))
            return only_id(gateway), timed_out, await receive_json(ws)

    connection_id, timed_out, echoed = run(scenario())
    assert timed_out["message"] == "Endpoint request timed out"
    assert timed_out["connectionId"] == connection_id
    assert timed_out["requestId"]
    assert echoed["echo"] == {"still": "here"}


def test_slow_django_on_connect_refuses_the_upgrade_with_504(start_gateway, django_side):
    import threading

    gateway = start_gateway(integration_timeout=0.5)
    django_side.hold_connect = threading.Event()

    async def scenario():
        async with aiohttp.ClientSession() as http:
            try:
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(gateway.ws_url)
            finally:
                django_side.hold_connect.set()
            return refused.value.status

    assert run(scenario()) == 504
    assert gateway.connection_ids() == []


# -- many sockets -----------------------------------------------------------------------


def test_500_concurrent_sockets_each_get_their_own_message(start_gateway, gateway_log):
    gateway = start_gateway()
    count = 500

    async def one(http, n):
        ws = await http.ws_connect(gateway.ws_url)
        await ws.send_str(json.dumps({"handler": "say", "text": f"for socket {n}"}))
        return ws, await receive_json(ws)

    async def scenario():
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            results = await asyncio.gather(*(one(http, n) for n in range(count)))
            ids = sorted(gateway.connection_ids())
            await asyncio.gather(*(ws.close() for ws, _ in results))
            return ids, [reply for _, reply in results]

    ids, replies = run(scenario(), timeout=60)
    assert replies == [{"type": "said", "text": f"for socket {n}"} for n in range(count)]
    assert len(set(ids)) == count
    assert WebSocketSession.objects.filter(connection_id__in=ids).count() == count
    gateway_log.wait_for("disconnect", "client closed", "answered 200", count=count, timeout=40)
