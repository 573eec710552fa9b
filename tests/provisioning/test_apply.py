"""plan/apply against moto (plus the documented double for what moto lacks), no Django DB."""

from __future__ import annotations

import pytest

from apigw_ws.provisioning import ApplyIncomplete, apply, apply_domain, make_plan
from apigw_ws.provisioning.desired import SECRET_HEADER

from .conftest import CERT, SECRET, spec

MUTATING = ("create_", "update_", "delete_", "tag_")
SECRET_PARAM = f"integration.request.header.{SECRET_HEADER}"


def mutations(aws):
    return [c for c in aws.calls if c.startswith(MUTATING)]


def routes(aws, api_id):
    return {r["RouteKey"]: r for r in aws.get_routes(ApiId=api_id)["Items"]}


def integrations(aws, api_id):
    return {i["IntegrationId"]: i for i in aws.get_integrations(ApiId=api_id)["Items"]}


def kinds(changes):
    return [(c.action, c.kind, c.name) for c in changes]


def test_fresh_apply_creates_api_routes_integrations_route_responses_stage_and_deployment(aws):
    result = apply(aws, spec())

    api = aws.get_api(ApiId=result.api_id)
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "$request.body.action"
    live_routes = routes(aws, result.api_id)
    assert set(live_routes) == {"$connect", "$disconnect", "$default", "presence"}
    by_id = integrations(aws, result.api_id)
    for key, route in live_routes.items():
        integration = by_id[route["Target"].removeprefix("integrations/")]
        url_route = key.removeprefix("$")
        assert integration["IntegrationUri"] == f"https://www.example.com/ws/{url_route}"
        assert integration["IntegrationType"] == "HTTP_PROXY"
        assert integration["IntegrationMethod"] == "POST"
        assert integration["PayloadFormatVersion"] == "1.0"
        assert integration["TimeoutInMillis"] == 29000
        params = integration["RequestParameters"]
        assert params[SECRET_PARAM] == f"'{SECRET}'"
        assert params["integration.request.header.Connectionid"] == "context.connectionId"
        assert params["integration.request.header.X-Apigw-Ws-Source-Ip"] == (
            "context.identity.sourceIp"
        )
        responses = aws.get_route_responses(ApiId=result.api_id, RouteId=route["RouteId"])
        replies = key not in ("$connect", "$disconnect")
        assert [r["RouteResponseKey"] for r in responses["Items"]] == (
            ["$default"] if replies else []
        )
        assert route.get("RouteResponseSelectionExpression", "") == ("$default" if replies else "")
    stage = aws.get_stage(ApiId=result.api_id, StageName="production")
    assert stage["DeploymentId"] == result.deployment_id
    assert len(by_id) == 4


def test_apply_twice_changes_nothing_the_second_time(aws):
    apply(aws, spec())
    aws.calls.clear()

    changes, live = make_plan(aws, spec())
    again = apply(aws, spec())

    assert changes == ()
    assert again.changes == ()
    assert mutations(aws) == []
    assert again.api_id == live.id


def test_apply_after_a_failure_half_way_completes_without_duplicates(aws):
    aws.fail("create_route", "ConflictException", "simulated", times=1)
    with pytest.raises(ApplyIncomplete) as failed:
        apply(aws, spec())
    assert failed.value.failed.kind == "route"
    assert [c.kind for c in failed.value.done] == ["api", "integration"]
    assert "Run apply again" in str(failed.value)

    result = apply(aws, spec())

    assert len(aws.get_apis()["Items"]) == 1
    assert set(routes(aws, result.api_id)) == {"$connect", "$disconnect", "$default", "presence"}
    assert len(integrations(aws, result.api_id)) == 4  # the first run's integration reused
    assert make_plan(aws, spec())[0] == ()


def test_throttled_deployment_is_reported_and_the_next_apply_deploys(aws):
    aws.fail("create_deployment", "TooManyRequestsException", "Too Many Requests")
    with pytest.raises(ApplyIncomplete) as failed:
        apply(aws, spec())
    message = str(failed.value)
    assert "throttling CreateDeployment" in message
    assert "1" in message
    assert "per 5 seconds" in message

    pending, _ = make_plan(aws, spec())
    assert kinds(pending) == [("create", "deployment", "production")]
    assert pending[0].details == ("the stage runs no deployment",)

    result = apply(aws, spec())
    assert kinds(result.changes) == [("create", "deployment", "production")]
    assert make_plan(aws, spec())[0] == ()


