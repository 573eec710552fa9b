"""Read one WebSocket API's live state from AWS (``apigatewayv2``), changing nothing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from ..errors import ProvisioningError
from .errors import explain


def _frozen(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(value or {}))


@attrs.frozen
class LiveIntegration:
    id: str
    uri: str
    type: str
    method: str
    payload_format_version: str
    timeout: int
    connection_type: str
    request_parameters: Mapping[str, str] = attrs.field(converter=_frozen, repr=False)


@attrs.frozen
class LiveRoute:
    id: str
    route_key: str
    integration_id: str  # "" when the route has no "integrations/<id>" target
    route_response_selection_expression: str
    route_response_keys: tuple[str, ...]


@attrs.frozen
class LiveStage:
    name: str
    description: str
    deployment_id: str
    deployment_description: str


@attrs.frozen
class LiveApi:
    id: str
    name: str
    description: str
    route_selection_expression: str
    endpoint: str
    tags: Mapping[str, str] = attrs.field(converter=_frozen)
    routes: tuple[LiveRoute, ...] = ()
    integrations: Mapping[str, LiveIntegration] = attrs.field(
        converter=MappingProxyType, factory=dict
    )
    stage: LiveStage | None = None

    def route(self, route_key: str) -> LiveRoute | None:
        return next((r for r in self.routes if r.route_key == route_key), None)


@attrs.frozen
class LiveDomain:
    domain_name: str
    certificate_arn: str
    target_domain_name: str  # where the DNS record points
    hosted_zone_id: str  # of target_domain_name, for a Route 53 alias record
    mapping_id: str
    mapping_api_id: str
    mapping_stage: str


def call(client: Any, method: str, **kwargs: Any) -> dict[str, Any]:
    """Call ``client.<method>(**kwargs)``; turn AWS errors into readable ``ProvisioningError``."""
    operation = "".join(part.title() for part in method.split("_"))
    try:
        return getattr(client, method)(**kwargs)
    except Exception as exc:
        raise explain(exc, operation) from exc


def is_not_found(exc: ProvisioningError) -> bool:
    return getattr(exc, "code", "") == "NotFoundException"


def call_or_none(client: Any, method: str, **kwargs: Any) -> dict[str, Any] | None:
    """Return ``call(client, method, **kwargs)``, or None if AWS has no such resource."""
    try:
        return call(client, method, **kwargs)
    except ProvisioningError as exc:
        if is_not_found(exc):
            return None
        raise


def paged(client: Any, method: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Yield every item of a ``NextToken``-paged list call."""
    token = None
    while True:
        page = call(client, method, **kwargs, **({"NextToken": token} if token else {}))
        yield from page.get("Items", [])
        token = page.get("NextToken")
        if not token:
            return


def find_api(client: Any, *, name: str, api_id: str = "") -> dict[str, Any] | None:
    """Return the API with ``api_id``, else the one WebSocket API named ``name``, else None."""
    if api_id:
        api = call_or_none(client, "get_api", ApiId=api_id)
        if api is not None:
            return api
    found = [
        api
        for api in paged(client, "get_apis")
        if api.get("Name") == name and api.get("ProtocolType") == "WEBSOCKET"
    ]
    if len(found) > 1:
        ids = ", ".join(sorted(api["ApiId"] for api in found))
        raise ProvisioningError(
            f"{len(found)} WebSocket APIs are named {name!r} ({ids}): set the gateway's"
            " api_id to the one to manage, or delete the others in AWS"
        )
    return found[0] if found else None


def _integration_id(target: str) -> str:
    prefix = "integrations/"
    return target[len(prefix) :] if target.startswith(prefix) else ""


def read_api(client: Any, *, name: str, stage_name: str, api_id: str = "") -> LiveApi | None:
    """Return the live API (routes, integrations, route responses, stage), or None."""
    api = find_api(client, name=name, api_id=api_id)
    if api is None:
        return None
    aid = api["ApiId"]
    integrations = {
        item["IntegrationId"]: LiveIntegration(
            id=item["IntegrationId"],
            uri=item.get("IntegrationUri", ""),
            type=item.get("IntegrationType", ""),
            method=item.get("IntegrationMethod", ""),
            payload_format_version=item.get("PayloadFormatVersion", ""),
            timeout=int(item.get("TimeoutInMillis", 0)),
            connection_type=item.get("ConnectionType", ""),
            request_parameters=item.get("RequestParameters"),
        )
        for item in paged(client, "get_integrations", ApiId=aid)
    }
    routes = tuple(
        sorted(
            (
                LiveRoute(
                    id=item["RouteId"],
                    route_key=item["RouteKey"],
                    integration_id=_integration_id(item.get("Target", "")),
                    route_response_selection_expression=item.get(
                        "RouteResponseSelectionExpression", ""
                    ),
                    route_response_keys=tuple(
                        rr["RouteResponseKey"]
                        for rr in paged(
                            client, "get_route_responses", ApiId=aid, RouteId=item["RouteId"]
                        )
                    ),
                )
                for item in paged(client, "get_routes", ApiId=aid)
            ),
            key=lambda r: r.route_key,
        )
    )
    return LiveApi(
        id=aid,
        name=api.get("Name", ""),
        description=api.get("Description", ""),
        route_selection_expression=api.get("RouteSelectionExpression", ""),
        endpoint=api.get("ApiEndpoint", ""),
        tags=api.get("Tags"),
        routes=routes,
        integrations=integrations,
        stage=read_stage(client, aid, stage_name),
    )


def read_stage(client: Any, api_id: str, stage_name: str) -> LiveStage | None:
    stage = call_or_none(client, "get_stage", ApiId=api_id, StageName=stage_name)
    if stage is None:
        return None
    deployment_id = stage.get("DeploymentId", "")
    deployment = None
    if deployment_id:
        deployment = call_or_none(
            client, "get_deployment", ApiId=api_id, DeploymentId=deployment_id
        )
    return LiveStage(
        name=stage_name,
        description=stage.get("Description", ""),
        deployment_id=deployment_id,
        deployment_description=deployment.get("Description", "") if deployment else "",
    )


def read_domain(client: Any, domain_name: str) -> LiveDomain | None:
    """Return the custom domain and its root (empty key) API mapping, or None."""
    domain = call_or_none(client, "get_domain_name", DomainName=domain_name)
    if domain is None:
        return None
    config = (domain.get("DomainNameConfigurations") or [{}])[0]
    mapping: Mapping[str, Any] = next(
        (
            m
            for m in paged(client, "get_api_mappings", DomainName=domain_name)
            if not m.get("ApiMappingKey")
        ),
        {},
    )
    return LiveDomain(
        domain_name=domain_name,
        certificate_arn=config.get("CertificateArn", ""),
        target_domain_name=config.get("ApiGatewayDomainName", ""),
        hosted_zone_id=config.get("HostedZoneId", ""),
        mapping_id=mapping.get("ApiMappingId", ""),
        mapping_api_id=mapping.get("ApiId", ""),
        mapping_stage=mapping.get("Stage", ""),
    )
