"""The Django side: ws_gateway, the admin actions, the row, the claim, checks."""

from __future__ import annotations

import json
import threading

import pytest
from django.contrib.auth.models import User
from django.core.checks import run_checks
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

import apigw_ws
from apigw_ws.contrib.django import provisioning
from apigw_ws.contrib.django.models import ApiGateway, WebSocketSession
from apigw_ws.provisioning import ProvisioningError, build_spec
from tests.conftest import require_service

from .conftest import CERT, TARGET

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def client_for(aws, monkeypatch):
    """Point the one client factory at moto (+ the double) for the command and admin."""
    monkeypatch.setattr(provisioning, "client_for", lambda gateway: aws)
    return aws


@pytest.fixture
def gateway(db):
    return ApiGateway.objects.create(
        api_name="chat", target_base_endpoint=TARGET, region="us-east-1", stage_name="production"
    )


def run(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("ws_gateway", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_plan_json_lists_changes_and_apply_records_ids_and_time(client_for, gateway):
    out, _ = run("plan", "--json")
    planned = json.loads(out)
    assert {"action": "create", "kind": "api", "name": "chat"}.items() <= planned[0].items()

    out, _ = run("apply", "--gateway", "chat", "--json")

    applied = json.loads(out)
    gateway.refresh_from_db()
    assert gateway.api_id == applied["api_id"] != ""
    assert gateway.api_endpoint == applied["api_endpoint"]
    assert gateway.deployment_id == applied["deployment_id"] != ""
    assert gateway.last_applied_at is not None
    assert gateway.last_error == ""
    assert gateway.apply_started_at is None
    assert run("plan")[0].startswith("No changes")


def test_plan_table_is_readable_and_changes_nothing(client_for, gateway):
    out, _ = run("plan")
    assert out.splitlines()[0].split() == ["ACTION", "KIND", "NAME", "DETAILS"]
    assert "create  route" in out
    assert "presence" in out
    assert client_for.get_apis()["Items"] == []


def test_registered_routes_come_from_the_plugins(client_for, gateway):
    # tests.plugins.chat registers a handler on the custom route "presence".
    names = {r.route_key for r in provisioning.spec_for(gateway).routes}
    assert names == {"$connect", "$disconnect", "$default", "presence"}


def test_a_handler_added_in_a_plugin_becomes_a_route_on_the_next_apply(
    client_for, gateway, ws_plugins
):
    run("apply")

    class Typing:
        @apigw_ws.hookimpl
        def apigw_ws_register_handlers(self, register):
            register(lambda ctx: None, route="typing", name="default")

    ws_plugins.add(Typing(), name="typing-plugin")
    out, _ = run("plan", "--json")
    assert {(c["action"], c["kind"], c["name"]) for c in json.loads(out)} >= {
        ("create", "integration", "typing"),
        ("create", "route", "typing"),
        ("create", "route response", "typing"),
        ("create", "deployment", "production"),
    }
    run("apply")
    gateway.refresh_from_db()
    keys = {r["RouteKey"] for r in client_for.get_routes(ApiId=gateway.api_id)["Items"]}
    assert "typing" in keys


def test_secret_rotation_new_first_reaches_every_integration(client_for, gateway):
    run("apply")
    new, old = "q" * 40, "s" * 40
    with override_settings(
        APIGW_WS={
            "GATEWAY_SECRET": [new, old],
            "PLUGINS": ["tests.plugins.chat"],
            "LOAD_ENTRY_POINTS": False,
            "REGION": "us-east-1",
        }
    ):
        out, _ = run("plan")
        assert "rotated" in out
        assert new not in out
        assert old not in out
        run("apply")
    gateway.refresh_from_db()
    for item in client_for.get_integrations(ApiId=gateway.api_id)["Items"]:
        assert item["RequestParameters"]["integration.request.header.X-Apigw-Ws-Secret"] == (
            f"'{new}'"
        )


def test_a_failed_apply_records_the_error_and_the_new_api_id_but_not_success(client_for, gateway):
    client_for.fail("create_deployment", "TooManyRequestsException", "Too Many Requests")
    with pytest.raises(CommandError, match="throttling CreateDeployment"):
        run("apply")
    gateway.refresh_from_db()
    assert gateway.api_id  # recorded at once: the next apply finds this API
    assert gateway.last_applied_at is None
    assert gateway.deployment_id == ""
    assert "throttling" in gateway.last_error
    assert gateway.apply_started_at is None

    run("apply")
    gateway.refresh_from_db()
    assert gateway.last_applied_at is not None
    assert gateway.last_error == ""
    assert len(client_for.get_apis()["Items"]) == 1


def test_an_apply_already_running_is_refused_and_creates_nothing(client_for, gateway):
    ApiGateway.objects.filter(pk=gateway.pk).update(apply_started_at=timezone.now())
    with pytest.raises(CommandError, match="another apply of 'chat' is running"):
        run("apply")
    assert client_for.get_apis()["Items"] == []


def test_a_stale_claim_expires(client_for, gateway):
    stale = timezone.now() - provisioning.CLAIM_TIMEOUT * 2
    ApiGateway.objects.filter(pk=gateway.pk).update(apply_started_at=stale)
    run("apply")
    assert len(client_for.get_apis()["Items"]) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_on_postgres_let_exactly_one_apply_run(gateway):
    from django.db import connection

    assert connection.vendor == "postgresql"
    require_service("postgres", "127.0.0.1", 5432)
    barrier = threading.Barrier(8)
    outcomes = []

    def attempt():
        barrier.wait()
        try:
            outcomes.append(provisioning._claim(gateway))
        except ProvisioningError:
            outcomes.append(None)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(o is not None for o in outcomes) == 1


def test_status_json_shows_ids_stage_deployment_and_domain(client_for, gateway):
    gateway.domain_name, gateway.certificate_arn = "ws.example.com", CERT
    gateway.save()
    run("apply")
    out, _ = run("status", "--json")
    data = json.loads(out)
    gateway.refresh_from_db()
    assert data["api_id"] == gateway.api_id
    assert data["stage"] == "production"
    assert data["deployment_id"] == gateway.deployment_id
    assert data["domain_name"] == "ws.example.com"
    assert data["mapping"] == f"{gateway.api_id}/production"
    assert data["dns_target"] == gateway.api_gateway_domain_name != ""


def test_domain_prints_the_dns_record_and_route53_command(client_for, gateway):
    run("apply")
    gateway.refresh_from_db()
    gateway.domain_name, gateway.certificate_arn = "ws.example.com", CERT
    gateway.hosted_zone_id = "Z0123456789"
    gateway.save()

    out, _ = run("domain")

    gateway.refresh_from_db()
    assert f"ws.example.com.  CNAME  {gateway.api_gateway_domain_name}." in out
    assert "--hosted-zone-id Z0123456789" in out
    assert gateway.api_mapping_id
    mapping = client_for.get_api_mappings(DomainName="ws.example.com")["Items"][0]
    assert (mapping["ApiId"], mapping["Stage"]) == (gateway.api_id, "production")


def test_domain_without_an_api_or_a_certificate_is_a_clear_error(client_for, gateway):
    with pytest.raises(CommandError, match="has no domain_name"):
        run("domain")
    gateway.domain_name = "ws.example.com"
    gateway.save()
    with pytest.raises(CommandError, match="certificate_arn: is empty"):
        run("domain")
    gateway.certificate_arn = CERT
    gateway.save()
    with pytest.raises(CommandError, match="run 'ws_gateway apply' first"):
        run("domain")


def test_iam_policy_scopes_manage_connections_to_the_api_and_stage(client_for, gateway):
    run("apply")
    gateway.refresh_from_db()
    out, _ = run("iam-policy", "--account-id", "123456789012")
    statement = json.loads(out)["Statement"]
    assert statement == [
        {
            "Sid": "ApigwWsManageConnections",
            "Effect": "Allow",
            "Action": "execute-api:ManageConnections",
            "Resource": (
                f"arn:aws:execute-api:us-east-1:123456789012:{gateway.api_id}"
                "/production/*/@connections/*"
            ),
        }
    ]
    out, _ = run("iam-policy", "--provisioning")  # the account from (moto's) STS
    sids = [s["Sid"] for s in json.loads(out)["Statement"]]
    assert sids == ["ApigwWsManageConnections", "ApigwWsProvisionApis", "ApigwWsServiceLinkedRole"]
    assert ":123456789012:" in out


def test_gateway_selection_errors_are_readable(client_for, gateway):
    ApiGateway.objects.create(api_name="other", target_base_endpoint=TARGET)
    with pytest.raises(CommandError, match=r"several gateways exist.*--gateway"):
        run("plan")
    with pytest.raises(CommandError, match="no ApiGateway has"):
        run("plan", "--gateway", "nope")


def test_invalid_row_values_are_refused_before_any_aws_call(client_for, gateway):
    ApiGateway.objects.filter(pk=gateway.pk).update(target_base_endpoint="http://example.com/ws/")
    with pytest.raises(CommandError, match="must use https://"):
        run("apply")
    assert client_for.calls == []


def test_no_region_anywhere_is_a_clear_error(gateway, monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    ApiGateway.objects.filter(pk=gateway.pk).update(region="")
    with override_settings(APIGW_WS={"PLUGINS": [], "LOAD_ENTRY_POINTS": False}):
        with pytest.raises(CommandError, match="no AWS region"):
            run("plan")
        assert "apigw_ws.W040" not in [m.id for m in run_checks()]
        ids = [m.id for m in run_checks(include_deployment_checks=True)]
    assert "apigw_ws.W040" in ids


def test_half_set_explicit_keys_is_a_system_check_error():
    with override_settings(APIGW_WS={"AWS_ACCESS_KEY_ID": "AKIA", "REGION": "us-east-1"}):
        assert "apigw_ws.E040" in [m.id for m in run_checks()]


def test_sync_from_aws_reads_ids_back_into_the_row(client_for, gateway):
    run("apply")
    gateway.refresh_from_db()
    api_id = gateway.api_id
    ApiGateway.objects.filter(pk=gateway.pk).update(api_id="", api_endpoint="", deployment_id="")
    gateway.refresh_from_db()

    changed = provisioning.sync_from_aws(gateway)

    assert changed == ["api_endpoint", "api_id", "deployment_id"]
    gateway.refresh_from_db()
    assert gateway.api_id == api_id


def test_model_clean_refuses_what_provisioning_refuses(gateway):
    gateway.api_name = "bad/name"
    gateway.target_base_endpoint = "http://example.com/ws/"
    gateway.domain_name = "ws.example.com"
    with pytest.raises(ValidationError) as raised:
        gateway.full_clean()
    assert set(raised.value.message_dict) >= {"api_name", "target_base_endpoint", "certificate_arn"}


def test_the_mapped_headers_are_the_ones_the_view_accepts(gateway, client):
    """Apply the request parameters as API Gateway would, and POST the result to ws/connect."""
    gateway.api_id = "abcde12345"
    gateway.save()
    from django.conf import settings

    secret = settings.TEST_GATEWAY_SECRET
    route = build_spec(
        name="chat", target_base_endpoint=TARGET, route_keys=[], secret=secret
    ).route("$connect")
    context = {
        "context.connectionId": "Vh5fZFx8IAMCJnQ=",
        "context.apiId": "abcde12345",
        "context.identity.sourceIp": "203.0.113.9",
        "context.routeKey": "$connect",
        "context.eventType": "CONNECT",
    }
    headers = {
        name.removeprefix("integration.request.header."): (
            value.strip("'") if value.startswith("'") else context[value]
        )
        for name, value in route.request_parameters.items()
    }

    response = client.post(reverse("apigw_ws:dispatch", args=["connect"]), headers=headers)

    assert response.status_code == 200, response.content
    session = WebSocketSession.objects.get(connection_id="Vh5fZFx8IAMCJnQ=")
    assert session.source_ip == "203.0.113.9"
    del headers["X-Apigw-Ws-Secret"]
    forged = client.post(reverse("apigw_ws:dispatch", args=["connect"]), headers=headers)
    assert forged.status_code == 403


@pytest.fixture
def admin_client_logged_in(client, db):
    user = User.objects.create_superuser("admin", "a@example.com", "pw")
    client.force_login(user)
    return client


def _action(client, action, gateway):
    url = reverse("admin:apigw_ws_apigateway_changelist")
    response = client.post(url, {"action": action, "_selected_action": [gateway.pk]}, follow=True)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_admin_plan_apply_and_sync_actions_report_as_messages(
    client_for, gateway, admin_client_logged_in
):
    client = admin_client_logged_in
    [planned] = _action(client, "plan_gateways", gateway)
    assert planned.startswith("chat: 13 change(s) to apply: create api chat")

    [applied] = _action(client, "apply_gateways", gateway)
    assert applied.startswith("chat: applied 13 change(s)")
    gateway.refresh_from_db()
    assert gateway.api_id
    assert gateway.last_applied_at

    assert _action(client, "plan_gateways", gateway) == ["chat: no changes, AWS matches"]
    ApiGateway.objects.filter(pk=gateway.pk).update(api_endpoint="")
    assert _action(client, "sync_gateways", gateway) == ["chat: updated api_endpoint from AWS"]


def test_admin_shows_aws_errors_as_messages_never_a_500(
    client_for, gateway, admin_client_logged_in
):
    client_for.fail("get_apis", "AccessDeniedException", "not authorized")
    [message] = _action(admin_client_logged_in, "plan_gateways", gateway)
    assert message.startswith("chat: plan failed: AWS denied GetApis")
    assert "iam-policy --provisioning" in message

    [message] = _action(admin_client_logged_in, "sync_gateways", gateway)
    assert "AWS has no WebSocket API named 'chat'" in message


def test_admin_reports_an_unexpected_bug_by_class_name(
    client_for, gateway, admin_client_logged_in, monkeypatch
):
    def broken(gateway):
        raise KeyError("bug")

    monkeypatch.setattr(provisioning, "plan_gateway", broken)
    [message] = _action(admin_client_logged_in, "plan_gateways", gateway)
    assert message == "chat: plan failed unexpectedly (KeyError); see the log"
