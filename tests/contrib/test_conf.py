"""The APIGW_WS settings object and the system checks over it."""

import pytest
from django.core import checks
from django.test import override_settings

from apigw_ws.contrib.django import runtime
from apigw_ws.contrib.django.conf import DEFAULTS, ws_settings

SECRET = "x" * 40


def _ids(messages):
    return sorted(m.id for m in messages)


def _run_checks(deploy=False):
    return [
        m
        for m in checks.run_checks(include_deployment_checks=deploy)
        if m.id.startswith("apigw_ws.")
    ]


def test_unset_keys_fall_back_to_their_defaults():
    with override_settings(APIGW_WS={}):
        assert ws_settings.HANDLER_KEY == "handler"
        assert ws_settings.MAX_MESSAGE_BYTES == 131072
        assert DEFAULTS["PLUGINS"] == ws_settings.PLUGINS


def test_dict_valued_keys_merge_over_their_defaults():
    with override_settings(APIGW_WS={"RATE_LIMIT": {"MAX_ATTEMPTS": 5}}):
        assert ws_settings.RATE_LIMIT == {
            "STORE": "database",
            "MAX_ATTEMPTS": 5,
            "WINDOW_SECONDS": 60,
            "CACHE_ALIAS": "default",
        }


def test_settings_reload_when_the_setting_changes():
    with override_settings(APIGW_WS={"HANDLER_KEY": "op"}):
        assert ws_settings.HANDLER_KEY == "op"
    assert ws_settings.HANDLER_KEY == "handler"


def test_unknown_setting_names_raise_attribute_error():
    with pytest.raises(AttributeError):
        ws_settings.NOT_A_SETTING


def test_gateway_secret_string_and_rotation_list_both_give_newest_first():
    with override_settings(APIGW_WS={"GATEWAY_SECRET": SECRET}):
        assert ws_settings.secrets == (SECRET,)
    with override_settings(APIGW_WS={"GATEWAY_SECRET": ["n" * 40, "o" * 40]}):
        assert ws_settings.secrets == ("n" * 40, "o" * 40)


def test_changing_plugins_setting_reloads_the_plugin_manager():
    before = runtime.get_plugins()
    with override_settings(
        APIGW_WS={"GATEWAY_SECRET": SECRET, "PLUGINS": [], "LOAD_ENTRY_POINTS": False}
    ):
        assert runtime.get_plugins() is not before
        assert len(runtime.get_plugins().registry) == 0
    assert len(runtime.get_plugins().registry) == len(before.registry)


def test_valid_test_settings_produce_no_apigw_ws_messages():
    assert _run_checks() == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("not a dict", ["apigw_ws.E001"]),
        ({"GATEWAY_SECRET": SECRET, "HANDLER_KEY": ""}, ["apigw_ws.E002"]),
        ({"GATEWAY_SECRET": SECRET, "MAX_MESSAGE_BYTES": True}, ["apigw_ws.E002"]),
        (
            {"GATEWAY_SECRET": SECRET, "PLUGINS": "apigw_ws.builtin_plugins.permissions"},
            ["apigw_ws.E002"],
        ),
        ({"GATEWAY_SECRET": 42}, ["apigw_ws.E003"]),
        ({"GATEWAY_SECRET": []}, ["apigw_ws.E003"]),
        ({"GATEWAY_SECRET": "short"}, ["apigw_ws.E004"]),
        ({"GATEWAY_SECRET": [SECRET, "short"]}, ["apigw_ws.E004"]),
        ({"GATEWAY_SECRET": SECRET, "ALLOWED_ORIGINS": ["example.com"]}, ["apigw_ws.E005"]),
        ({"GATEWAY_SECRET": SECRET, "ALLOWED_ORIGINS": "https://example.com"}, ["apigw_ws.E005"]),
        ({"GATEWAY_SECRET": SECRET, "ALLOWED_ORIGINS": ["*"]}, ["apigw_ws.W003"]),
        ({"GATEWAY_SECRET": SECRET, "HANDLERKEY": "x"}, ["apigw_ws.W002"]),
        ({"GATEWAY_SECRET": SECRET, "MAX_MESSAGE_BYTES": 200000}, ["apigw_ws.W004"]),
        ({"GATEWAY_SECRET": SECRET, "SEND_TRANSPORT": "curl"}, ["apigw_ws.E002"]),
    ],
)
def test_invalid_settings_are_reported_by_system_checks(value, expected):
    with override_settings(APIGW_WS=value):
        assert _ids(_run_checks()) == expected


def test_a_plugin_that_fails_to_import_is_a_check_error_naming_it():
    with override_settings(
        APIGW_WS={"GATEWAY_SECRET": SECRET, "PLUGINS": ["tests.plugins.does_not_exist"]}
    ):
        messages = _run_checks()
    assert _ids(messages) == ["apigw_ws.E010"]
    assert "tests.plugins.does_not_exist" in messages[0].msg


def test_missing_secret_is_a_deploy_warning_only():
    with override_settings(APIGW_WS={}):
        assert _run_checks() == []
        # W040 (no AWS region) depends on the machine's AWS configuration.
        deploy_ids = [i for i in _ids(_run_checks(deploy=True)) if i != "apigw_ws.W040"]
        assert deploy_ids == ["apigw_ws.W001"]


@pytest.mark.parametrize(
    ("transport", "chosen"), [("boto3", "boto3"), ("aiohttp", "aiohttp"), ("auto", "aiohttp")]
)
def test_send_transport_setting_reaches_the_sender(settings, transport, chosen):
    from apigw_ws.contrib.django.sending import get_sender

    settings.APIGW_WS = {**settings.APIGW_WS, "SEND_TRANSPORT": transport}
    assert get_sender().transport == chosen


def test_without_send_transport_the_sender_defaults_to_the_fast_transport(settings, monkeypatch):
    from apigw_ws.contrib.django.sending import get_sender

    monkeypatch.delenv("APIGW_WS_SEND_TRANSPORT", raising=False)
    sender = get_sender()
    assert sender.transport == "aiohttp"
    assert (sender.concurrency, sender.rate_limit) == (128, 5000)


def test_send_rate_limit_reaches_the_sender_and_none_lifts_it(settings):
    from apigw_ws.contrib.django.sending import get_sender

    settings.APIGW_WS = {**settings.APIGW_WS, "SEND_RATE_LIMIT": 250}
    assert get_sender().rate_limit == 250
    settings.APIGW_WS = {**settings.APIGW_WS, "SEND_RATE_LIMIT": None}
    assert get_sender().rate_limit is None


def test_a_check_run_validates_the_setting_once(monkeypatch):
    from apigw_ws.contrib.django import checks as ws_checks

    calls = []
    real = ws_checks.validate
    monkeypatch.setattr(ws_checks, "validate", lambda user: calls.append(user) or real(user))
    with override_settings(APIGW_WS={"HANDLER_KEY": "op"}):
        _run_checks(deploy=True)
        assert len(calls) == 1
        _run_checks(deploy=True)
        assert len(calls) == 1  # the same setting: validated already
    with override_settings(APIGW_WS={"HANDLER_KEY": ""}):
        assert "apigw_ws.E002" in _ids(_run_checks())
    assert len(calls) == 2


def test_the_settings_object_imports_no_other_module_of_the_app():
    import ast
    import inspect

    from apigw_ws.contrib.django import conf

    imported = [
        "." * node.level + (node.module or "")
        for node in ast.walk(ast.parse(inspect.getsource(conf)))
        if isinstance(node, ast.ImportFrom)
    ]
    assert [name for name in imported if name.startswith(("apigw_ws.contrib", "."))] == []
