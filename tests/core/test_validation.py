"""The checks on untrusted input, without Django: ids, channels, origins, secrets, JSON."""

import json
import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from apigw_ws.errors import BadRequest, Forbidden, PayloadTooLarge, RequestRefused
from apigw_ws.testing import strategies
from apigw_ws.validation import (
    MAX_JSON_DEPTH,
    channel_name_problem,
    check_api_id,
    check_channel_name,
    check_connection_id,
    check_secret,
    origin_allowed,
    parse_allowed_origin,
    parse_json_object,
)

MAX = 131072
SECRET = "s" * 40


# -- connection ids, api ids ------------------------------------------------------------


@given(strategies.connection_ids())
def test_aws_shaped_connection_ids_are_accepted(cid):
    assert check_connection_id(cid) == cid


@given(strategies.bad_connection_ids())
def test_malformed_connection_ids_are_refused_with_a_generic_public_text(cid):
    with pytest.raises(BadRequest) as info:
        check_connection_id(cid)
    assert info.value.public == "Bad request"
    assert info.value.status == 400


@pytest.mark.parametrize("cid", ["abc\n", "\nabc", "abc def", "a" * 129, "a/b", ""])
def test_connection_id_check_matches_the_whole_value(cid):
    with pytest.raises(BadRequest):
        check_connection_id(cid)


def test_connection_id_detail_is_truncated_for_the_log():
    with pytest.raises(BadRequest) as info:
        check_connection_id("!" * 10_000)
    assert len(info.value.detail) < 200


@pytest.mark.parametrize("api_id", ["", "abc def", "a" * 65, "api.id", "ab\n"])
def test_malformed_api_ids_are_refused(api_id):
    with pytest.raises(BadRequest):
        check_api_id(api_id)


def test_a_ten_character_aws_api_id_is_accepted():
    assert check_api_id("a1b2c3d4e5") == "a1b2c3d4e5"


# -- channels ---------------------------------------------------------------------------


@given(strategies.channel_names())
def test_valid_channel_names_are_accepted(name):
    assert check_channel_name(name) == name
    assert channel_name_problem(name) == ""


def test_a_channel_of_128_characters_is_accepted_and_129_is_refused():
    assert check_channel_name("c" * 128)
    with pytest.raises(BadRequest) as info:
        check_channel_name("c" * 129)
    assert info.value.public == "Invalid channel"
    assert "longer than 128" in info.value.detail


@pytest.mark.parametrize("name", ["", "a b", "a/b", "a.b", "ä", "lobby\n", "a;drop", "*"])
def test_channel_names_with_other_characters_are_refused(name):
    with pytest.raises(BadRequest):
        check_channel_name(name)
    assert channel_name_problem(name)


# -- secrets ----------------------------------------------------------------------------


def test_the_configured_secret_is_accepted():
    check_secret(SECRET, [SECRET])


def test_any_of_several_rotating_secrets_is_accepted():
    check_secret("new" * 12, ["new" * 12, SECRET])
    check_secret(SECRET, ["new" * 12, SECRET])


@pytest.mark.parametrize(
    "given_secret", ["", "s" * 39, "s" * 41, "S" * 40, " " + "s" * 40, "é" * 40, "\x00" * 40]
)
def test_a_missing_or_wrong_secret_is_forbidden(given_secret):
    with pytest.raises(Forbidden) as info:
        check_secret(given_secret, [SECRET])
    assert info.value.status == 403
    assert SECRET not in info.value.detail
    assert info.value.public == "Forbidden"


def test_no_configured_secret_matches_nothing():
    with pytest.raises(Forbidden):
        check_secret("", [])


# -- origins ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    ["http://testserver", "https://testserver", "https://TESTSERVER", "http://testserver/"],
)
def test_an_origin_on_the_request_host_is_allowed_without_allowed_origins(origin):
    assert origin_allowed(origin, host="testserver", allowed=None)


def test_the_host_header_port_does_not_matter_without_allowed_origins():
    assert origin_allowed("https://testserver", host="testserver:8000", allowed=None)


