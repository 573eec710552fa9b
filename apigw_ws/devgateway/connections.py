"""The connection table and the Management API (``/{stage}/@connections/{id}``) over it.

Answers follow the Management API's model (botocore's ``apigatewaymanagementapi``): 200
for PostToConnection, 200 with ``connectedAt``/``lastActiveAt``/``identity`` for
GetConnection, 204 for DeleteConnection; errors carry ``x-amzn-ErrorType`` so boto3
raises ``GoneException``, ``PayloadTooLargeException``, ``LimitExceededException``...
SigV4 headers are accepted and never verified.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import unquote

import attrs
from aiohttp import web

from apigw_ws.ids import new_connection_id, request_id
from apigw_ws.validation import CONNECTION_ID_RE

from .config import GatewayConfig
from .integration import Client

logger = logging.getLogger(__name__)  # under apigw_ws.devgateway, which the CLI configures

#: ``/@connections/{id}`` with an optional stage first; ``@`` may arrive as ``%40``.
MANAGEMENT_PATH_RE = re.compile(r"(?:/(?P<stage>[^/@%]+))?/(?:@|%40)connections/(?P<id>[^/]*)")


class State(enum.Enum):
    CONNECTING = "connecting"  # $connect is being handled: the Management API says 410
    OPEN = "open"
    CLOSED = "closed"


def _now() -> datetime:
    return datetime.now(UTC)


def iso8601(moment: datetime) -> str:
    """Return ``moment`` as the Management API writes timestamps (``...T12:00:00.000Z``)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class SinkSocket:
    """A client socket that is not there: it takes every message and counts it.

    ``DevGateway.open_sinks()`` gives connections one, so that load tests and benchmarks
    can post to thousands of open connections without thousands of real sockets.
    """

    closed = False

    def __init__(self) -> None:
        self.messages = 0

    async def send_str(self, _data: str) -> None:
        self.messages += 1

    async def send_bytes(self, _data: bytes) -> None:
        self.messages += 1

    async def close(self, **_options: object) -> bool:
        self.closed = True
        return True


@attrs.define(eq=False)
class Connection:
    """One client socket, from the upgrade request until it is closed."""

    id: str
    client: Client
    user_agent: str
    state: State = State.CONNECTING
    ws: web.WebSocketResponse | SinkSocket | None = attrs.field(default=None, repr=False)
    connected_at: datetime = attrs.field(factory=_now)
    last_active_at: datetime = attrs.field(factory=_now)
    opened: float = attrs.field(factory=time.monotonic)
    last_active: float = attrs.field(factory=time.monotonic)
    close_reason: str = ""
    close_code: int | None = None  # the code the gateway closed with, if it closed first
    in_flight: int = 0  # messages being forwarded to Django right now
    throttle_notice: bool = False  # a "Too Many Requests" frame is being sent

    def open(self, ws: web.WebSocketResponse | SinkSocket) -> None:
        self.ws, self.state = ws, State.OPEN
        self.connected_at = self.last_active_at = _now()
        self.opened = self.last_active = time.monotonic()

    def touch(self) -> None:
        """Record client activity: it resets the idle timeout."""
        self.last_active_at, self.last_active = _now(), time.monotonic()

    async def send(self, data: bytes | str, timeout: float | None = None) -> bool:
        """Send one message to the client; return ``False`` if the socket is gone.

        A client that does not read within ``timeout`` seconds is dropped (its socket is
        aborted, and ``$disconnect`` follows): its full buffer must not hold up whoever
        is sending, e.g. a Management API post.
        """
        ws = self.ws
        if self.state is not State.OPEN or ws is None or ws.closed:
            return False
        try:
            if isinstance(data, bytes):
                try:
                    data = data.decode("utf-8")
                except UnicodeDecodeError:
                    await asyncio.wait_for(ws.send_bytes(data), timeout)
                    return True
            await asyncio.wait_for(ws.send_str(data), timeout)
        except (ConnectionError, RuntimeError):
            return False
        except TimeoutError:
            self.close_reason = "client too slow to read"
            # aiohttp has no public abort: the request's transport is the socket.
            transport = getattr(getattr(ws, "_req", None), "transport", None)
            if transport is not None:
                transport.abort()
            return False
        return True


