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
