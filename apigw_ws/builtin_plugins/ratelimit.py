"""Connect rate limits: the store that ``APIGW_WS["RATE_LIMIT"]["STORE"]`` names.

``"database"`` counts in the ``RateLimitCounter`` table (pruned by ``ws_cleanup``),
``"cache"`` in the Django cache ``RATE_LIMIT["CACHE_ALIAS"]`` (use Redis or Memcached:
their increments are atomic). The dispatch view counts each connect against the source
IP and, once the user is known, against the user; ``MAX_ATTEMPTS`` per
``WINDOW_SECONDS`` each.

To use another store, list a plugin whose ``apigw_ws_rate_limit_store`` returns it: a
plugin loaded later wins (first result), or drop this one from ``PLUGINS``.
"""

from __future__ import annotations

from typing import Any

from apigw_ws.hooks import hookimpl


@hookimpl
def apigw_ws_rate_limit_store() -> Any:
    # Django is imported here, not at module level: plugins load in AppConfig.ready().
    from apigw_ws.contrib.django.ratelimit_stores import configured_store

    return configured_store()
