"""Make AWS match the desired state, one ``Change`` at a time.

Idempotent by construction: every run reads the live state first and executes only the
plan's changes, so a second run does nothing and a run after a failure completes what
the failed one left. On failure ``ApplyIncomplete`` lists what was done; the caller
records nothing as applied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import attrs

from ..errors import ApplyIncomplete, InvalidGatewaySpec, ProvisioningError
from . import desired as d
from . import diff
from .diff import Change
from .live import LiveApi, LiveDomain, call, read_api, read_domain

logger = logging.getLogger(__name__)


@attrs.frozen
class ApplyResult:
    """What ``apply`` did, and the ids and endpoints AWS gave back."""

    changes: tuple[Change, ...]
    api_id: str
    api_endpoint: str
    deployment_id: str = ""
    domain: LiveDomain | None = None


@attrs.define
class _Context:
    client: Any
    spec: d.GatewaySpec
    live: LiveApi | None
    api_id: str = ""
    api_endpoint: str = ""
    deployment_id: str = ""
    integration_ids: dict[str, str] = attrs.field(factory=dict)  # route key -> id
    route_ids: dict[str, str] = attrs.field(factory=dict)


def read_state(client: Any, spec: d.GatewaySpec) -> tuple[LiveApi | None, LiveDomain | None]:
    """Return the live API and, when the spec has one, the live custom domain."""
    live = read_api(client, name=spec.name, stage_name=spec.stage_name, api_id=spec.api_id)
    domain = read_domain(client, spec.domain.domain_name) if spec.domain else None
    return live, domain


def make_plan(client: Any, spec: d.GatewaySpec) -> tuple[tuple[Change, ...], LiveApi | None]:
    """Return the plan against the live state (and that state); changes nothing."""
    live, domain = read_state(client, spec)
    return diff.plan(spec, live, domain), live


def apply(
    client: Any,
    spec: d.GatewaySpec,
    *,
    on_api_created: Callable[[str, str], None] | None = None,
) -> ApplyResult:
    """Execute the plan; return what changed. ``on_api_created(id, endpoint)`` runs at once
    after a new API exists, so that its id is recorded even if a later step fails."""
    live, domain = read_state(client, spec)
    changes = diff.plan(spec, live, domain)
    ctx = _Context(client=client, spec=spec, live=live)
    if live is not None:
        ctx.api_id, ctx.api_endpoint = live.id, live.endpoint
        ctx.route_ids = {r.route_key: r.id for r in live.routes}
        ctx.integration_ids = {
            r.route_key: r.integration_id
            for r in live.routes
            if r.integration_id in live.integrations
        }
        ctx.deployment_id = live.stage.deployment_id if live.stage else ""
    done = _run(ctx, changes, on_api_created)
    final_domain = read_domain(client, spec.domain.domain_name) if spec.domain else None
    return ApplyResult(
        changes=tuple(done),
        api_id=ctx.api_id,
        api_endpoint=ctx.api_endpoint,
        deployment_id=ctx.deployment_id,
        domain=final_domain,
    )


def apply_domain(client: Any, spec: d.GatewaySpec, api_id: str) -> ApplyResult:
    """Create or update only the custom domain and its mapping to the existing API."""
    if spec.domain is None:
        raise InvalidGatewaySpec("domain_name", "is empty: set the custom domain first")
    if not api_id:
        raise ProvisioningError("the API does not exist yet: run 'ws_gateway apply' first")
    live = read_domain(client, spec.domain.domain_name)
    ctx = _Context(client=client, spec=spec, live=None, api_id=api_id)
    done = _run(ctx, diff.domain_changes(spec, api_id, live))
    return ApplyResult(
        changes=tuple(done),
        api_id=api_id,
        api_endpoint="",
        domain=read_domain(client, spec.domain.domain_name),
    )


def _run(
    ctx: _Context,
    changes: tuple[Change, ...] | list[Change],
    on_api_created: Callable[[str, str], None] | None = None,
) -> list[Change]:
    done: list[Change] = []
    for change in changes:
        try:
            _execute(ctx, change)
        except ProvisioningError as exc:
            logger.warning("apigw_ws apply of %r stopped at %s: %s", ctx.spec.name, change, exc)
            raise ApplyIncomplete(done, change, exc) from exc
        done.append(change)
        if change.kind == diff.API and change.action == diff.CREATE and on_api_created:
            on_api_created(ctx.api_id, ctx.api_endpoint)
    return done


def _integration_args(route: d.RouteSpec) -> dict[str, Any]:
    return {
        "IntegrationType": d.INTEGRATION_TYPE,
        "IntegrationMethod": d.INTEGRATION_METHOD,
        "IntegrationUri": route.integration_uri,
        "ConnectionType": "INTERNET",
        "PayloadFormatVersion": d.PAYLOAD_FORMAT_VERSION,
        "TimeoutInMillis": d.TIMEOUT_MILLIS,
        "RequestParameters": dict(route.request_parameters),
    }


def _route_args(route: d.RouteSpec, integration_id: str) -> dict[str, Any]:
    args: dict[str, Any] = {"Target": f"integrations/{integration_id}"}
    if route.route_response:
        args["RouteResponseSelectionExpression"] = d.ROUTE_RESPONSE_KEY
    return args


def _execute(ctx: _Context, change: Change) -> None:
    handler = _HANDLERS[(change.kind, change.action)]
    handler(ctx, change)


def _create_api(ctx: _Context, change: Change) -> None:
    spec = ctx.spec
    api = call(
        ctx.client,
        "create_api",
        Name=spec.name,
        ProtocolType="WEBSOCKET",
        RouteSelectionExpression=spec.route_selection_expression,
        Description=spec.description,
        Tags=dict(spec.tags),
    )
    ctx.api_id, ctx.api_endpoint = api["ApiId"], api.get("ApiEndpoint", "")


def _update_api(ctx: _Context, change: Change) -> None:
    spec = ctx.spec
    call(
        ctx.client,
        "update_api",
        ApiId=ctx.api_id,
        Name=spec.name,
        Description=spec.description,
        RouteSelectionExpression=spec.route_selection_expression,
    )


def _update_tags(ctx: _Context, change: Change) -> None:
    region = ctx.client.meta.region_name
    arn = f"arn:aws:apigateway:{region}::/apis/{ctx.api_id}"
    call(ctx.client, "tag_resource", ResourceArn=arn, Tags=dict(ctx.spec.tags))


def _route(ctx: _Context, change: Change) -> d.RouteSpec:
    route = ctx.spec.route(change.name)
    assert route is not None
    return route


def _create_integration(ctx: _Context, change: Change) -> None:
    args = _integration_args(_route(ctx, change))
    created = call(ctx.client, "create_integration", ApiId=ctx.api_id, **args)
    ctx.integration_ids[change.name] = created["IntegrationId"]


def _update_integration(ctx: _Context, change: Change) -> None:
    args = _integration_args(_route(ctx, change))
    call(ctx.client, "update_integration", ApiId=ctx.api_id, IntegrationId=change.ref, **args)


def _replace_integration(ctx: _Context, change: Change) -> None:
    # New integration, route pointed at it, then the old one removed: no moment without one.
    _create_integration(ctx, change)
    _point_route(ctx, ctx.route_ids[change.name], _route(ctx, change))
    call(ctx.client, "delete_integration", ApiId=ctx.api_id, IntegrationId=change.ref)


def _create_route(ctx: _Context, change: Change) -> None:
    route = _route(ctx, change)
    created = call(
        ctx.client,
        "create_route",
        ApiId=ctx.api_id,
        RouteKey=route.route_key,
        AuthorizationType="NONE",
        ApiKeyRequired=False,
        **_route_args(route, ctx.integration_ids[route.route_key]),
    )
    ctx.route_ids[route.route_key] = created["RouteId"]


def _update_route(ctx: _Context, change: Change) -> None:
    _point_route(ctx, change.ref, _route(ctx, change))


def _point_route(ctx: _Context, route_id: str, route: d.RouteSpec) -> None:
    """Update route ``route_id`` to ``route``, targeting its route key's integration."""
    call(
        ctx.client,
        "update_route",
        ApiId=ctx.api_id,
        RouteId=route_id,
        **_route_args(route, ctx.integration_ids[route.route_key]),
    )


