"""Every public exception lives in ``apigw_ws.errors``; the older paths still work."""

import importlib

import pytest

import apigw_ws
from apigw_ws import errors


@pytest.mark.parametrize(
    ("old", "name"),
    [
        ("apigw_ws", "MessageTooLarge"),
        ("apigw_ws", "MessageNotSerializable"),
        ("apigw_ws.sending", "MessageTooLarge"),
        ("apigw_ws.sending.encoding", "MessageNotSerializable"),
        ("apigw_ws.provisioning", "ProvisioningError"),
        ("apigw_ws.provisioning.errors", "InvalidGatewaySpec"),
        ("apigw_ws.provisioning.errors", "AwsError"),
        ("apigw_ws.provisioning.errors", "ApplyIncomplete"),
    ],
)
def test_a_moved_exception_is_the_same_class_at_its_old_path(old, name):
    assert getattr(importlib.import_module(old), name) is getattr(errors, name)


def test_every_exception_the_package_exports_is_defined_in_errors():
    exported = [
        value
        for value in vars(apigw_ws).values()
        if isinstance(value, type) and issubclass(value, BaseException)
    ]
    assert exported
    assert {cls.__module__ for cls in exported} == {"apigw_ws.errors"}


def test_plugin_and_spec_errors_name_their_subject_the_same_way():
    plugin = errors.PluginError("greetings", "failed to import")
    spec = errors.InvalidGatewaySpec("stage_name", "must not be empty")
    assert str(plugin) == "plugin 'greetings': failed to import"
    assert (plugin.plugin, plugin.message) == ("greetings", "failed to import")
    assert str(spec) == "stage_name: must not be empty"
    assert (spec.field, spec.reason) == ("stage_name", "must not be empty")
    assert isinstance(spec, errors.ProvisioningError)
    assert isinstance(plugin, errors.ConfigurationError)