@pytest.mark.parametrize(
    "origin",
    [
        "null",
        "",
        "testserver",
        "https://testserver.evil.net",
        "https://evil.net",
        "https://eviltestserver",
        "https://testserver@evil.net",
        "https://testserver:pw@evil.net",
        "https://evil.net#@testserver",
        "https://evil.net?@testserver",
        "https://evil.net/testserver",
        "https://testserver/path",
        "https://testserver?q=1",
        "https://testserver:99999",
        "https://testserver:port",
        "ftp://testserver",
        "file://testserver",
        "javascript://testserver",
        "//testserver",
        "https://",
    ],
)
def test_an_origin_that_is_not_the_request_host_is_refused(origin):
    assert not origin_allowed(origin, host="testserver", allowed=None)


@pytest.mark.parametrize(
    "origin", ["https://evil.net@testserver", "https://@testserver", "https://:pw@testserver"]
)
def test_userinfo_in_an_origin_is_refused_even_when_the_host_part_matches(origin):
    assert not origin_allowed(origin, host="testserver", allowed=None)
    assert not origin_allowed(
        origin.replace("testserver", "example.com"), host="x", allowed=ALLOWED
    )


@pytest.mark.parametrize("host", ["", "evil.net@testserver", "testserver/x", "a b"])
def test_a_malformed_host_header_allows_no_origin(host):
    assert not origin_allowed("https://testserver", host=host, allowed=None)


ALLOWED = ["https://example.com", "https://*.apps.example.com", "http://localhost:8000"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://example.com",
        "https://example.com:443",
        "https://EXAMPLE.com/",
        "https://a.apps.example.com",
        "https://a.b.apps.example.com",
        "http://localhost:8000",
    ],
)
def test_an_origin_matching_an_allowed_entry_by_scheme_host_and_port_is_allowed(origin):
    assert origin_allowed(origin, host="ignored", allowed=ALLOWED)


@pytest.mark.parametrize(
    "origin",
    [
        "http://example.com",  # scheme
        "https://example.com:8443",  # port
        "https://example.com:0",  # port 0 is not the default port
        "https://example.com.evil.net",
        "https://evilexample.com",
        "https://apps.example.com",  # a wildcard needs a subdomain
        "https://a.apps.example.com.evil.net",
        "https://xapps.example.com",
        "http://localhost",  # port 80, not 8000
        "https://localhost:8000",
        "null",
    ],
)
def test_an_origin_differing_from_every_allowed_entry_is_refused(origin):
    assert not origin_allowed(origin, host="example.com", allowed=ALLOWED)


def test_an_empty_allowed_list_allows_no_origin_not_even_the_request_host():
    assert not origin_allowed("https://testserver", host="testserver", allowed=[])


def test_a_star_entry_allows_any_well_formed_origin_but_not_null():
    assert origin_allowed("https://anything.example", host="x", allowed=["*"])
    assert not origin_allowed("null", host="x", allowed=["*"])


@pytest.mark.parametrize(
    ("entry", "parsed"),
    [
        ("https://example.com", ("https", False, "example.com", 443)),
        ("http://Example.com:8080/", ("http", False, "example.com", 8080)),
        ("https://*.example.com", ("https", True, "example.com", 443)),
    ],
)
def test_allowed_origin_entries_parse_into_scheme_wildcard_host_and_port(entry, parsed):
    assert parse_allowed_origin(entry) == parsed


@pytest.mark.parametrize(
    "entry", ["example.com", "https://example.com/path", "https://*example.com", "ws://x", "*"]
)
def test_allowed_origin_entries_that_are_not_origins_do_not_parse(entry):
    assert parse_allowed_origin(entry) is None


# -- JSON bodies ------------------------------------------------------------------------


@given(strategies.json_objects())
def test_any_json_object_within_the_limit_parses_to_itself(obj):
    assert parse_json_object(json.dumps(obj).encode(), max_bytes=MAX) == obj


@given(strategies.hostile_bodies())
def test_every_hostile_body_is_refused_with_a_client_error(body):
    with pytest.raises(RequestRefused) as info:
        parse_json_object(body, max_bytes=MAX)
    assert info.value.status in (400, 413)


