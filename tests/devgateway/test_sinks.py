"""Sink connections: open connections without sockets, for load tests and benchmarks.

No Django: sinks never post ``$connect`` or ``$disconnect``, so nothing listens at the
target (port 9, discard) and nothing may be sent there.
"""

import aiohttp
import boto3
import pytest

from apigw_ws.devgateway import DevGateway, GatewayConfig, run_in_thread
from apigw_ws.validation import CONNECTION_ID_RE

from .conftest import run

NOWHERE = "http://127.0.0.1:9/ws/"


def test_sinks_are_open_connections_that_count_what_they_receive():
    async def main():
        async with DevGateway(GatewayConfig(target=NOWHERE, port=0)) as gateway:
            ids = gateway.open_sinks(3)
            async with aiohttp.ClientSession() as http:
                base = f"{gateway.management_url}/@connections"
                statuses = []
                for body in (b"one", b"two", b"\xff"):  # text and binary frames
                    async with http.post(f"{base}/{ids[0]}", data=body) as r:
                        statuses.append(r.status)
                async with http.get(f"{base}/{ids[1]}") as r:
                    described = (r.status, await r.json())
                async with http.delete(f"{base}/{ids[2]}") as r:
                    deleted = r.status
                async with http.post(f"{base}/{ids[2]}", data=b"late") as r:
                    after_delete = r.status
            counts = [(c.ws.messages if (c := gateway.table.get(i)) else None) for i in ids]
            return ids, statuses, described, deleted, after_delete, counts, gateway.connection_ids()

    ids, statuses, described, deleted, after_delete, counts, still_open = run(main())
    assert len(set(ids)) == 3
    assert all(CONNECTION_ID_RE.fullmatch(i) for i in ids)
    assert statuses == [200, 200, 200]
    assert described[0] == 200
    assert described[1]["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "apigw_ws-sink"}
    assert deleted == 204
    assert after_delete == 410  # a deleted sink is gone, like a closed socket
    assert counts == [3, 0, None]
    assert sorted(still_open) == sorted(ids[:2])


def test_sinks_opened_from_another_thread_take_boto3_posts():
    with run_in_thread(target=NOWHERE, port=0) as gateway:
        ids = gateway.open_sinks(50)
        client = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=gateway.management_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        for connection_id in ids:
            client.post_to_connection(ConnectionId=connection_id, Data=b'{"hello": 1}')
        with pytest.raises(client.exceptions.GoneException):
            client.post_to_connection(ConnectionId="AAAAAAAAAAAAAAA=", Data=b"x")
        assert sum(gateway.table.get(i).ws.messages for i in ids) == 50
