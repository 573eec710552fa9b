"""The pipeline owns the order of connect, disconnect and message, without Django.

``lambda_front_end.py`` is a second front end (a Lambda-style handler over an in-memory
``SessionStore``); these tests drive it in a fresh interpreter that never imports Django.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = textwrap.dedent(
    """
    import json, sys
    from tests.core.lambda_front_end import SECRET, EchoPlugin, MemoryStore, User, handle

    def request(route, cid="c1=", body=None, query=None, secret=SECRET, api="lambdaapi1"):
        return {
            "requestContext": {"routeKey": route, "connectionId": cid, "apiId": api},
            "headers": {"X-Apigw-Ws-Secret": secret},
            "queryStringParameters": query,
            "body": json.dumps(body) if body is not None else None,
        }

    store = MemoryStore({7: User(7, {"app.admin"})})
    out = {
        "wrong secret": handle(store, request("$connect", secret="x" * 40)),
        "unknown api": handle(store, request("$connect", api="otherapi99")),
        "bad channel": handle(store, request("$connect", query={"channel": "a b"})),
        "connect": handle(store, request("$connect", query={"channel": "lobby"})),
        "connect again": handle(store, request("$connect", query={"channel": "lobby"})),
        "admin connect": handle(store, request("$connect", cid="c2=", query={"user": "7"})),
        "echo": handle(store, request("$default", body={"handler": "echo", "x": 1})),
        "unknown handler": handle(store, request("$default", body={"handler": "nope"})),
        "not json": handle(store, request("$default", body=None)),
        "denied": handle(store, request("$default", body={"handler": "admin"})),
        "allowed": handle(store, request("$default", cid="c2=", body={"handler": "admin"})),
        "unknown connection": handle(store, request("$default", cid="c9=", body={})),
        "disconnect": handle(store, request("$disconnect")),
        "disconnect again": handle(store, request("$disconnect")),
        "after disconnect": handle(store, request("$default", body={"handler": "echo"})),
        "log": store.log,
        "hooks": EchoPlugin.calls,
        "replies": store.sessions["c1="].sent,
        "django": sorted(m for m in sys.modules if m.split(".")[0] == "django"),
    }
    print(json.dumps(out))
    """
)


def run_scenario():
    done = subprocess.run(
        [sys.executable, "-c", SCENARIO], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(done.stdout)


def test_a_second_front_end_drives_connect_message_and_disconnect_without_django():
    out = run_scenario()
    assert out["django"] == []
    assert out["connect"] == {"statusCode": 200}
    assert json.loads(out["echo"]["body"]) == {
        "echo": {"handler": "echo", "x": 1},
        "channel": "lobby",
    }
    assert out["replies"] == [{"to": "c1="}]
    assert out["allowed"]["statusCode"] == 200
    assert out["disconnect"] == out["disconnect again"] == {"statusCode": 200}


def test_refusals_come_from_the_pipeline_with_their_public_text():
    out = run_scenario()
    refusals = {
        "wrong secret": 403,
        "unknown api": 403,
        "bad channel": 400,
        "connect again": 400,
        "unknown handler": 400,
        "not json": 400,
        "denied": 403,
        "unknown connection": 400,
        "after disconnect": 400,
    }
    for name, status in refusals.items():
        assert out[name]["statusCode"] == status, name
    assert json.loads(out["unknown handler"]["body"]) == {"error": "Unknown handler"}
    assert json.loads(out["after disconnect"]["body"]) == {"error": "Unknown connection"}


def test_connect_runs_in_one_transaction_then_notifies_and_a_repeated_disconnect_is_quiet():
    out = run_scenario()
    # Refused connects (secret, api id, channel) never reached the store; the duplicate
    # one was refused inside its transaction.
    assert out["log"][:3] == ["begin", "open c1=", "commit"]
    assert out["log"][3] == "opened c1="
    assert out["hooks"] == ["on_connect c1=", "on_connect c2=", "on_disconnect c1="]