@pytest.mark.parametrize("body", [b"[]", b"[{}]", b'"x"', b"1", b"null", b"true", b""], ids=repr)
def test_json_that_is_not_an_object_is_refused(body):
    with pytest.raises(BadRequest):
        parse_json_object(body, max_bytes=MAX)


@pytest.mark.parametrize(
    "body",
    [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b'{"a": 1e400}', b'{"a": -1e999}'],
)
def test_non_finite_numbers_are_refused(body):
    with pytest.raises(BadRequest):
        parse_json_object(body, max_bytes=MAX)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "latin-1"])
def test_bodies_not_in_utf8_are_refused(encoding):
    with pytest.raises(BadRequest):
        parse_json_object('{"a": "é"}'.encode(encoding), max_bytes=MAX)


def test_unicode_in_a_utf8_body_is_accepted():
    assert parse_json_object('{"a": "é🎉"}'.encode(), max_bytes=MAX) == {"a": "é🎉"}


def test_nesting_up_to_the_limit_is_accepted_and_one_more_level_is_refused():
    def nested(depth):
        return b'{"a":' * depth + b"1" + b"}" * depth

    assert parse_json_object(nested(MAX_JSON_DEPTH), max_bytes=MAX)
    with pytest.raises(BadRequest) as info:
        parse_json_object(nested(MAX_JSON_DEPTH + 1), max_bytes=MAX)
    assert "deeper" in info.value.detail


@pytest.mark.parametrize("depth", [926, 5000, 60000])
def test_nesting_deep_enough_to_exhaust_the_parser_is_a_bad_request(depth):
    with pytest.raises(BadRequest):
        parse_json_object(b"[" * depth + b"]" * depth, max_bytes=10**6)


def test_a_body_of_exactly_max_bytes_is_accepted_and_one_more_byte_is_too_large():
    body = b'{"a": "' + b"x" * (MAX - 9) + b'"}'
    assert len(body) == MAX
    assert parse_json_object(body, max_bytes=MAX)
    with pytest.raises(PayloadTooLarge) as info:
        parse_json_object(body + b" ", max_bytes=MAX)
    assert info.value.status == 413


def json_object_or_none(body):
    """Return the JSON object in ``body`` read by ``json`` itself, or ``None`` if it is not one.

    The test's own reading, not the package's: strict UTF-8, no NaN or Infinity, finite
    numbers, an object at the top, and no string (key or value) holding NUL or a lone
    surrogate, which no database column stores. (No body here comes near
    ``MAX_JSON_DEPTH``.)
    """

    def refuse(constant):
        raise ValueError(constant)

    def acceptable(value):
        if isinstance(value, float):
            return math.isfinite(value)
        if isinstance(value, str):
            return "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
        if isinstance(value, dict):
            return all(acceptable(k) and acceptable(v) for k, v in value.items())
        if isinstance(value, list):
            return all(acceptable(v) for v in value)
        return True

    try:
        value = json.loads(body.decode("utf-8"), parse_constant=refuse)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        return None
    return value if isinstance(value, dict) and acceptable(value) else None


def dumped(obj, cut=None):
    return json.dumps(obj, ensure_ascii=False).encode()[:cut]


#: Bytes that are JSON objects about half of the time: raw bytes alone almost never are.
bodies = st.one_of(
    st.binary(max_size=64),
    strategies.json_objects(max_leaves=5).map(dumped),
    st.builds(dumped, strategies.json_objects(max_leaves=5), st.integers(0, 40)),
    st.sampled_from([b"{}", b"[]", b"1", b'{"a": NaN}', b'{"a": 1e400}', b'{"a": 1}']),
)


@given(bodies)
@example(b'{"a": [1, {"b": null}]}')
@example(b'{"a": 1')
def test_parsing_any_bytes_returns_the_object_json_reads_or_refuses_what_is_not_one(body):
    expected = json_object_or_none(body)
    if expected is None:
        with pytest.raises(BadRequest) as info:
            parse_json_object(body, max_bytes=MAX)
        assert info.value.status == 400
        assert info.value.public == "Bad request"
    else:
        assert parse_json_object(body, max_bytes=MAX) == expected
