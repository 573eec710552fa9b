"""A second front end for the pipeline: a Lambda-style handler with an in-memory store.

It shares nothing with the Django view but ``apigw_ws.pipeline``; ``test_pipeline.py``
drives it, in a fresh interpreter, to show that the pipeline's order needs no Django.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import apigw_ws
from apigw_ws import pipeline
from apigw_ws.errors import BadRequest, RequestRefused
from apigw_ws.events import Event
from apigw_ws.plugins import load_plugins

SECRET = "s" * 40
SETTINGS = SimpleNamespace(
    MAX_MESSAGE_BYTES=131072, HANDLER_KEY="handler", ALLOWED_ORIGINS=(), RATE_LIMIT={}
)


class Anonymous:
    is_authenticated = False
    is_active = False
    pk = None

    def has_perm(self, perm: str) -> bool:
        return False


class User:
    is_authenticated = is_active = True

    def __init__(self, pk: int, perms: set[str]) -> None:
        self.pk, self.perms = pk, perms

    def has_perm(self, perm: str) -> bool:
        return perm in self.perms


class Session:
    def __init__(self, connection_id: str, channel: str, user: Any) -> None:
        self.connection_id, self.channel_name, self.user = connection_id, channel, user
        self.connected, self.sent = True, []

    def send_message(self, data: Any) -> bool:
        self.sent.append(data)
        return True


class MemoryStore:
    """``pipeline.SessionStore`` in memory; a ``?user=<pk>`` query logs the connect in."""

    def __init__(self, users: dict[int, User]) -> None:
        self.users = users
        self.gateways = {"lambdaapi1": SimpleNamespace(pk=1, default_channel_name="")}
        self.sessions: dict[str, Session] = {}
        self.log: list[str] = []

    def gateway(self, api_id):
        return self.gateways.get(api_id)

    def atomic(self, func):
        self.log.append("begin")
        result = func()
        self.log.append("commit")
        return result

    def login_user(self, context):
        pk = context.query.get("user")
        return self.users.get(int(pk)) if pk else Anonymous()

    def open_session(self, context):
        if context.connection_id in self.sessions:
            raise BadRequest("already known")
        session = Session(context.connection_id, context.channel, context.user)
        self.sessions[context.connection_id] = session
        self.log.append(f"open {context.connection_id}")
        return session

    def opened(self, session):
        self.log.append(f"opened {session.connection_id}")

    def session_for_message(self, connection_id, gateway, *, permissions):
        session = self.sessions.get(connection_id)
        return session if session is not None and session.connected else None

    def user_of(self, session):
        return session.user if isinstance(session.user, User) else Anonymous()

    def close_session(self, connection_id, gateway, *, load):
        session = self.sessions.get(connection_id)
        if session is None:
            return None
        if not session.connected:
            return False
        session.connected = False
        return session if load else True


@apigw_ws.handler(name="echo")
def echo(ctx):
    ctx.reply({"to": ctx.connection_id})
    return {"echo": dict(ctx.body), "channel": ctx.channel}


@apigw_ws.handler(name="admin", permissions=["app.admin"])
def admin(ctx):
    return {"ok": True}


class EchoPlugin:
    calls: list[str] = []

    @apigw_ws.hookimpl
    def apigw_ws_register_handlers(self, register):
        register(echo)
        register(admin)

    @apigw_ws.hookimpl
    def apigw_ws_on_connect(self, session):
        self.calls.append(f"on_connect {session.connection_id}")

    @apigw_ws.hookimpl
    def apigw_ws_on_disconnect(self, session):
        self.calls.append(f"on_disconnect {session.connection_id}")


PLUGINS = load_plugins(
    ["apigw_ws.builtin_plugins.permissions", "apigw_ws.builtin_plugins.validators"],
    load_entry_points=False,
    objects=[("echo", EchoPlugin())],
)


def handle(store: MemoryStore, aws_event: dict[str, Any]) -> dict[str, Any]:
    """What a Lambda handler for an ``AWS_PROXY`` integration would do."""
    ctx = aws_event["requestContext"]
    routes = {"$connect": "connect", "$disconnect": "disconnect", "$default": "default"}
    headers = {k.lower(): v for k, v in (aws_event.get("headers") or {}).items()}
    event = Event(
        route=routes.get(ctx["routeKey"], ctx["routeKey"]),
        connection_id=ctx["connectionId"],
        api_id=ctx["apiId"],
        headers=headers,
        query=aws_event.get("queryStringParameters") or {},
        body=(aws_event.get("body") or "").encode(),
    )
    try:
        pipeline.verify_event(event, secrets=[SECRET])
        if event.is_connect:
            pipeline.connect(PLUGINS, event, store, SETTINGS)
            return {"statusCode": 200}
        if event.is_disconnect:
            pipeline.disconnect(PLUGINS, event, store)
            return {"statusCode": 200}
        _handler, result = pipeline.message(PLUGINS, event, store, SETTINGS)
        return {"statusCode": 200, "body": json.dumps(result)}
    except RequestRefused as exc:
        return {"statusCode": exc.status, "body": json.dumps({"error": exc.public})}
    except pipeline.HandlerFailed:
        return {"statusCode": 500, "body": json.dumps({"error": "Internal error"})}
