"""The desired state refuses bad input before any AWS call, naming the field to fix."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from apigw_ws.provisioning import InvalidGatewaySpec
from apigw_ws.provisioning.desired import CONTEXT_HEADERS, check_target

from .conftest import CERT, spec


@pytest.mark.parametrize("name", ["", "a/b", "chat;drop", "x" * 129, "caf\u00e9", "line\nbreak"])
def test_invalid_api_names_are_refused(name):
    with pytest.raises(InvalidGatewaySpec, match=r"api_name: .* use 1-128 letters"):
        spec(name=name)


@pytest.mark.parametrize("stage", ["", "has space", "$default", "a" * 129])
def test_invalid_stage_names_are_refused(stage):
    with pytest.raises(InvalidGatewaySpec, match="stage_name"):
        spec(stage_name=stage)


@pytest.mark.parametrize(
    "url",
    [
        "http://www.example.com/ws/",
        "ftp://example.com/ws/",
        "https://user:pw@example.com/ws/",
        "https://example.com/ws/?a=1",
        "https:///ws/",
        "https://example.com:99999/ws/",
        "",
        "javascript:alert(1)",
    ],
)
def test_targets_that_are_not_https_urls_are_refused(url):
    with pytest.raises(InvalidGatewaySpec, match="target_base_endpoint"):
        spec(target_base_endpoint=url)


@pytest.mark.parametrize(
    "url", ["http://localhost:8000/ws/", "http://127.0.0.1:8000/ws", "http://[::1]/ws/"]
)
def test_http_is_allowed_for_loopback_only(url):
    assert check_target(url).endswith("/")


@given(st.text(max_size=200))
def test_any_text_as_target_is_either_a_url_ending_in_slash_or_a_named_refusal(text):
    try:
        result, refused = check_target(text), None
    except InvalidGatewaySpec as exc:
        result, refused = None, exc
    if refused is not None:
        # A refusal names the field and quotes what it refused.
        assert refused.field == "target_base_endpoint"
        assert str(refused).startswith("target_base_endpoint: ")
        assert (repr(text) if text else "is empty") in refused.reason
    else:
        assert result.endswith("/")
        assert result.startswith(("https://", "http://"))


LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


@st.composite
def targets(draw):
    """Return a URL built from parts, and whether API Gateway may be pointed at it."""
    scheme = draw(st.sampled_from(["https", "http", "ftp", "wss"]))
    host = draw(st.sampled_from([*LOOPBACK, "example.com", "ws.example.com", ""]))
    port = draw(st.sampled_from(["", ":8443", ":443", ":99999"]))
    path = draw(st.sampled_from(["", "/", "/ws", "/ws/", "/a/b/"]))
    userinfo = draw(st.sampled_from(["", "user:pw@", "user@"]))
    query = draw(st.sampled_from(["", "?a=1", "#top"]))
    url = f"{scheme}://{userinfo}{host}{port}{path}{query}"
    allowed = (
        bool(host)
        and port != ":99999"
        and not userinfo
        and not query
        and (scheme == "https" or (scheme == "http" and host in LOOPBACK))
    )
    return url, allowed


@given(targets())
@example(("https://example.com/ws", True))
@example(("http://example.com/ws/", False))
def test_a_target_is_accepted_exactly_when_it_is_https_or_loopback_http_without_extras(target):
    url, allowed = target
    if allowed:
        assert check_target(url) == (url if url.endswith("/") else url + "/")
    else:
        with pytest.raises(InvalidGatewaySpec) as info:
            check_target(url)
        assert info.value.field == "target_base_endpoint"
        assert repr(url) in info.value.reason


def test_a_domain_without_a_certificate_is_refused_with_what_to_do():
    with pytest.raises(InvalidGatewaySpec, match=r"certificate_arn: is empty.*request an ACM"):
        spec(domain_name="ws.example.com", region="us-east-1")


def test_a_certificate_in_another_region_is_refused():
    with pytest.raises(InvalidGatewaySpec, match=r"certificate is in us-east-1.*eu-west-1"):
        spec(domain_name="ws.example.com", certificate_arn=CERT, region="eu-west-1")


@pytest.mark.parametrize("domain", ["localhost", "-bad.example.com", "a..b.com", "x" * 254])
def test_invalid_domain_names_are_refused(domain):
    with pytest.raises(InvalidGatewaySpec, match="domain_name"):
        spec(domain_name=domain, certificate_arn=CERT)


@pytest.mark.parametrize("tags", [[], {"aws:x": "1"}, {"k": 1}, {"": "v"}, {"k": "v" * 257}])
def test_invalid_tags_are_refused(tags):
    with pytest.raises(InvalidGatewaySpec, match="tags"):
        spec(tags=tags)


def test_a_secret_a_static_mapping_cannot_hold_is_refused():
    with pytest.raises(InvalidGatewaySpec, match="GATEWAY_SECRET"):
        spec(secret="'" + "a" * 40)


def test_every_route_gets_the_context_headers_and_the_secret():
    desired = spec()
    for route in desired.routes:
        headers = {
            k.removeprefix("integration.request.header."): v
            for k, v in route.request_parameters.items()
        }
        assert {h: headers[h] for h in CONTEXT_HEADERS} == dict(CONTEXT_HEADERS)
        assert headers["X-Apigw-Ws-Secret"] == "'" + "n" * 40 + "'"
    assert "n" * 40 not in repr(desired)


def test_without_a_secret_no_secret_header_is_mapped():
    params = spec(secret=None).routes[0].request_parameters
    assert not any("Secret" in key for key in params)
