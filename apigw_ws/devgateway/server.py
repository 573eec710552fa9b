"""The local gateway: browsers' WebSockets and the Management API on one aiohttp port.

``$connect`` holds the upgrade until Django has answered; each text frame becomes one
POST to the route's integration; a closed socket (client close, idle timeout, maximum
duration, ``DELETE @connections``, shutdown) is followed by a ``$disconnect`` POST.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import WSMsgType, web

from apigw_ws.ids import request_id
from apigw_ws.log_redaction import redact_loggers
from apigw_ws.protocol import CONNECT_ROUTE, DISCONNECT_ROUTE

from .config import GatewayConfig
from .connections import (
    MANAGEMENT_PATH_RE,
    Connection,
    ConnectionTable,
    ManagementApi,
    SinkSocket,
    State,
)
from .integration import Client, Integration

logger = logging.getLogger(__name__)  # under apigw_ws.devgateway, which the CLI configures

GOING_AWAY = 1001
UNSUPPORTED_DATA = 1003
#: What the client is told when the integration fails, as API Gateway words it.
TIMED_OUT = "Endpoint request timed out"
INTERNAL_ERROR = "Internal server error"
THROTTLED = "Too Many Requests"
NOT_WEBSOCKET = (
    "This is apigw_ws's local API Gateway. Open a WebSocket to {ws_url}; the Management"
    " API is at {management_url}/@connections/{{connection_id}}.\n"
)


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):  # noqa: S104 - a wildcard bind is reached through loopback
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def raise_open_file_limit(wanted: int = 65536) -> int:
    """Raise this process's open-file limit towards ``wanted``; return the new soft limit.

    Every client socket and every connection to Django is a file descriptor: with the
    common default of 1024, a few hundred browsers and their forwards exhaust it.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX: nothing to raise
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    return soft


