"""``manage.py ws_devgateway``: a local API Gateway in front of this project, on loopback."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...conf import ws_settings
from ...models import ApiGateway
from ...runtime import get_plugins
from ..base import resolve_gateway

CREATE_HINT = (
    "Create one for local development in the admin, or with:\n"
    '  python manage.py shell -c "from apigw_ws.contrib.django.models import ApiGateway;'
    " ApiGateway.objects.create(api_name='local', api_id='local', stage_name='local',"
    " target_base_endpoint='http://127.0.0.1:8000/ws/')\""
)


#: ``--gateway`` names a row (which must be enabled); else the only enabled one.
GATEWAY_MESSAGES = {
    "unknown": "No ApiGateway named {key!r} (there are: {names}).",
    "disabled": "ApiGateway {key!r} is disabled, so Django refuses its requests: enable it.",
    "none": "There is no enabled ApiGateway row to emulate. "
    + CREATE_HINT.replace("{", "{{").replace("}", "}}"),
    "several": "Several gateways are enabled ({names}): pick one with --gateway.",
}


def pick_gateway(api_name: str | None) -> ApiGateway:
    """Return the ``ApiGateway`` row named ``api_name``, or the only enabled one."""
    return resolve_gateway(
        api_name or None, by=("api_name",), enabled=True, messages=GATEWAY_MESSAGES
    )


def _same_endpoint(configured: str | None, url: str) -> bool:
    if not configured:
        return False
    a, b = urlsplit(configured.rstrip("/")), urlsplit(url)
    local = {"127.0.0.1", "localhost", "::1"}
    same_host = a.hostname == b.hostname or {a.hostname, b.hostname} <= local
    return a.scheme == b.scheme and same_host and a.port == b.port and a.path in ("", "/")


class Command(BaseCommand):
    help = (
        "Run a local stand-in for API Gateway: browsers open WebSockets to it, it posts"
        " connect, messages and disconnect to this project with API Gateway's headers, and"
        " it serves the Management API (@connections) that boto3 talks to."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        from apigw_ws.devgateway.cli import add_arguments

        parser.add_argument(
            "--gateway",
            metavar="API_NAME",
            help="The ApiGateway row to emulate (default: the only enabled one).",
        )
        parser.add_argument(
            "--target",
            help="Where to post events, e.g. http://127.0.0.1:8000/ws/ (default: the row's"
            " target base endpoint).",
        )
        parser.add_argument("--stage", help="Stage name (default: the row's).")
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            from apigw_ws.devgateway import DevGateway
            from apigw_ws.devgateway.cli import config_from_options, configure_logging, describe
        except ImportError as exc:
            raise CommandError(str(exc)) from exc
        from apigw_ws.errors import ConfigurationError

        gateway = pick_gateway(options["gateway"])
        target = options["target"] or gateway.target_base_endpoint
        if not target:
            raise CommandError(
                f"ApiGateway {gateway.api_name!r} has no target base endpoint: set it, or pass"
                " --target http://127.0.0.1:8000/ws/"
            )
        if not gateway.api_id:
            raise CommandError(
                f"ApiGateway {gateway.api_name!r} has no API id; Django accepts only requests"
                " that carry one. Set it (any value, e.g. 'local', for a local-only gateway)."
            )
        secrets = ws_settings.secrets
        try:
            config = config_from_options(
                options,
                target=target,
                api_id=gateway.api_id,
                stage=options["stage"] or gateway.stage_name,
                routes={"$default", *get_plugins().registry.routes()},
                route_selection_expression=gateway.route_selection_expression,
                secret=secrets[0] if secrets else None,
            )
        except (ValueError, ConfigurationError) as exc:
            raise CommandError(str(exc)) from exc
        configure_logging(options["verbosity"])

        def started(server: DevGateway) -> None:
            self.stdout.write(f"Emulating ApiGateway {gateway.api_name!r}")
            self.stdout.write(describe(config, server.ws_url, server.management_url))
            for warning in self.warnings(gateway, config, server):
                self.stderr.write(self.style.WARNING(warning))
            self.stdout.write("Quit with CONTROL-C (open sockets get their $disconnect).")

        try:
            DevGateway(config).run(on_start=started)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {config.host}:{config.port}: {exc}") from exc

    def warnings(self, gateway: ApiGateway, config: Any, server: Any) -> list[str]:
        """Return what would make local development silently misbehave."""
        found = []
        if not _same_endpoint(ws_settings.ENDPOINT_URL, server.endpoint_url):
            found.append(
                f"APIGW_WS['ENDPOINT_URL'] is {ws_settings.ENDPOINT_URL!r}, so ctx.reply() and"
                f" send_message() post to {gateway.management_endpoint}, not here. Set it to"
                f" {server.endpoint_url!r} while developing locally."
            )
        if config.stage != gateway.stage_name:
            found.append(
                f"--stage {config.stage!r} differs from the row's stage {gateway.stage_name!r}:"
                " Management API calls from Django will be answered 403."
            )
        if not config.secret:
            found.append(
                "APIGW_WS['GATEWAY_SECRET'] is not set: requests carry no secret header, as a"
                " misconfigured production gateway would."
            )
        host = urlsplit(config.target).hostname or ""
        if host not in ("127.0.0.1", "localhost", "::1"):
            found.append(f"Events are posted to {config.target}, which is not this machine.")
        return found