class ConnectionTable:
    """Every connection the gateway knows, by id; ids leave the table when they close."""

    def __init__(self) -> None:
        self._by_id: dict[str, Connection] = {}

    def add(self, client_factory: Callable[[str], Client], user_agent: str) -> Connection:
        connection_id = new_connection_id()
        while connection_id in self._by_id:
            connection_id = new_connection_id()
        connection = Connection(connection_id, client_factory(connection_id), user_agent)
        self._by_id[connection_id] = connection
        return connection

    def get(self, connection_id: str) -> Connection | None:
        return self._by_id.get(connection_id)

    def close(self, connection: Connection, reason: str) -> bool:
        """Mark ``connection`` closed and forget it; return ``False`` if it already was."""
        if connection.state is State.CLOSED:
            return False
        connection.state, connection.close_reason = State.CLOSED, reason
        self._by_id.pop(connection.id, None)
        return True

    def open_connections(self) -> list[Connection]:
        # copy() is atomic: other threads (tests, benchmarks) may call this safely.
        return [c for c in self._by_id.copy().values() if c.state is State.OPEN]

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._by_id.copy().values()))

    def __len__(self) -> int:
        return len(self._by_id)


def aws_error(status: int, error_type: str, message: str | None) -> web.Response:
    """Return an error as the Management API sends it: botocore reads the type header."""
    return web.json_response(
        {"message": message},
        status=status,
        headers={"x-amzn-ErrorType": error_type, "x-amzn-RequestId": request_id()},
    )


FORBIDDEN_PATH = "Missing Authentication Token"
_FAULT_ERRORS = {
    410: ("GoneException", None),
    429: ("LimitExceededException", "Rate exceeded"),
    500: ("InternalServerErrorException", "Internal server error"),
}


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    """Return the request body, or ``None`` as soon as it is longer than ``limit``."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, size = [], 0
    while chunk := await request.content.read(65536):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class ManagementApi:
    """``POST``, ``GET`` and ``DELETE`` on ``@connections/{id}``, answered as AWS does."""

    def __init__(
        self,
        config: GatewayConfig,
        table: ConnectionTable,
        disconnect: Callable[[Connection, int, str], Awaitable[None]],
    ) -> None:
        self.config = config
        self.table = table
        self._disconnect = disconnect
        self._rng = config.faults.new_random()

    async def handle(self, request: web.Request, stage: str | None, quoted_id: str) -> web.Response:
        connection_id = unquote(quoted_id)
        response = await self._answer(request, stage, connection_id)
        logger.info(
            "@connections %s %s: %s%s",
            request.method,
            connection_id[:140] or "(no id)",
            response.status,
            f" {response.headers['x-amzn-ErrorType']}"
            if "x-amzn-ErrorType" in response.headers
            else "",
        )
        return response

    async def _answer(
        self, request: web.Request, stage: str | None, connection_id: str
    ) -> web.Response:
        if stage is not None and stage != self.config.stage:
            logger.warning(
                "@connections call for stage %r, but this gateway serves stage %r: check"
                " APIGW_WS['ENDPOINT_URL'] and the ApiGateway row's stage",
                stage[:64],
                self.config.stage,
            )
            return aws_error(403, "ForbiddenException", "Forbidden")
        if request.method not in ("POST", "GET", "DELETE") or not connection_id:
            return aws_error(403, "ForbiddenException", FORBIDDEN_PATH)
        if not CONNECTION_ID_RE.fullmatch(connection_id):
            return aws_error(
                400, "BadRequestException", f"Invalid connectionId: {connection_id[:140]}"
            )
        faults = self.config.faults
        if faults.latency:
            await asyncio.sleep(faults.latency)
        injected = faults.status_for(connection_id, self._rng) if faults.active else None
        if injected is not None:
            return aws_error(injected, *_FAULT_ERRORS[injected])
        if request.method == "POST":
            return await self._post(request, connection_id)
        connection = self.table.get(connection_id)
        if connection is None or connection.state is not State.OPEN:
            return aws_error(410, "GoneException", None)
        if request.method == "GET":
            return web.json_response(
                {
                    "connectedAt": iso8601(connection.connected_at),
                    "identity": {
                        "sourceIp": connection.client.source_ip,
                        "userAgent": connection.user_agent,
                    },
                    "lastActiveAt": iso8601(connection.last_active_at),
                },
                headers={"x-amzn-RequestId": request_id()},
            )
        await self._disconnect(connection, 1000, "deleted through the Management API")
        return web.Response(status=204, headers={"x-amzn-RequestId": request_id()})

    async def _post(self, request: web.Request, connection_id: str) -> web.Response:
        limit = self.config.max_payload_bytes
        data = await _read_limited(request, limit)
        if data is None:
            return aws_error(
                413, "PayloadTooLargeException", f"Message too long. Max size is {limit} bytes."
            )
        connection = self.table.get(connection_id)
        # A connection whose $connect is still in flight is not there yet: 410, as on AWS.
        if connection is None or not await connection.send(data, self.config.send_timeout):
            return aws_error(410, "GoneException", None)
        return web.Response(status=200, headers={"x-amzn-RequestId": request_id()})