class DevGateway:
    """A local stand-in for one API Gateway WebSocket API stage.

    Use it as an async context manager, call ``run()`` to serve until Ctrl-C, or
    ``apigw_ws.devgateway.run_in_thread()`` from synchronous code.
    """

    def __init__(self, config: GatewayConfig | None = None, **options: Any) -> None:
        self.config = config if config is not None else GatewayConfig(**options)
        self.table = ConnectionTable()
        self.integration = Integration(self.config)
        self.management = ManagementApi(self.config, self.table, self._close)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sockets: set[asyncio.Task[Any]] = set()

    # -- addresses -------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the gateway is not started")
        return self._port

    @property
    def endpoint_url(self) -> str:
        """Return the value for ``APIGW_WS["ENDPOINT_URL"]``: this gateway, without stage."""
        return f"http://{_url_host(self.config.host)}:{self.port}"

    @property
    def management_url(self) -> str:
        """Return the Management API endpoint, as boto3's ``endpoint_url`` takes it."""
        return f"{self.endpoint_url}/{self.config.stage}"

    @property
    def ws_url(self) -> str:
        """Return the URL clients connect to (the stage, as on AWS)."""
        return f"ws://{_url_host(self.config.host)}:{self.port}/{self.config.stage}"

    def connection_ids(self) -> list[str]:
        """Return the ids of the open connections."""
        return [c.id for c in self.table.open_connections()]

    def open_sinks(self, count: int, user_agent: str = "apigw_ws-sink") -> list[str]:
        """Open ``count`` connections that have no socket; return their ids.

        For load tests and benchmarks. The Management API treats them as open: POST is
        answered 200 and counted by the connection's ``SinkSocket``
        (``gateway.table.get(id).ws.messages``); GET describes the connection; DELETE
        closes it. No ``$connect`` or ``$disconnect`` is posted to Django for them, so
        the caller creates the session rows. Safe to call from another thread.
        """
        ids = []
        for _ in range(count):
            connection = self.table.add(self._sink_client, user_agent)
            connection.open(SinkSocket())
            ids.append(connection.id)
        return ids

    def _sink_client(self, connection_id: str) -> Client:
        return Client(connection_id, "127.0.0.1", "127.0.0.1", self._port or 0, "http")

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Bind, start serving and open the pooled client to Django."""
        redact_loggers()  # aiohttp logs a client's subprotocols, token entry included
        config = self.config
        open_files = raise_open_file_limit()
        sock = _bind(config.host, config.port)
        self._port = sock.getsockname()[1]
        await self.integration.start()
        app = web.Application(client_max_size=config.max_payload_bytes + 1024)
        # [\s\S], not ".": a path may decode to a newline (%0A), and it too gets an answer.
        app.router.add_route("*", r"/{tail:[\s\S]*}", self._dispatch)
        app.on_shutdown.append(self._on_shutdown)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=config.close_timeout
        )
        await self._runner.setup()
        # A deep backlog: hundreds of sockets opening at once must not wait on SYN retries.
        await web.SockSite(self._runner, sock, backlog=1024).start()
        if not config.loopback:
            logger.warning(
                "!!! The local API Gateway listens on %s, reachable from other machines."
                " It authenticates nobody: anyone who reaches it can open sockets and post"
                " to every connection. Bind to 127.0.0.1 unless you mean it. !!!",
                config.host,
            )
        logger.info(
            "local API Gateway %s (stage %s) on %s -> %s; Management API %s; open-file limit %s",
            config.api_id,
            config.stage,
            self.ws_url,
            config.target,
            self.management_url,
            open_files,
        )

    async def stop(self) -> None:
        """Close every socket (each followed by its ``$disconnect`` POST), then stop."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()  # runs _on_shutdown first
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.config.integration_timeout)
        await self.integration.close()

    async def __aenter__(self) -> DevGateway:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    def run(self, on_start: Callable[[DevGateway], None] | None = None) -> None:
        """Serve until SIGINT or SIGTERM, then shut down cleanly.

        ``on_start(gateway)`` is called once the gateway listens.
        """
        asyncio.run(self._serve_until_signalled(on_start))

    async def _serve_until_signalled(self, on_start: Callable[[DevGateway], None] | None) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Not possible outside the main thread, nor on Windows: Ctrl-C still stops.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await self.start()
        try:
            if on_start is not None:
                on_start(self)
            await stop.wait()
        finally:
            logger.info("shutting down: closing %d sockets", len(self.table.open_connections()))
            await self.stop()

    async def _on_shutdown(self, _app: web.Application) -> None:
        self._stopping = True
        await asyncio.gather(
            *(
                self._close(c, GOING_AWAY, "gateway shut down")
                for c in self.table.open_connections()
            ),
            return_exceptions=True,
        )
        if self._sockets:
            # Each socket's handler posts its $disconnect before it returns.
            await asyncio.wait(
                list(self._sockets),
                timeout=self.config.integration_timeout + self.config.close_timeout,
            )

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        # A bug, not bad input: say so in one line instead of "exception never retrieved".
        if not task.cancelled() and task.exception() is not None:
            logger.error("forwarding a message failed", exc_info=task.exception())

    # -- requests --------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.raw_path.split("?", 1)[0]
        match = MANAGEMENT_PATH_RE.fullmatch(path)
        if match:
            return await self.management.handle(request, match["stage"], match["id"])
        if path.rstrip("/") in ("", f"/{self.config.stage}") and request.method == "GET":
            if web.WebSocketResponse().can_prepare(request).ok:
                return await self._websocket(request)
            text = NOT_WEBSOCKET.format(ws_url=self.ws_url, management_url=self.management_url)
            return web.Response(status=426, text=text, headers={"Upgrade": "websocket"})
        logger.info("%s %s: 403, not a stage or Management API path", request.method, path[:200])
        return web.json_response({"message": "Forbidden"}, status=403)

    def _client(self, request: web.Request) -> Callable[[str], Client]:
        source_ip = request.remote or ""
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        port = sockname[1] if sockname else self.port
        claimed = request.headers.get("X-Forwarded-For", "").strip()
        # Like API Gateway: a client-sent X-Forwarded-For is kept, its real address appended.
        forwarded_for = f"{claimed}, {source_ip}" if claimed else source_ip

        def make(connection_id: str) -> Client:
            return Client(connection_id, source_ip, forwarded_for, port, request.scheme)

        return make

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if self._stopping:
            return web.Response(status=503)
        conn = self.table.add(self._client(request), request.headers.get("User-Agent", ""))
        outcome = await self.integration.post(
            CONNECT_ROUTE,
            conn.client,
            query=request.rel_url.raw_query_string,
            handshake=request.headers,
        )
        if not outcome.ok or self._stopping:
            self.table.close(conn, "connect refused")
            status = outcome.status or (504 if outcome.error == "timeout" else 502)
            log = logger.warning if outcome.status is None else logger.info
            log(
                "connect %s from %s refused: %s", conn.id, conn.client.source_ip, outcome.describe()
            )
            if outcome.ok:  # accepted by Django, but the gateway is going away
                await self._post_disconnect(conn, GOING_AWAY)
                status = 503
            return web.Response(status=status)
        protocol = outcome.headers.get("Sec-WebSocket-Protocol")
        ws = web.WebSocketResponse(
            protocols=(protocol,) if protocol else (),
            max_msg_size=self.config.max_frame_bytes + 1,  # aiohttp's limit is exclusive
            compress=False,
            autoclose=False,
            timeout=self.config.close_timeout,
        )
        task = asyncio.current_task()
        assert task is not None
        self._sockets.add(task)
        try:
            # Open before the 101 goes out: whoever sees the socket open finds it here.
            conn.open(ws)
            try:
                await ws.prepare(request)
            except (ConnectionError, RuntimeError) as exc:
                self.table.close(conn, f"client left during $connect ({type(exc).__name__})")
                await self._post_disconnect(conn, None)
                return ws
            logger.info(
                "connect %s from %s: %s; socket open",
                conn.id,
                conn.client.source_ip,
                outcome.describe(),
            )
            await self._read_frames(conn, ws)
            return ws
        finally:
            self._sockets.discard(task)

    async def _read_frames(self, conn: Connection, ws: web.WebSocketResponse) -> None:
        config = self.config
        while conn.state is State.OPEN:
            now = time.monotonic()
            idle_left = conn.last_active + config.idle_timeout - now
            hard_left = conn.opened + config.max_duration - now
            if idle_left <= 0 or hard_left <= 0:
                reason = "idle timeout" if idle_left <= 0 else "maximum connection duration"
                await self._close(conn, GOING_AWAY, reason)
                break
            try:
                msg = await ws.receive(timeout=min(idle_left, hard_left))
            except TimeoutError:
                continue
            if msg.type is WSMsgType.TEXT:
                conn.touch()
                if conn.in_flight >= config.max_in_flight:
                    # Like API Gateway's throttling: answered, not forwarded, not queued;
                    # one notice at a time, so a flood cannot pile up sends either.
                    logger.info("message %s: %d in flight, throttled", conn.id, conn.in_flight)
                    if not conn.throttle_notice:
                        conn.throttle_notice = True
                        self._spawn(self._tell_throttled(conn))
                    continue
                conn.in_flight += 1
                self._spawn(self._forward(conn, msg.data.encode()))
            elif msg.type is WSMsgType.BINARY:
                # API Gateway takes text frames only.
                await self._close(conn, UNSUPPORTED_DATA, "binary frame")
            elif msg.type is WSMsgType.CLOSE:
                self.table.close(conn, "client closed")
                await ws.close()
            elif msg.type is WSMsgType.ERROR:
                # aiohttp has already closed the socket: 1009 for a frame over the limit.
                self.table.close(conn, f"bad frame: {msg.data}")
            else:  # CLOSING / CLOSED: _close() or the transport ended the socket
                self.table.close(conn, "connection lost")
        await self._post_disconnect(conn, conn.close_code or ws.close_code)

    async def _close(self, conn: Connection, code: int, reason: str) -> None:
        """Close the client's socket with ``code``; its handler then posts ``$disconnect``."""
        if not self.table.close(conn, reason):
            return
        conn.close_code = code
        if conn.ws is not None:
            with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError):
                await asyncio.wait_for(
                    conn.ws.close(code=code, message=reason.encode()[:120]),
                    self.config.close_timeout,
                )

    async def _post_disconnect(self, conn: Connection, code: int | None) -> None:
        outcome = await self.integration.post(DISCONNECT_ROUTE, conn.client)
        log = logger.info if outcome.ok else logger.warning
        log(
            "disconnect %s (%s, close code %s): %s",
            conn.id,
            conn.close_reason or "closed",
            code,
            outcome.describe(),
        )

    async def _tell_throttled(self, conn: Connection) -> None:
        try:
            await conn.send(self._gateway_message(conn, THROTTLED), self.config.send_timeout)
        finally:
            conn.throttle_notice = False

    async def _forward(self, conn: Connection, body: bytes) -> None:
        try:
            await self._forward_one(conn, body)
        finally:
            conn.in_flight -= 1

    async def _forward_one(self, conn: Connection, body: bytes) -> None:
        timeout = self.config.send_timeout
        route_key = self.config.selector.select(body)
        if route_key is None:
            logger.info("message %s matched no route and there is no $default route", conn.id)
            await conn.send(self._gateway_message(conn, "Forbidden"), timeout)
            return
        outcome = await self.integration.post(route_key, conn.client, body=body)
        replied = ""
        if outcome.status is None:
            message = TIMED_OUT if outcome.error == "timeout" else INTERNAL_ERROR
            await conn.send(self._gateway_message(conn, message), timeout)
            replied = f", told the client {message!r}"
        elif self.config.has_route_response(route_key) and outcome.body:
            # HTTP_PROXY: the backend's body is the route response, whatever its status.
            sent = await conn.send(outcome.body, timeout)
            replied = f", route response {len(outcome.body)} bytes" + (
                "" if sent else " (socket gone)"
            )
        log = logger.warning if outcome.status is None else logger.info
        log("message %s -> %s: %s%s", conn.id, route_key, outcome.describe(), replied)

    @staticmethod
    def _gateway_message(conn: Connection, message: str) -> str:
        return json.dumps({"message": message, "connectionId": conn.id, "requestId": request_id()})
