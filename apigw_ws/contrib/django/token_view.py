"""``ws/token``: a logged-in page asks for a connect token (POST, CSRF-protected).

Served by whatever token backend the plugins provide, if it can ``issue(request)``;
otherwise the URL answers 404. The issue rate is limited per user through the
rate-limit store of the ``apigw_ws_rate_limit_store`` hook, or, with no store, by
counting the user's recent rows of the built-in token table.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from apigw_ws.errors import RateLimited
from apigw_ws.ratelimits import enforce

from .conf import ws_settings
from .runtime import get_plugins
from .token_backend import ISSUE_WINDOW_SECONDS, recent_issue_wait

logger = logging.getLogger(__name__)


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@never_cache
@csrf_protect
def token(request: HttpRequest) -> JsonResponse:
    """Answer ``{"token": ..., "expires_in": seconds}`` for the logged-in user."""
    if request.method != "POST":
        response = _error("Method not allowed", 405)
        response["Allow"] = "POST"
        return response
    plugins = get_plugins()
    issue = getattr(plugins.token_backend, "issue", None)
    if issue is None:
        logger.warning(
            "apigw_ws ws/token: no token backend issues tokens"
            " (is apigw_ws.builtin_plugins.tokens in APIGW_WS['PLUGINS']?)"
        )
        return _error("Not found", 404)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return _error("Authentication required", 401)
    if not user.is_active:
        return _error("Forbidden", 403)
    limit = ws_settings.TOKENS["MAX_PER_MINUTE"]
    try:
        if plugins.rate_limit_store is not None:
            key = f"token:user:{user.pk}"
            enforce(plugins.rate_limit_store, key, limit=limit, window=ISSUE_WINDOW_SECONDS)
        elif wait := recent_issue_wait(user, limit):
            raise RateLimited(f"token issue limit for user {user.pk}", retry_after=wait)
    except RateLimited as exc:
        logger.warning("apigw_ws refused a token: %s", exc.detail)
        response = _error(exc.public, exc.status)
        response["Retry-After"] = str(exc.retry_after)
        return response
    issued = issue(request)
    return JsonResponse({"token": issued.token, "expires_in": issued.expires_in})
