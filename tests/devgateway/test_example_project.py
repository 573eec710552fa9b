"""The example project talks to the local gateway out of the box (``scripts/demo``).

Its settings run in a child process, as ``manage.py`` runs them, with no AWS
configuration in the environment: a laptop that never saw AWS.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from apigw_ws.devgateway import run_in_thread
from apigw_ws.devgateway.config import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_STAGE

PROJECT = Path(__file__).resolve().parents[2] / "examples" / "project"

SCRIPT = """
import json, sys
import django
django.setup()
from apigw_ws.contrib.django.conf import ws_settings
from apigw_ws.contrib.django.models import ApiGateway

row = ApiGateway(api_name="local", api_id="local", stage_name=sys.argv[1])
answer = {"ENDPOINT_URL": ws_settings.ENDPOINT_URL, "management": row.management_endpoint}
if sys.argv[2] == "post":
    client = row.management_client()
    try:
        client.post_to_connection(ConnectionId="AAAAAAAAAAAAAAA=", Data=b"x")
    except client.exceptions.GoneException:
        answer["post"] = "gone"
print(json.dumps(answer))
"""


def example_settings(stage=DEFAULT_STAGE, post=False, **env):
    """Return what the example project's settings make of ``env`` (and a post's outcome)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "APIGW_WS_"))}
    clean.update(
        DJANGO_SETTINGS_MODULE="example_project.settings",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        **env,
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, stage, "post" if post else "-"],
        cwd=PROJECT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_example_settings_point_sending_code_at_the_default_local_gateway():
    answer = example_settings()
    assert answer["ENDPOINT_URL"] == f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
    assert answer["management"] == f"http://{DEFAULT_HOST}:{DEFAULT_PORT}/{DEFAULT_STAGE}"


def test_an_empty_endpoint_url_in_the_environment_sends_to_aws_instead():
    answer = example_settings(APIGW_WS_ENDPOINT_URL="")
    assert answer["ENDPOINT_URL"] is None
    assert answer["management"] == "https://local.execute-api.us-east-1.amazonaws.com/local"


def test_example_project_posts_to_the_gateway_without_any_aws_configuration():
    with run_in_thread(target="http://127.0.0.1:9/ws/", port=0) as gateway:
        answer = example_settings(post=True, APIGW_WS_ENDPOINT_URL=gateway.endpoint_url)
    # Signed and delivered (no NoCredentialsError or NoRegionError): the gateway says 410.
    assert answer["post"] == "gone"
