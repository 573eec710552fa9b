"""Provisioning from Django: an ``ApiGateway`` row plus the registered handlers, to AWS.

The command ``ws_gateway`` and the admin actions call these functions. They build the
desired state, get a client from the one factory, and write what AWS returned back into
the row. An apply claims the row with a conditional UPDATE first, so two applies of one
gateway never run at once (and never create two APIs).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from apigw_ws.provisioning import (
    ApplyResult,
    Change,
    Credentials,
    GatewaySpec,
    LiveApi,
    LiveDomain,
    ProvisioningError,
    apply,
    apply_domain,
    build_spec,
    make_client,
    make_plan,
    read_state,
)

from .conf import ws_settings
from .models import ApiGateway
from .runtime import get_plugins

#: An apply claim older than this is taken to be from a process that died.
CLAIM_TIMEOUT = datetime.timedelta(minutes=15)


def credentials() -> Credentials:
    """Return the credentials ``APIGW_WS`` configures (empty: boto3's default chain)."""
    return Credentials(
        profile=ws_settings.AWS_PROFILE,
        access_key_id=ws_settings.AWS_ACCESS_KEY_ID,
        secret_access_key=ws_settings.AWS_SECRET_ACCESS_KEY,
        session_token=ws_settings.AWS_SESSION_TOKEN,
    )


def region_for(gateway: ApiGateway) -> str:
    """Return the gateway's region, as sending resolves it (``ApiGateway.region_name``)."""
    return gateway.region_name


def client_for(gateway: ApiGateway) -> Any:
    """Return an ``apigatewayv2`` client for ``gateway``'s region."""
    return make_client("apigatewayv2", region=region_for(gateway), credentials=credentials())


def spec_for(gateway: ApiGateway) -> GatewaySpec:
    """Return the desired state of ``gateway``: the row, handlers' routes, newest secret."""
    secrets = ws_settings.secrets
    return build_spec(
        name=gateway.api_name,
        description=gateway.api_description,
        target_base_endpoint=gateway.target_base_endpoint,
        route_keys=get_plugins().registry.routes(),
        route_selection_expression=gateway.route_selection_expression,
        stage_name=gateway.stage_name,
        stage_description=gateway.stage_description,
        tags=gateway.tags,
        secret=secrets[0] if secrets else None,
        api_id=gateway.api_id,
        domain_name=gateway.domain_name,
        certificate_arn=gateway.certificate_arn,
        region=region_for(gateway),
    )


def redact(text: str) -> str:
    """Return ``text`` with every configured gateway secret masked."""
    for secret in ws_settings.secrets:
        text = text.replace(secret, "***")
    return text


def plan_gateway(gateway: ApiGateway, client: Any = None) -> tuple[Change, ...]:
    """Return what ``apply_gateway`` would change; changes nothing."""
    spec = spec_for(gateway)
    changes, _live = make_plan(client or client_for(gateway), spec)
    return changes


def _claim(gateway: ApiGateway) -> datetime.datetime:
    now = timezone.now()
    free = Q(apply_started_at__isnull=True) | Q(apply_started_at__lt=now - CLAIM_TIMEOUT)
    if not ApiGateway.objects.filter(Q(pk=gateway.pk) & free).update(apply_started_at=now):
        raise ProvisioningError(
            f"another apply of {gateway.api_name!r} is running; wait for it to finish"
            f" (a stale claim expires after {int(CLAIM_TIMEOUT.total_seconds() // 60)} minutes)"
        )
    return now


def _release(gateway: ApiGateway, claimed: datetime.datetime) -> None:
    ApiGateway.objects.filter(pk=gateway.pk, apply_started_at=claimed).update(apply_started_at=None)


def _save(gateway: ApiGateway, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(gateway, name, value)
    try:
        gateway.save(update_fields=[*fields, "updated_on"])
    except IntegrityError:
        other = ApiGateway.objects.filter(api_id=gateway.api_id).exclude(pk=gateway.pk).first()
        raise ProvisioningError(
            f"API id {gateway.api_id!r} is already recorded on gateway {other!s}: one AWS API"
            " can back only one row"
        ) from None


def _domain_fields(domain: LiveDomain | None) -> dict[str, str]:
    if domain is None:
        return {}
    return {
        "api_gateway_domain_name": domain.target_domain_name,
        "api_gateway_hosted_zone_id": domain.hosted_zone_id,
        "api_mapping_id": domain.mapping_id,
    }


def apply_gateway(gateway: ApiGateway, client: Any = None) -> ApplyResult:
    """Make AWS match ``gateway``; record ids, endpoint and time only for what succeeded.

    On failure the row keeps any new API id (so the next apply finds the API instead of
    creating another) and ``last_error``; ``last_applied_at`` is left unchanged.
    """
    spec = spec_for(gateway)
    client = client or client_for(gateway)
    claimed = _claim(gateway)
    try:
        try:
            result = apply(
                client,
                spec,
                on_api_created=lambda api_id, endpoint: _save(
                    gateway, api_id=api_id, api_endpoint=endpoint
                ),
            )
        except ProvisioningError as exc:
            _save(gateway, last_error=redact(str(exc))[:2000])
            raise
        _save(
            gateway,
            api_id=result.api_id,
            api_endpoint=result.api_endpoint,
            deployment_id=result.deployment_id,
            last_applied_at=timezone.now(),
            last_error="",
            **_domain_fields(result.domain),
        )
        return result
    finally:
        _release(gateway, claimed)


def apply_domain_gateway(gateway: ApiGateway, client: Any = None) -> ApplyResult:
    """Create or update the custom domain and its mapping; record what AWS returned."""
    spec = spec_for(gateway)
    if spec.domain is None:
        raise ProvisioningError(
            f"gateway {gateway.api_name!r} has no domain_name: set it and certificate_arn first"
        )
    client = client or client_for(gateway)
    try:
        result = apply_domain(client, spec, gateway.api_id)
    except ProvisioningError as exc:
        _save(gateway, last_error=redact(str(exc))[:2000])
        raise
    _save(gateway, last_error="", **_domain_fields(result.domain))
    return result


def read_gateway(
    gateway: ApiGateway, client: Any = None
) -> tuple[LiveApi | None, LiveDomain | None]:
    """Return the live API and custom domain of ``gateway`` (None for what does not exist)."""
    return read_state(client or client_for(gateway), spec_for(gateway))


def sync_from_aws(gateway: ApiGateway, client: Any = None) -> list[str]:
    """Read ids, endpoint, deployment and domain back into the row; return changed fields."""
    live, domain = read_gateway(gateway, client)
    if live is None:
        raise ProvisioningError(
            f"AWS has no WebSocket API named {gateway.api_name!r} in {region_for(gateway)}:"
            " run 'ws_gateway apply' to create it"
        )
    fields = {
        "api_id": live.id,
        "api_endpoint": live.endpoint,
        "deployment_id": live.stage.deployment_id if live.stage else "",
        **_domain_fields(domain),
    }
    changed = {name: value for name, value in fields.items() if getattr(gateway, name) != value}
    if changed:
        _save(gateway, **changed)
    return sorted(changed)


def status(gateway: ApiGateway, client: Any = None) -> dict[str, Any]:
    """Return what AWS holds for ``gateway``: ids, endpoint, stage, deployment, domain."""
    live, domain = read_gateway(gateway, client)
    return {
        "gateway": gateway.api_name,
        "region": region_for(gateway),
        "credentials": credentials().source,
        "api_id": live.id if live else "",
        "api_endpoint": live.endpoint if live else "",
        "routes": [r.route_key for r in live.routes] if live else [],
        "stage": gateway.stage_name if live and live.stage else "",
        "deployment_id": live.stage.deployment_id if live and live.stage else "",
        "domain_name": domain.domain_name if domain else "",
        "dns_target": domain.target_domain_name if domain else "",
        "mapping": f"{domain.mapping_api_id}/{domain.mapping_stage}"
        if domain and domain.mapping_id
        else "",
        "last_applied_at": gateway.last_applied_at.isoformat() if gateway.last_applied_at else "",
        "last_error": gateway.last_error,
    }
