"""``TOKENS`` settings validation: wrong values are errors, odd ones warnings."""

import pytest

from apigw_ws.contrib.django.checks import validate


def _ids(tokens):
    return sorted(p.id for p in validate({"TOKENS": tokens}))


def test_defaults_and_full_valid_settings_have_no_problem():
    assert _ids({}) == []
    assert (
        _ids({"EXPIRY_SECONDS": 30, "MAX_PER_MINUTE": 5, "REQUIRED": False, "BIND_SESSION": False})
        == []
    )


@pytest.mark.parametrize(
    "tokens",
    [
        {"EXPIRY_SECONDS": 0},
        {"EXPIRY_SECONDS": "60"},
        {"EXPIRY_SECONDS": True},
        {"MAX_PER_MINUTE": -1},
        {"REQUIRED": "yes"},
        {"BIND_SESSION": 1},
    ],
)
def test_wrong_values_are_error_e020(tokens):
    assert _ids(tokens) == ["E020"]


def test_unknown_key_is_warning_w020():
    assert _ids({"EXPIRY": 60}) == ["W020"]


def test_long_lived_tokens_are_warning_w021():
    assert _ids({"EXPIRY_SECONDS": 3600}) == ["W021"]


def test_not_a_dict_is_e002_only():
    assert _ids([]) == ["E002"]
