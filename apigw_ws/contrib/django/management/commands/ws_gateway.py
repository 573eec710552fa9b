"""``manage.py ws_gateway plan|apply|status|domain|iam-policy``: provision API Gateway.

``plan`` shows what ``apply`` would change; ``apply`` makes AWS match the ``ApiGateway``
row and the registered handlers, then deploys the stage; ``domain`` sets up the custom
domain and prints the DNS record; ``iam-policy`` prints the least-privilege policy.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apigw_ws.contrib.django import provisioning
from apigw_ws.contrib.django.models import ApiGateway
from apigw_ws.provisioning import (
    ApplyResult,
    Change,
    ProvisioningError,
    dns_instructions,
    make_client,
    policy,
)
from apigw_ws.provisioning.errors import explain

from ..base import format_table, resolve_gateway

ACTIONS = ("plan", "apply", "status", "domain", "iam-policy")
#: Any row may be provisioned, a disabled one too.
GATEWAY_MESSAGES = {
    "none": "no ApiGateway row exists: add one in the admin (api_name, target_base_endpoint)",
    "several": "several gateways exist ({quoted_names}): choose one with --gateway",
}


def change_rows(changes: tuple[Change, ...]) -> list[list[str]]:
    return [[c.action, c.kind, c.name, "; ".join(c.details)] for c in changes]


class Command(BaseCommand):
    help = (
        "Provision the API Gateway WebSocket API of an ApiGateway row: plan, apply (and"
        " deploy), status, domain (custom domain and DNS record), iam-policy."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=ACTIONS)
        parser.add_argument(
            "--gateway",
            help="The ApiGateway row: its api_name, api_id or pk. Needed when there are several.",
        )
        parser.add_argument("--json", action="store_true", help="Print JSON for scripts.")
        parser.add_argument(
            "--provisioning",
            action="store_true",
            help="iam-policy: add the rights plan/apply/domain need (for a deploy role).",
        )
        parser.add_argument(
            "--account-id", help="iam-policy: the AWS account id (default: asked from STS)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        gateway = self.get_gateway(options["gateway"])
        action = options["action"].replace("-", "_")
        try:
            getattr(self, f"do_{action}")(gateway, options)
        except ProvisioningError as exc:
            raise CommandError(provisioning.redact(str(exc))) from None

    def get_gateway(self, key: str | None) -> ApiGateway:
        """Return the row ``--gateway`` names (api_name, api_id or pk), or the only row."""
        return resolve_gateway(
            key or None, by=("api_name", "api_id", "pk"), messages=GATEWAY_MESSAGES
        )

    def emit(self, options: dict[str, Any], data: Any, text: str) -> None:
        self.stdout.write(json.dumps(data, indent=2) if options["json"] else text)

    def do_plan(self, gateway: ApiGateway, options: dict[str, Any]) -> None:
        changes = provisioning.plan_gateway(gateway)
        if options["json"]:
            self.emit(options, [c.as_dict() for c in changes], "")
            return
        if not changes:
            self.stdout.write(f"No changes: AWS matches {gateway.api_name!r}.")
            return
        self.stdout.write(format_table(["ACTION", "KIND", "NAME", "DETAILS"], change_rows(changes)))
        self.stdout.write(f"\n{len(changes)} change(s). Run 'ws_gateway apply' to make them.")

    def _result(self, options: dict[str, Any], result: ApplyResult, gateway: ApiGateway) -> None:
        data = {
            "changes": [c.as_dict() for c in result.changes],
            "api_id": result.api_id,
            "api_endpoint": result.api_endpoint or gateway.api_endpoint,
            "deployment_id": result.deployment_id,
        }
        if options["json"]:
            self.emit(options, data, "")
            return
        if result.changes:
            self.stdout.write(
                format_table(["ACTION", "KIND", "NAME", "DETAILS"], change_rows(result.changes))
            )
            self.stdout.write(f"\nApplied {len(result.changes)} change(s).")
        else:
            self.stdout.write("No changes: AWS already matches.")
        self.stdout.write(f"API {data['api_id']} at {data['api_endpoint']}")

    def do_apply(self, gateway: ApiGateway, options: dict[str, Any]) -> None:
        self._result(options, provisioning.apply_gateway(gateway), gateway)

    def do_domain(self, gateway: ApiGateway, options: dict[str, Any]) -> None:
        result = provisioning.apply_domain_gateway(gateway)
        assert result.domain is not None
        lines = dns_instructions(result.domain, hosted_zone_id=gateway.hosted_zone_id)
        if options["json"]:
            domain = result.domain
            self.emit(
                options,
                {
                    "changes": [c.as_dict() for c in result.changes],
                    "domain_name": domain.domain_name,
                    "dns_target": domain.target_domain_name,
                    "dns_hosted_zone_id": domain.hosted_zone_id,
                    "mapping_id": domain.mapping_id,
                },
                "",
            )
            return
        if result.changes:
            self.stdout.write(
                format_table(["ACTION", "KIND", "NAME", "DETAILS"], change_rows(result.changes))
            )
        self.stdout.write("\n".join(lines))

    def do_status(self, gateway: ApiGateway, options: dict[str, Any]) -> None:
        data = provisioning.status(gateway)
        rows = [[key, ", ".join(v) if isinstance(v, list) else str(v)] for key, v in data.items()]
        self.emit(options, data, format_table(["FIELD", "VALUE"], rows))

    def do_iam_policy(self, gateway: ApiGateway, options: dict[str, Any]) -> None:
        region = provisioning.region_for(gateway)
        account = options["account_id"] or self.account_id(region)
        if not gateway.api_id:
            self.stderr.write("The API has no id yet (run apply first): '*' stands in for it.")
        document = policy(
            region=region,
            account_id=account,
            api_id=gateway.api_id,
            stage=gateway.stage_name,
            provisioning=options["provisioning"],
        )
        self.stdout.write(json.dumps(document, indent=2))

    def account_id(self, region: str) -> str:
        try:
            sts = make_client("sts", region=region, credentials=provisioning.credentials())
            return sts.get_caller_identity()["Account"]
        except Exception as exc:
            reason = (
                explain(exc, "GetCallerIdentity") if not isinstance(exc, ProvisioningError) else exc
            )
            self.stderr.write(f"Account id unknown ({reason}); '*' stands in. Pass --account-id.")
            return "*"