def _create_route_response(ctx: _Context, change: Change) -> None:
    call(
        ctx.client,
        "create_route_response",
        ApiId=ctx.api_id,
        RouteId=ctx.route_ids[change.name],
        RouteResponseKey=d.ROUTE_RESPONSE_KEY,
    )


def _delete_route(ctx: _Context, change: Change) -> None:
    call(ctx.client, "delete_route", ApiId=ctx.api_id, RouteId=change.ref)


def _delete_integration(ctx: _Context, change: Change) -> None:
    call(ctx.client, "delete_integration", ApiId=ctx.api_id, IntegrationId=change.ref)


def _stage_args(ctx: _Context) -> dict[str, Any]:
    spec = ctx.spec
    return {
        "ApiId": ctx.api_id,
        "StageName": spec.stage_name,
        "Description": spec.stage_description,
    }


def _create_stage(ctx: _Context, change: Change) -> None:
    call(ctx.client, "create_stage", **_stage_args(ctx))


def _update_stage(ctx: _Context, change: Change) -> None:
    call(ctx.client, "update_stage", **_stage_args(ctx))


def _create_deployment(ctx: _Context, change: Change) -> None:
    deployment = call(
        ctx.client,
        "create_deployment",
        ApiId=ctx.api_id,
        StageName=ctx.spec.stage_name,
        Description=diff.deployment_description(ctx.spec),
    )
    ctx.deployment_id = deployment["DeploymentId"]


