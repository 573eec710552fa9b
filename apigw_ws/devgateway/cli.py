"""Options shared by ``manage.py ws_devgateway`` and ``python -m apigw_ws.devgateway``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from apigw_ws import cli_types
from apigw_ws.errors import ConfigurationError
from apigw_ws.protocol import (
    AWS_API_ID_HEADER,
    CONNECT_ROUTE,
    DEFAULT_ROUTE,
    DEFAULT_ROUTE_SELECTION_EXPRESSION,
    DISCONNECT_ROUTE,
    SECRET_HEADER,
    url_route_for,
)

from .config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    IDLE_TIMEOUT,
    INTEGRATION_TIMEOUT,
    MAX_DURATION,
    GatewayConfig,
)
from .faults import Faults
from .server import DevGateway

SECRET_ENV = "APIGW_WS_GATEWAY_SECRET"


def _route_responses(value: str) -> frozenset[str] | None:
    if value == "all":
        return None
    if value == "none":
        return frozenset()
    return frozenset(key.strip() for key in value.split(",") if key.strip())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options every way of starting the gateway understands."""
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="Address to bind (default: %(default)s)."
    )
    parser.add_argument(
        "--port",
        type=cli_types.port,
        default=DEFAULT_PORT,
        help="Port to bind, 0 for any (default: %(default)s).",
    )
    parser.add_argument(
        "--route-responses",
        type=_route_responses,
        default=None,
        metavar="all|none|KEY,...",
        help="Routes whose Django answer is sent back to the client (default: all, as"
        " provisioning creates a $default route response for routes that reply).",
    )
    parser.add_argument(
        "--no-keep-alive",
        dest="keep_alive",
        action="store_false",
        help="A new connection to Django per event. Faster one at a time against runserver,"
        " which pauses ~40 ms on every reused connection; slower under load.",
    )
    timing = parser.add_argument_group("limits (defaults are API Gateway's)")
    for flag, default, what in (
        ("--integration-timeout", INTEGRATION_TIMEOUT, "How long Django may take to answer"),
        ("--idle-timeout", IDLE_TIMEOUT, "Close a socket the client sent nothing on for this long"),
        ("--max-duration", MAX_DURATION, "Close every socket after this long"),
    ):
        timing.add_argument(
            flag,
            type=cli_types.seconds(allow_zero=False),
            default=default,
            metavar="SECONDS",
            help=f"{what} (default: %(default)s).",
        )
    faults = parser.add_argument_group("fault injection on the Management API")
    faults.add_argument(
        "--latency",
        type=cli_types.seconds(),
        default=0.0,
        metavar="SECONDS",
        help="Added to every call.",
    )
    for flag, status in (("--throttle-rate", 429), ("--error-rate", 500)):
        faults.add_argument(
            flag,
            type=cli_types.fraction,
            default=0.0,
            metavar="FRACTION",
            help=f"Calls answered {status}.",
        )
    faults.add_argument(
        "--gone",
        action="append",
        default=[],
        metavar="CONNECTION_ID",
        help="A connection id always answered 410; repeat for more.",
    )
    faults.add_argument(
        "--seed", type=int, default=None, help="Make the injected faults repeatable."
    )


def config_from_options(options: Mapping[str, Any], **fields: Any) -> GatewayConfig:
    """Return the ``GatewayConfig`` of parsed ``options``; ``fields`` come from elsewhere."""
    faults = Faults(
        latency=options["latency"],
        throttle_rate=options["throttle_rate"],
        error_rate=options["error_rate"],
        gone=options["gone"],
        seed=options["seed"],
    )
    return GatewayConfig(
        host=options["host"],
        port=options["port"],
        route_responses=options["route_responses"],
        keep_alive=options["keep_alive"],
        integration_timeout=options["integration_timeout"],
        idle_timeout=options["idle_timeout"],
        max_duration=options["max_duration"],
        faults=faults,
        **fields,
    )


def configure_logging(verbosity: int) -> None:
    """Print the gateway's one line per event on stderr unless logging is set up already."""
    log = logging.getLogger("apigw_ws.devgateway")
    log.setLevel({0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG))
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.propagate = False


def describe(config: GatewayConfig, ws_url: str, management_url: str) -> str:
    """Return the start-up summary: where to connect, and where each route goes."""
    lines = [
        f"WebSocket URL:       {ws_url}",
        f"Management API:      {management_url}  (boto3 endpoint_url)",
        f"API id / stage:      {config.api_id} / {config.stage}",
        f"Route selection:     {config.route_selection_expression}",
        "Routes:",
    ]
    keys = [CONNECT_ROUTE, DISCONNECT_ROUTE, *sorted(config.routes)]
    for key in keys:
        reply = ""
        if key not in (CONNECT_ROUTE, DISCONNECT_ROUTE):
            reply = "  (route response)" if config.has_route_response(key) else "  (one-way)"
        lines.append(f"  {key:<20} POST {config.target}{url_route_for(key)}{reply}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the gateway without a Django project: every fact comes from flags."""
    parser = argparse.ArgumentParser(
        prog="python -m apigw_ws.devgateway",
        description="A local API Gateway WebSocket API in front of an HTTP backend.",
    )
    parser.add_argument(
        "--target",
        required=True,
        help="Base URL of the integration, e.g. http://127.0.0.1:8000/ws/",
    )
    parser.add_argument("--api-id", default="local", help=f"API id sent in {AWS_API_ID_HEADER}.")
    parser.add_argument("--stage", default="local", help="Stage name (default: %(default)s).")
    parser.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="KEY",
        help="A custom route key with an integration; repeat for more. $default always has one.",
    )
    parser.add_argument("--route-selection-expression", default=DEFAULT_ROUTE_SELECTION_EXPRESSION)
    parser.add_argument(
        "--secret",
        default=os.environ.get(SECRET_ENV) or None,
        help=f"Value of the {SECRET_HEADER} header (default: ${SECRET_ENV}, which keeps it"
        " out of the process list).",
    )
    parser.add_argument("-v", "--verbosity", type=int, default=1, choices=(0, 1, 2))
    add_arguments(parser)
    options = vars(parser.parse_args(argv))

    try:
        config = config_from_options(
            options,
            target=options["target"],
            api_id=options["api_id"],
            stage=options["stage"],
            routes={DEFAULT_ROUTE, *options["route"]},
            route_selection_expression=options["route_selection_expression"],
            secret=options["secret"],
        )
    except (ValueError, ConfigurationError) as exc:
        parser.error(str(exc))
    configure_logging(options["verbosity"])

    def started(gateway: DevGateway) -> None:
        print(describe(config, gateway.ws_url, gateway.management_url), file=sys.stderr)

    try:
        DevGateway(config).run(on_start=started)
    except OSError as exc:
        parser.exit(1, f"cannot listen on {config.host}:{config.port}: {exc}\n")
    return 0
