"""Bad values of command-line options are a ``CommandError`` naming the option.

Before: a 5,000-digit or ``²`` gateway key raised ``ValueError``, ``--older-than nan``
was accepted, ``--port 99999`` listened elsewhere, a huge ``--concurrency`` started that
many tasks and deeply nested ``--data`` raised ``RecursionError``.
"""

import argparse

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from apigw_ws import cli_types
from apigw_ws.contrib.django.models import ApiGateway

pytestmark = pytest.mark.django_db


@pytest.fixture
def row():
    return ApiGateway.objects.create(api_name="cmdtest", api_id="cmdtest123", stage_name="s")


def _refused(*args):
    with pytest.raises(CommandError) as info:
        call_command(*args)
    return str(info.value)


@pytest.mark.parametrize("data", ["[" * 200_000 + "]" * 200_000, '{"a":' * 200 + "1" + "}" * 200])
def test_ws_send_with_deeply_nested_data_names_data(tmp_path, row, data):
    path = tmp_path / "deep.json"
    path.write_text(data)
    assert "--data nests deeper than" in _refused("ws_send", "--all", f"--data=@{path}")


@pytest.mark.parametrize("value", ["1000000000", "0", "-5"])
def test_ws_send_with_an_absurd_concurrency_names_it(row, value):
    assert "--concurrency" in _refused("ws_send", "--all", "--data={}", f"--concurrency={value}")


@pytest.mark.parametrize("key", ["²", "1" * 5000, "١٢"])
def test_ws_gateway_with_a_key_that_is_no_row_names_it(row, key):
    message = _refused("ws_gateway", "status", "--gateway", key)
    assert "no ApiGateway has the api_name, api_id or pk" in message
    assert len(message) < 300


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999", "abc", "1"])
def test_ws_prune_with_an_older_than_that_is_no_age_names_it(row, value):
    assert "--older-than" in _refused("ws_prune", f"--older-than={value}")


@pytest.mark.parametrize(
    "args",
    [
        ["--port=99999"],
        ["--port=-1"],
        ["--port=8o"],
        ["--integration-timeout=nan"],
        ["--integration-timeout=0"],
        ["--idle-timeout=inf"],
        ["--max-duration=-3"],
        ["--error-rate=2"],
        ["--latency=nan"],
    ],
)
def test_ws_devgateway_with_an_impossible_value_names_the_option(row, args):
    option = args[0].split("=")[0]
    message = _refused(
        "ws_devgateway", "--gateway=cmdtest", "--target=http://127.0.0.1:9/ws/", *args
    )
    assert option in message


@given(st.text(max_size=30))
def test_the_argument_types_answer_any_text_with_a_value_or_a_type_error(text):
    for parse in (cli_types.port, cli_types.concurrency, cli_types.seconds(), cli_types.fraction):
        try:
            value = parse(text)
        except argparse.ArgumentTypeError:
            continue
        assert value == value  # not NaN
        assert abs(value) != float("inf")