def test_drift_a_route_deleted_in_aws_shows_in_plan_and_apply_restores_it(aws):
    first = apply(aws, spec())
    aws.delete_route(ApiId=first.api_id, RouteId=routes(aws, first.api_id)["presence"]["RouteId"])

    changes, _ = make_plan(aws, spec())

    # The route's old integration is now unused: replaced by a fresh one, then removed.
    assert ("create", "route", "presence") in kinds(changes)
    assert ("create", "route response", "presence") in kinds(changes)
    assert ("create", "deployment", "production") in kinds(changes)
    apply(aws, spec())
    assert "presence" in routes(aws, first.api_id)
    assert len(integrations(aws, first.api_id)) == 4
    assert make_plan(aws, spec())[0] == ()


def test_drift_an_integration_edited_in_aws_is_shown_and_fixed(aws):
    first = apply(aws, spec())
    target = routes(aws, first.api_id)["$default"]["Target"].removeprefix("integrations/")
    aws.update_integration(
        ApiId=first.api_id,
        IntegrationId=target,
        IntegrationUri="https://evil.example.net/x",
        TimeoutInMillis=5000,
    )

    changes, _ = make_plan(aws, spec())

    update = next(c for c in changes if c.kind == "integration")
    assert (update.action, update.name) == ("update", "$default")
    assert "uri: https://evil.example.net/x -> https://www.example.com/ws/default" in update.details
    assert "timeout: 5000 -> 29000" in update.details
    apply(aws, spec())
    fixed = integrations(aws, first.api_id)[target]
    assert fixed["IntegrationUri"] == "https://www.example.com/ws/default"
    assert fixed["TimeoutInMillis"] == 29000
    assert make_plan(aws, spec())[0] == ()


def test_an_unwanted_request_parameter_added_in_aws_replaces_the_integration(aws):
    first = apply(aws, spec())
    route = routes(aws, first.api_id)["$default"]
    old = route["Target"].removeprefix("integrations/")
    params = dict(integrations(aws, first.api_id)[old]["RequestParameters"])
    params["integration.request.header.X-Forwarded-For"] = "'1.2.3.4'"
    aws.update_integration(ApiId=first.api_id, IntegrationId=old, RequestParameters=params)

    changes, _ = make_plan(aws, spec())
    assert ("replace", "integration", "$default") in kinds(changes)

    apply(aws, spec())
    new = routes(aws, first.api_id)["$default"]["Target"].removeprefix("integrations/")
    assert new != old
    assert old not in integrations(aws, first.api_id)
    assert make_plan(aws, spec())[0] == ()


def test_a_route_no_handler_serves_is_deleted_with_its_integration(aws):
    first = apply(aws, spec(route_keys=["presence", "typing"]))

    changes, _ = make_plan(aws, spec())
    assert ("delete", "route", "typing") in kinds(changes)
    apply(aws, spec())

    assert "typing" not in routes(aws, first.api_id)
    uris = [i["IntegrationUri"] for i in integrations(aws, first.api_id).values()]
    assert "https://www.example.com/ws/typing" not in uris


def test_secret_rotation_updates_every_integration_and_never_prints_the_secret(aws):
    first = apply(aws, spec())
    new_secret = "r" * 40

    changes, _ = make_plan(aws, spec(secret=new_secret))

    updates = [c for c in changes if c.kind == "integration"]
    assert len(updates) == 4
    assert all(c.details == (f"header.{SECRET_HEADER}: rotated",) for c in updates)
    assert all(new_secret not in repr(c) and SECRET not in repr(c) for c in changes)
    apply(aws, spec(secret=new_secret))
    for integration in integrations(aws, first.api_id).values():
        assert integration["RequestParameters"][SECRET_PARAM] == f"'{new_secret}'"
    assert kinds(make_plan(aws, spec(secret=new_secret))[0]) == []


