from __future__ import annotations

from django.apps import AppConfig


class ApigwWsConfig(AppConfig):
    name = "apigw_ws.contrib.django"
    label = "apigw_ws"
    verbose_name = "API Gateway WebSockets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Loading plugins imports modules and nothing else: no database access here.
        from . import checks, gateways  # noqa: F401 - imported for their checks, receivers

        # isort: split
        from . import channel_access, login_binding, runtime, session_cache

        # Each connects its signal receivers once; each is inert until what it serves is
        # switched on (a plugin loaded, APIGW_WS["SESSION_CACHE"] set).
        for module in (login_binding, channel_access, session_cache):
            module.connect_receivers()
        runtime.get_plugins()
