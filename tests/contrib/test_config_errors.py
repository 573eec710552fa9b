"""Configuration mistakes get one clear check message each, never a traceback.

``get_plugins()`` is what ``AppConfig.ready()`` calls; servers such as gunicorn start
through it without running checks, so it must not raise on bad settings either.
"""

import logging

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from apigw_ws.contrib.django.runtime import get_plugins
from tests.settings import APIGW_WS

BASE = {**APIGW_WS}


def _checks(**settings):
    with override_settings(APIGW_WS={**BASE, **settings}):
        plugins = get_plugins()  # as ready() does: must not raise
        messages = run_checks()
    return plugins, [m for m in messages if m.id.startswith("apigw_ws.")]


def _ids(messages):
    return [m.id for m in messages]


def test_an_unknown_rate_limit_store_is_e030_not_a_traceback_at_start():
    plugins, messages = _checks(
        PLUGINS=[*BASE["PLUGINS"], "apigw_ws.builtin_plugins.ratelimit"],
        RATE_LIMIT={"STORE": "redis"},
    )
    assert "apigw_ws.E030" in _ids(messages)
    assert plugins.rate_limit_store is None
    assert any("apigw_ws_rate_limit_store" in p.message for p in plugins.problems)


def test_plugins_as_a_string_is_one_error_not_one_per_character(caplog):
    caplog.set_level(logging.ERROR, logger="apigw_ws")
    plugins, messages = _checks(PLUGINS="apigw_ws.builtin_plugins.permissions")
    assert _ids(messages) == ["apigw_ws.E002"]
    assert len(plugins.problems) == 1
    assert "is a string" in plugins.problems[0].message
    assert len([r for r in caplog.records if "failed to load" in r.getMessage()]) == 0


def test_a_typo_in_blocked_plugins_is_a_warning_that_names_the_plugin_meant():
    _, messages = _checks(BLOCKED_PLUGINS=["tests.plugins.chats"])
    [warning] = [m for m in messages if m.id == "apigw_ws.W011"]
    assert "'tests.plugins.chats'" in warning.msg
    assert "Did you mean 'tests.plugins.chat'?" in warning.hint


def test_a_blocked_plugin_that_exists_is_no_warning():
    _, messages = _checks(BLOCKED_PLUGINS=["tests.plugins.chat"])
    assert "apigw_ws.W011" not in _ids(messages)


@pytest.mark.parametrize(
    ("typo", "meant"), [("PLUGIN", "PLUGINS"), ("GATEWAY_SECRETS", "GATEWAY_SECRET")]
)
def test_a_typo_in_a_top_level_key_gets_did_you_mean(typo, meant):
    _, messages = _checks(**{typo: BASE.get(meant, [])})
    [warning] = [m for m in messages if m.id == "apigw_ws.W002"]
    assert warning.hint == f"Did you mean {meant!r}?"


def test_an_unrelated_unknown_key_still_lists_the_known_keys():
    _, messages = _checks(ZZZ=1)
    [warning] = [m for m in messages if m.id == "apigw_ws.W002"]
    assert "Known keys: " in warning.hint


def test_handlers_with_permissions_and_no_permission_plugin_are_an_error():
    # tests.plugins.chat registers "moderate" and "administer" with permissions.
    _, messages = _checks(PLUGINS=["apigw_ws.builtin_plugins.validators", "tests.plugins.chat"])
    [error] = [m for m in messages if m.id == "apigw_ws.E011"]
    assert "moderate" in error.msg
    assert "ALLOW_UNCHECKED_PERMISSIONS" in error.hint


def test_the_error_can_be_acknowledged_explicitly():
    _, messages = _checks(
        PLUGINS=["apigw_ws.builtin_plugins.validators", "tests.plugins.chat"],
        ALLOW_UNCHECKED_PERMISSIONS=True,
    )
    assert "apigw_ws.E011" not in _ids(messages)


def test_the_default_plugins_check_permissions():
    _, messages = _checks()
    assert "apigw_ws.E011" not in _ids(messages)