def _domain_args(ctx: _Context, change: Change) -> dict[str, Any]:
    assert ctx.spec.domain is not None
    config = {
        "CertificateArn": ctx.spec.domain.certificate_arn,
        "EndpointType": "REGIONAL",
        "SecurityPolicy": "TLS_1_2",
    }
    return {"DomainName": change.name, "DomainNameConfigurations": [config]}


def _create_domain(ctx: _Context, change: Change) -> None:
    call(ctx.client, "create_domain_name", **_domain_args(ctx, change), Tags=dict(ctx.spec.tags))


def _update_domain(ctx: _Context, change: Change) -> None:
    call(ctx.client, "update_domain_name", **_domain_args(ctx, change))


def _mapping_args(ctx: _Context, change: Change) -> dict[str, Any]:
    return {"ApiId": ctx.api_id, "DomainName": change.name, "Stage": ctx.spec.stage_name}


def _create_mapping(ctx: _Context, change: Change) -> None:
    call(ctx.client, "create_api_mapping", **_mapping_args(ctx, change))


def _update_mapping(ctx: _Context, change: Change) -> None:
    call(ctx.client, "update_api_mapping", **_mapping_args(ctx, change), ApiMappingId=change.ref)


_HANDLERS: dict[tuple[str, str], Callable[[_Context, Change], None]] = {
    (diff.API, diff.CREATE): _create_api,
    (diff.API, diff.UPDATE): _update_api,
    (diff.TAGS, diff.UPDATE): _update_tags,
    (diff.INTEGRATION, diff.CREATE): _create_integration,
    (diff.INTEGRATION, diff.UPDATE): _update_integration,
    (diff.INTEGRATION, diff.REPLACE): _replace_integration,
    (diff.INTEGRATION, diff.DELETE): _delete_integration,
    (diff.ROUTE, diff.CREATE): _create_route,
    (diff.ROUTE, diff.UPDATE): _update_route,
    (diff.ROUTE, diff.DELETE): _delete_route,
    (diff.ROUTE_RESPONSE, diff.CREATE): _create_route_response,
    (diff.STAGE, diff.CREATE): _create_stage,
    (diff.STAGE, diff.UPDATE): _update_stage,
    (diff.DEPLOYMENT, diff.CREATE): _create_deployment,
    (diff.DOMAIN, diff.CREATE): _create_domain,
    (diff.DOMAIN, diff.UPDATE): _update_domain,
    (diff.MAPPING, diff.CREATE): _create_mapping,
    (diff.MAPPING, diff.UPDATE): _update_mapping,
}
