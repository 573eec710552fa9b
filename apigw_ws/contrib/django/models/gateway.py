"""``ApiGateway``: one API Gateway WebSocket API whose requests this project accepts."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apigw_ws.errors import GatewayNotFound, InvalidGatewaySpec
from apigw_ws.provisioning.clients import resolve_region
from apigw_ws.sending import endpoint_url, management_client
from apigw_ws.validation import CHANNEL_NAME_RE, MAX_CHANNEL_NAME_LENGTH

from ..conf import ws_settings

channel_name_validator = RegexValidator(
    f"^{CHANNEL_NAME_RE.pattern}$", _("Use only letters, digits, '_' and '-'.")
)

#: The wording of each ``GatewayNotFound`` reason; callers pass their own for some.
#: Fields: ``key`` (cut to 80 characters), ``fields`` (what was looked at), ``enabled``
#: (``"enabled "`` or ``""``), ``names`` and ``quoted_names`` (the candidates' names).
LOOKUP_MESSAGES: Mapping[str, str] = {
    "unknown": "no ApiGateway has the {fields} {key!r}",
    "disabled": "ApiGateway {key!r} is disabled",
    "none": "no {enabled}ApiGateway exists",
    "several": "several gateways exist ({quoted_names}): name one",
}
#: Names a message lists at most.
_LISTED = 20


class GatewayQuerySet(models.QuerySet):
    """``ApiGateway.objects``: the one place a gateway is looked up by what a person typed."""

    def resolve(
        self,
        key: str | None = None,
        *,
        by: Sequence[str] = ("api_name", "api_id"),
        enabled: bool = False,
        pick: str = "only",
        messages: Mapping[str, str] | None = None,
    ) -> ApiGateway:
        """Return the gateway ``key`` names, or without a key the one to use.

        ``key`` is tried against each field of ``by`` in turn (``api_name``, ``api_id``,
        ``pk``; a blank ``api_id`` never matches). Without a key, ``pick="only"`` wants
        exactly one candidate and ``pick="first"`` takes the oldest. ``enabled``: only
        enabled rows are candidates, and a key naming a disabled row is refused. Raises
        ``GatewayNotFound`` worded by ``messages`` (merged over ``LOOKUP_MESSAGES``).
        """
        if key is not None:
            gateway = self._lookup(key, by)
            if gateway is None:
                raise self._not_found("unknown", key, by, enabled, messages, self)
            if enabled and not gateway.enabled:
                raise self._not_found("disabled", key, by, enabled, messages, None)
            return gateway
        candidates = self.filter(enabled=True) if enabled else self.all()
        if pick == "first":
            found = list(candidates.order_by("pk")[:1])
        else:
            found = list(candidates.order_by("api_name")[:2])
        if not found:
            raise self._not_found("none", key, by, enabled, messages, None)
        if len(found) > 1:
            raise self._not_found("several", key, by, enabled, messages, candidates)
        return found[0]

    def _lookup(self, key: str, by: Sequence[str]) -> ApiGateway | None:
        for field in by:
            if field == "api_id" and not key:
                continue
            # Only ASCII digits, and few: '²'.isdigit() is true, int() of 5,000 digits raises.
            if field == "pk" and not (key.isascii() and key.isdigit() and len(key) <= 18):
                continue
            gateway = self.filter(**{field: int(key) if field == "pk" else key}).first()
            if gateway is not None:
                return gateway
        return None

    @staticmethod
    def _not_found(
        reason: str,
        key: str | None,
        by: Sequence[str],
        enabled: bool,
        messages: Mapping[str, str] | None,
        listed: models.QuerySet | None,
    ) -> GatewayNotFound:
        template = {**LOOKUP_MESSAGES, **(messages or {})}[reason]
        names: list[str] = []
        if listed is not None and "names}" in template:  # a query only where it is shown
            rows = listed.order_by("api_name").values_list("api_name", flat=True)
            names = list(rows[: _LISTED + 1])
        more = ", ..." if len(names) > _LISTED else ""
        message = template.format(
            key=None if key is None else key[:80],
            fields=" or ".join([", ".join(by[:-1]), by[-1]] if len(by) > 1 else by),
            enabled="enabled " if enabled else "",
            names=(", ".join(names[:_LISTED]) + more) or "none",
            quoted_names=(", ".join(map(repr, names[:_LISTED])) + more) or "none",
        )
        return GatewayNotFound(message, reason=reason, key=key)


class ApiGateway(models.Model):
    """One API Gateway WebSocket API whose requests this project accepts."""

    api_name = models.CharField(_("API name"), max_length=255, unique=True)
    api_description = models.CharField(_("description"), max_length=255, blank=True)
    api_id = models.CharField(
        _("API id"),
        max_length=64,
        blank=True,
        help_text=_("The id AWS gave the API; requests must carry it in X-Amzn-Apigateway-Api-Id."),
    )
    stage_name = models.CharField(_("stage"), max_length=128, default="production")
    region = models.CharField(_("region"), max_length=32, blank=True)
    default_channel_name = models.CharField(
        _("default channel"),
        max_length=MAX_CHANNEL_NAME_LENGTH,
        blank=True,
        validators=[channel_name_validator],
    )
    target_base_endpoint = models.URLField(
        _("target base endpoint"),
        blank=True,
        help_text=_("Where API Gateway posts events, e.g. https://www.example.com/ws/"),
    )
    route_selection_expression = models.CharField(max_length=255, default="$request.body.action")
    api_endpoint = models.CharField(
        _("API endpoint"), max_length=255, blank=True, help_text=_("wss:// URL clients connect to")
    )
    enabled = models.BooleanField(
        _("enabled"), default=True, help_text=_("Requests of a disabled gateway are refused.")
    )
    # Provisioning (manage.py ws_gateway): desired state above and here, AWS's answers below.
    stage_description = models.CharField(_("stage description"), max_length=255, blank=True)
    tags = models.JSONField(
        _("tags"), default=dict, blank=True, help_text=_('AWS tags, e.g. {"team": "web"}')
    )
    domain_name = models.CharField(
        _("custom domain"), max_length=253, blank=True, help_text=_("e.g. ws.example.com")
    )
    certificate_arn = models.CharField(
        _("certificate ARN"),
        max_length=2048,
        blank=True,
        help_text=_("ACM certificate for the custom domain, in the gateway's region"),
    )
    hosted_zone_id = models.CharField(
        _("Route 53 hosted zone"),
        max_length=32,
        blank=True,
        help_text=_("Your zone holding the custom domain; only used to print the DNS command"),
    )
    deployment_id = models.CharField(_("deployment id"), max_length=64, blank=True, editable=False)
    api_gateway_domain_name = models.CharField(
        _("DNS target"),
        max_length=255,
        blank=True,
        editable=False,
        help_text=_("Point the custom domain's CNAME or alias here"),
    )
    api_gateway_hosted_zone_id = models.CharField(max_length=32, blank=True, editable=False)
    api_mapping_id = models.CharField(
        _("API mapping id"), max_length=64, blank=True, editable=False
    )
    last_applied_at = models.DateTimeField(_("last applied"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    # Set while an apply runs: a conditional UPDATE claims it, so two never run at once.
    apply_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_on = models.DateTimeField(auto_now_add=True)
    updated_on = models.DateTimeField(auto_now=True)

    objects = GatewayQuerySet.as_manager()

    class Meta:
        verbose_name = _("API gateway")
        verbose_name_plural = _("API gateways")
        constraints = [
            models.UniqueConstraint(
                fields=["api_id"], condition=~Q(api_id=""), name="apigw_ws_unique_api_id"
            )
        ]

    def __str__(self) -> str:
        return self.api_name

    def clean(self) -> None:
        """Refuse what provisioning would refuse: names, non-https targets, domains."""
        from django.core.exceptions import ValidationError

        from apigw_ws.provisioning import desired

        checks = [
            (desired.check_api_name, self.api_name),
            (desired.check_stage_name, self.stage_name),
            (desired.check_tags, self.tags),
        ]
        if self.target_base_endpoint:
            checks.append((desired.check_target, self.target_base_endpoint))
        if self.domain_name:
            checks.append((desired.check_domain_name, self.domain_name))
        errors: dict[str, str] = {}
        for check, value in checks:
            try:
                check(value)
            except InvalidGatewaySpec as exc:
                errors[exc.field] = exc.reason
        if self.certificate_arn or self.domain_name:
            try:
                desired.check_certificate(
                    self.certificate_arn, domain_name=self.domain_name, region=self.region_name
                )
            except InvalidGatewaySpec as exc:
                errors["certificate_arn"] = exc.reason
        if errors:
            raise ValidationError(errors)

    @property
    def region_name(self) -> str:
        """Return the region sending and provisioning use (``resolve_region``).

        The row's region, else ``APIGW_WS["REGION"]``, ``AWS_REGION``,
        ``AWS_DEFAULT_REGION``, or the region configured for ``APIGW_WS["AWS_PROFILE"]``.
        """
        return resolve_region(self.region, ws_settings.REGION, profile=ws_settings.AWS_PROFILE)

    @property
    def management_endpoint(self) -> str:
        """Return the Management API endpoint: ``ENDPOINT_URL`` + stage, or AWS's."""
        if ws_settings.ENDPOINT_URL:
            return f"{ws_settings.ENDPOINT_URL.rstrip('/')}/{self.stage_name}"
        return endpoint_url(api_id=self.api_id, stage=self.stage_name, region=self.region_name)

    @property
    def websocket_url(self) -> str:
        """Return the URL browsers open: ``api_endpoint``, else the stage's as ``ws(s)://``.

        ``api_endpoint`` is set by provisioning or by hand (a custom domain). Otherwise it
        is the Management API endpoint's stage with the scheme swapped: the local gateway's
        (``http://127.0.0.1:8001`` gives ``ws://127.0.0.1:8001/<stage>``) when
        ``ENDPOINT_URL`` points at one, else the stage's ``execute-api`` URL on AWS.
        """
        return self.api_endpoint or re.sub(r"^http", "ws", self.management_endpoint)

    def management_client(self) -> Any:
        return management_client(
            self.management_endpoint, self.region_name or None, ws_settings.AWS_PROFILE
        )
