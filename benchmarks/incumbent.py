"""The incumbent's side: django-aws-api-gateway-websockets 4.1.0, run in its own venv.

``run.py`` starts this with ``benchmarks/.venv-incumbent/bin/python`` and reads the JSON
it prints on stdout. By hand::

    benchmarks/.venv-incumbent/bin/python benchmarks/incumbent.py --db sqlite \
        --sqlite-path /tmp/incumbent.sqlite3

Configured like our side: the gateway secret on, no WebSocket token (``USE_WS_TOKEN =
False``), an explicit ``ALLOWED_HANDLERS`` with one echo handler, an ``ApiGateway`` row and
a connected ``WebSocketSession`` row with a user, and the headers its ``WebSocketView``
requires on a message (``required_headers`` + ``additional_required_headers`` in its
``views.py``), as API Gateway sends them.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import metadata

import common


def incumbent_headers() -> dict[str, str]:
    """What API Gateway sends on a ``$default`` message through the incumbent's integration."""
    return {
        "Host": "backend.example.com",
        "Connectionid": common.CONNECTION_ID,  # its integration maps context.connectionId
        "User-Agent": f"AmazonAPIGateway_{common.API_ID}",
        "X-Amzn-Apigateway-Api-Id": common.API_ID,
        "X-Amzn-Trace-Id": "Root=1-67890abc-0123456789abcdef01234567",
        "X-Forwarded-For": common.SOURCE_IP,
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        "X-Real-Ip": common.SOURCE_IP,
        "X-Ws-Gateway-Secret": common.GATEWAY_SECRET,  # its GATEWAY_SECRET_HEADER
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=sorted(common.SETUPS), default="sqlite")
    parser.add_argument("--pg-name", default="apigw_ws_bench_incumbent")
    parser.add_argument("--sqlite-path", default="", help="the database file (sqlite set-ups)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=500)
    args = parser.parse_args()

    common.configure(
        common.database(args.db, pg_name=args.pg_name, sqlite_path=args.sqlite_path),
        ["django_aws_api_gateway_websockets"],
        # Its gateway secret (checked first on every request, constant-time), and no AWS
        # calls when rows are saved.
        WEBSOCKETS={"gateway_secret": common.GATEWAY_SECRET, "push_changes_to_aws": False},
    )

    from django.core.handlers.wsgi import WSGIHandler
    from django.http import JsonResponse
    from django.urls import path
    from django_aws_api_gateway_websockets.models import (
        ApiGateway,
        WebSocketSession,
        hash_session_key,
        hash_user_auth,
    )
    from django_aws_api_gateway_websockets.views import WebSocketView

    class EchoView(WebSocketView):
        USE_WS_TOKEN = False
        ALLOWED_HANDLERS = {"echo"}

        def echo(self, request, *args, **kwargs):
            return JsonResponse({"echo": self.body, "user": request.user.get_username()})

    common.set_urlpatterns([path("ws/<str:route>", EchoView.as_view())])

    # The rows its connect route would have written for a logged-in user.
    gateway = ApiGateway.objects.create(api_name="bench", api_id=common.API_ID)
    user = common.create_user()
    WebSocketSession.objects.create(
        connection_id=common.CONNECTION_ID,
        channel_name="lobby",
        user=user,
        api_gateway=gateway,
        session_key_hash=hash_session_key("benchmark-django-session-key"),
        auth_hash=hash_user_auth(user),
    )

    handler = WSGIHandler()
    headers = incumbent_headers()
    runs = {"rounds": args.rounds, "messages": args.messages, "warmup": args.warmup}
    results = {
        "versions": {
            "django-aws-api-gateway-websockets": metadata.version(
                "django-aws-api-gateway-websockets"
            ),
            "Django": metadata.version("Django"),
            "python": sys.version.split()[0],
        },
        **common.contenders(
            handler,
            {
                "incumbent": (common.wsgi_environ("/ws/default", headers), common.ECHO_REPLY),
                "incumbent_bare": (
                    common.wsgi_environ("/bare/default", headers),
                    common.BARE_REPLY,
                ),
            },
            **runs,
        ),
    }
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
