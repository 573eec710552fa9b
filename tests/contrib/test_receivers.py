"""A receiver that serves a plugin asks whether it is loaded, and the answer is the settings'."""

import sys

from apigw_ws.contrib.django.receivers import plugin_loaded

PLUGIN = "apigw_ws.builtin_plugins.login_binding"


def test_a_listed_plugin_is_loaded_even_before_anything_imported_its_module(settings, monkeypatch):
    # As in a fresh process whose first signal comes before any plugin hook ran.
    monkeypatch.delitem(sys.modules, PLUGIN, raising=False)
    settings.APIGW_WS = {**settings.APIGW_WS, "PLUGINS": [*settings.APIGW_WS["PLUGINS"], PLUGIN]}
    assert plugin_loaded(PLUGIN)


def test_a_plugin_not_listed_is_not_loaded_though_its_module_is_imported(settings):
    __import__(PLUGIN)
    settings.APIGW_WS = {**settings.APIGW_WS, "PLUGINS": ["apigw_ws.builtin_plugins.permissions"]}
    assert not plugin_loaded(PLUGIN)
