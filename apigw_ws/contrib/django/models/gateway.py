"""``ApiGateway``: one API Gateway WebSocket API whose requests this project accepts."""

from __future__ import annotations

import os
from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apigw_ws.sending import endpoint_url, management_client
from apigw_ws.validation import CHANNEL_NAME_RE, MAX_CHANNEL_NAME_LENGTH

from ..conf import ws_settings

channel_name_validator = RegexValidator(
    f"^{CHANNEL_NAME_RE.pattern}$", _("Use only letters, digits, '_' and '-'.")
)


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
        from apigw_ws.provisioning.errors import InvalidGatewaySpec

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
        """Return the row's region, else ``APIGW_WS["REGION"]``, else the environment's."""
        return (
            self.region
            or ws_settings.REGION
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION", "")
        )

    @property
    def management_endpoint(self) -> str:
        """Return the Management API endpoint: ``ENDPOINT_URL`` + stage, or AWS's."""
        if ws_settings.ENDPOINT_URL:
            return f"{ws_settings.ENDPOINT_URL.rstrip('/')}/{self.stage_name}"
        return endpoint_url(api_id=self.api_id, stage=self.stage_name, region=self.region_name)

    def management_client(self) -> Any:
        return management_client(
            self.management_endpoint, self.region_name or None, ws_settings.AWS_PROFILE
        )
