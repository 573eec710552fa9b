"""The plan: what ``apply`` would change so that AWS matches the desired state.

A plan is an ordered tuple of ``Change`` values: creates and updates first (an
integration before the route that targets it), then deletes, then the deployment, then
the custom domain and its mapping. ``apply`` executes them in that order.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from . import desired as d
from .live import LiveApi, LiveDomain, LiveIntegration, LiveRoute

DEPLOYMENT_MARKER = "apigw_ws config "

API, INTEGRATION, ROUTE, ROUTE_RESPONSE, STAGE = (
    "api",
    "integration",
    "route",
    "route response",
    "stage",
)
DEPLOYMENT, DOMAIN, MAPPING, TAGS = "deployment", "domain", "mapping", "tags"
CREATE, UPDATE, DELETE, REPLACE = "create", "update", "delete", "replace"


@attrs.frozen
class Change:
    """One create / update / replace / delete of one AWS resource.

    ``name`` is the route key, API, stage or domain name; ``ref`` the live id it acts on
    (empty for a create); ``details`` say what differs, with the secret never shown.
    """

    action: str
    kind: str
    name: str
    details: tuple[str, ...] = ()
    ref: str = ""

    def __str__(self) -> str:
        return f"{self.action} {self.kind} {self.name}"

    def as_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "kind": self.kind,
            "name": self.name,
            "details": list(self.details),
            "id": self.ref,
        }


def deployment_description(spec: d.GatewaySpec) -> str:
    return DEPLOYMENT_MARKER + spec.fingerprint


def _param_details(want: Mapping[str, str], have: Mapping[str, str]) -> list[str]:
    out = []
    for key in sorted(set(want) | set(have)):
        if want.get(key) == have.get(key):
            continue
        header = key.removeprefix("integration.request.")
        if d.is_secret_parameter(key):
            out.append(
                f"{header}: "
                + ("set" if key not in have else "rotated" if key in want else "removed")
            )
        elif key not in have:
            out.append(f"{header}: add {want[key]}")
        elif key not in want:
            out.append(f"{header}: remove {have[key]}")
        else:
            out.append(f"{header}: {have[key]} -> {want[key]}")
    return out


def integration_details(want: d.RouteSpec, have: LiveIntegration) -> list[str]:
    """Return how the live integration differs from the desired one."""
    pairs = [
        ("type", d.INTEGRATION_TYPE, have.type),
        ("method", d.INTEGRATION_METHOD, have.method),
        ("uri", want.integration_uri, have.uri),
        ("payload format", d.PAYLOAD_FORMAT_VERSION, have.payload_format_version),
        ("timeout", d.TIMEOUT_MILLIS, have.timeout),
    ]
    out = [f"{label}: {old} -> {new}" for label, new, old in pairs if new != old]
    return out + _param_details(want.request_parameters, have.request_parameters)


def _route_changes(spec: d.GatewaySpec, live: LiveApi | None) -> list[Change]:
    changes: list[Change] = []
    for route in spec.routes:
        have = live.route(route.route_key) if live else None
        integration = live.integrations.get(have.integration_id) if live and have else None
        if integration is None:
            changes.append(Change(CREATE, INTEGRATION, route.route_key, (route.integration_uri,)))
        elif details := integration_details(route, integration):
            # A parameter AWS holds that we do not want can only go with a new integration.
            extra = set(integration.request_parameters) - set(route.request_parameters)
            action = REPLACE if extra else UPDATE
            changes.append(
                Change(action, INTEGRATION, route.route_key, tuple(details), integration.id)
            )
        changes += _route_change(route, have, integration)
    return changes


def _route_change(
    route: d.RouteSpec, have: LiveRoute | None, integration: LiveIntegration | None
) -> list[Change]:
    rrse = d.ROUTE_RESPONSE_KEY if route.route_response else ""
    if have is None:
        out = [Change(CREATE, ROUTE, route.route_key)]
    else:
        details = []
        if integration is None:
            details.append("target: (missing) -> new integration")
        if have.route_response_selection_expression != rrse:
            details.append(
                f"route response selection: {have.route_response_selection_expression or '-'}"
                f" -> {rrse or '-'}"
            )
        out = [Change(UPDATE, ROUTE, route.route_key, tuple(details), have.id)] if details else []
    if route.route_response and (
        have is None or d.ROUTE_RESPONSE_KEY not in have.route_response_keys
    ):
        out.append(Change(CREATE, ROUTE_RESPONSE, route.route_key, (d.ROUTE_RESPONSE_KEY,)))
    return out


def _deletions(spec: d.GatewaySpec, live: LiveApi) -> list[Change]:
    wanted = {r.route_key for r in spec.routes}
    out = [
        Change(DELETE, ROUTE, r.route_key, ("no handler is registered on it",), r.id)
        for r in live.routes
        if r.route_key not in wanted
    ]
    # Kept: the targets of wanted routes whose integration is not being replaced.
    kept = {
        r.integration_id
        for r in live.routes
        if r.route_key in wanted and r.integration_id in live.integrations
    }
    out += [
        Change(
            DELETE,
            INTEGRATION,
            integration.uri or integration.id,
            ("no route uses it",),
            integration.id,
        )
        for integration in live.integrations.values()
        if integration.id not in kept
    ]
    return out


def _api_changes(spec: d.GatewaySpec, live: LiveApi | None) -> list[Change]:
    if live is None:
        return [Change(CREATE, API, spec.name, ("protocol WEBSOCKET",))]
    pairs = [
        ("name", spec.name, live.name),
        ("description", spec.description, live.description),
        ("route selection", spec.route_selection_expression, live.route_selection_expression),
    ]
    details = [f"{label}: {old!r} -> {new!r}" for label, new, old in pairs if new != old]
    out = [Change(UPDATE, API, spec.name, tuple(details), live.id)] if details else []
    # Tags someone added in AWS are left alone; only ours are added or corrected.
    tags = [
        f"{k}: {live.tags.get(k, '-')} -> {v}"
        for k, v in sorted(spec.tags.items())
        if live.tags.get(k) != v
    ]
    if tags:
        out.append(Change(UPDATE, TAGS, spec.name, tuple(tags), live.id))
    return out


def _stage_changes(spec: d.GatewaySpec, live: LiveApi | None, changed: bool) -> list[Change]:
    stage = live.stage if live else None
    out = []
    if stage is None:
        out.append(Change(CREATE, STAGE, spec.stage_name))
    elif stage.description != spec.stage_description:
        out.append(
            Change(
                UPDATE,
                STAGE,
                spec.stage_name,
                (f"description: {stage.description!r} -> {spec.stage_description!r}",),
            )
        )
    current = stage.deployment_description if stage else ""
    if changed or current != deployment_description(spec):
        reason = (
            "configuration changed"
            if changed
            else (
                "the stage runs no deployment"
                if not current
                else "the stage runs an older configuration"
            )
        )
        out.append(Change(CREATE, DEPLOYMENT, spec.stage_name, (reason,)))
    return out


def domain_changes(spec: d.GatewaySpec, api_id: str, live: LiveDomain | None) -> list[Change]:
    """Return the changes that make the custom domain and its root mapping match."""
    domain = spec.domain
    if domain is None:
        return []
    out = []
    if live is None:
        out.append(Change(CREATE, DOMAIN, domain.domain_name, ("REGIONAL, TLS_1_2",)))
    elif live.certificate_arn != domain.certificate_arn:
        out.append(Change(UPDATE, DOMAIN, domain.domain_name, ("certificate changed",)))
    want = (api_id or "(new API)", spec.stage_name)
    if live is None or not live.mapping_id:
        out.append(Change(CREATE, MAPPING, domain.domain_name, (f"{want[0]}/{want[1]}",)))
    elif (live.mapping_api_id, live.mapping_stage) != want:
        detail = f"{live.mapping_api_id}/{live.mapping_stage} -> {want[0]}/{want[1]}"
        out.append(Change(UPDATE, MAPPING, domain.domain_name, (detail,), live.mapping_id))
    return out


def plan(
    spec: d.GatewaySpec, live: LiveApi | None, domain: LiveDomain | None = None
) -> tuple[Change, ...]:
    """Return the changes that make ``live`` match ``spec``; empty when they already match."""
    changes = _api_changes(spec, live) + _route_changes(spec, live)
    if live is not None:
        changes += _deletions(spec, live)
    changed = any(c.kind != TAGS for c in changes)
    changes += _stage_changes(spec, live, changed=changed)
    changes += domain_changes(spec, live.id if live else "", domain)
    return tuple(changes)