def test_changing_the_target_endpoint_updates_every_integration_uri(aws):
    first = apply(aws, spec())
    apply(aws, spec(target_base_endpoint="https://new.example.com/sockets"))
    uris = sorted(i["IntegrationUri"] for i in integrations(aws, first.api_id).values())
    assert uris == [
        "https://new.example.com/sockets/connect",
        "https://new.example.com/sockets/default",
        "https://new.example.com/sockets/disconnect",
        "https://new.example.com/sockets/presence",
    ]


def test_api_description_stage_description_and_tags_are_applied(aws):
    first = apply(aws, spec(description="chat", stage_description="v1", tags={"team": "web"}))
    apply(aws, spec(description="chat 2", stage_description="v2", tags={"team": "ops"}))

    assert aws.get_api(ApiId=first.api_id)["Description"] == "chat 2"
    assert aws.get_stage(ApiId=first.api_id, StageName="production")["Description"] == "v2"
    assert aws.get_api(ApiId=first.api_id)["Tags"] == {"team": "ops"}


def test_two_apis_with_the_gateways_name_is_a_clear_error(aws):
    aws.create_api(
        Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    aws.create_api(
        Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    with pytest.raises(
        Exception, match=r"2 WebSocket APIs are named 'chat'.*set the gateway's api_id"
    ):
        make_plan(aws, spec())


def test_a_recorded_api_id_that_no_longer_exists_falls_back_to_creating(aws):
    changes, live = make_plan(aws, spec(api_id="gone1234"))
    assert live is None
    assert kinds(changes)[0] == ("create", "api", "chat")


def test_domain_and_mapping_are_created_then_updated_on_certificate_change(aws):
    with_domain = spec(domain_name="ws.example.com", certificate_arn=CERT, region="us-east-1")
    result = apply(aws, with_domain)

    domain = result.domain
    assert domain.certificate_arn == CERT
    assert domain.target_domain_name.endswith(".execute-api.us-east-1.amazonaws.com")
    assert (domain.mapping_api_id, domain.mapping_stage) == (result.api_id, "production")
    assert make_plan(aws, with_domain)[0] == ()

    other = CERT.replace("0a1b2c3d", "ffffffff")
    changed = spec(domain_name="ws.example.com", certificate_arn=other, region="us-east-1")
    assert kinds(make_plan(aws, changed)[0]) == [("update", "domain", "ws.example.com")]
    assert apply_domain(aws, changed, result.api_id).domain.certificate_arn == other


def test_a_domain_mapped_to_another_stage_is_moved(aws):
    with_domain = spec(domain_name="ws.example.com", certificate_arn=CERT, region="us-east-1")
    result = apply(aws, with_domain)
    aws.create_stage(ApiId=result.api_id, StageName="old")
    mapping = aws.get_api_mappings(DomainName="ws.example.com")["Items"][0]
    aws.update_api_mapping(
        ApiId=result.api_id,
        ApiMappingId=mapping["ApiMappingId"],
        DomainName="ws.example.com",
        Stage="old",
    )
    changes, _ = make_plan(aws, with_domain)
    assert kinds(changes) == [("update", "mapping", "ws.example.com")]
    apply(aws, with_domain)
    assert aws.get_api_mappings(DomainName="ws.example.com")["Items"][0]["Stage"] == "production"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AccessDeniedException", "AWS denied CreateApi.*ws_gateway iam-policy --provisioning"),
        ("ConflictException", "CreateApi conflicts with what exists in AWS"),
        ("NotFoundException", "CreateApi: AWS has no such resource"),
        ("BadRequestException", "AWS rejected CreateApi: injected"),
    ],
)
def test_aws_errors_become_sentences_and_nothing_is_reported_done(aws, code, expected):
    aws.fail("create_api", code)
    with pytest.raises(ApplyIncomplete, match=expected) as failed:
        apply(aws, spec())
    assert failed.value.done == []
    assert failed.value.error.code == code
    assert aws.get_apis()["Items"] == []


def test_access_denied_while_reading_is_a_readable_error(aws):
    aws.fail("get_apis", "AccessDeniedException", "not authorized to perform apigateway:GET")
    with pytest.raises(Exception, match="AWS denied GetApis"):
        make_plan(aws, spec())
