"""The registered-gateway lookup every request makes, cached in-process.

Saving or deleting an ``ApiGateway`` clears this process's cache at once; other
processes see the change within ``GATEWAY_CACHE_SECONDS``.
"""

from __future__ import annotations

import time
from typing import Any

from django.db.models.signals import post_delete, post_save

from apigw_ws.errors import GatewayNotFound

from .conf import ws_settings
from .models import ApiGateway

_cache: dict[str, tuple[float, ApiGateway | None]] = {}


def get_gateway(api_id: str) -> ApiGateway | None:
    """Return the enabled ``ApiGateway`` with ``api_id``, or ``None``."""
    now = time.monotonic()
    hit = _cache.get(api_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    try:
        gateway: ApiGateway | None = ApiGateway.objects.resolve(
            api_id, by=("api_id",), enabled=True
        )
    except GatewayNotFound:
        gateway = None
    if len(_cache) > 1000:  # bounded: forged api ids must not grow memory
        _cache.clear()
    _cache[api_id] = (now + ws_settings.GATEWAY_CACHE_SECONDS, gateway)
    return gateway


def clear_cache(**_kwargs: Any) -> None:
    _cache.clear()


post_save.connect(clear_cache, sender=ApiGateway, dispatch_uid="apigw_ws_gateway_saved")
post_delete.connect(clear_cache, sender=ApiGateway, dispatch_uid="apigw_ws_gateway_deleted")
