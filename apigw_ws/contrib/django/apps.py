from __future__ import annotations

from django.apps import AppConfig


class ApigwWsConfig(AppConfig):
    name = "apigw_ws.contrib.django"
    label = "apigw_ws"
    verbose_name = "API Gateway WebSockets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Loading plugins imports modules and nothing else: no database access here.
        from apigw_ws.builtin_plugins import channels, login_binding

        from . import checks, gateways, runtime, session_cache  # noqa: F401 - checks, signals

        login_binding.connect_receivers()  # inert unless the plugin is listed
        channels.connect_receivers()  # the same
        session_cache.connect_receivers()  # inert without APIGW_WS["SESSION_CACHE"]
        runtime.get_plugins()
