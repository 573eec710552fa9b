"""The incumbent's fan-out: django-aws-api-gateway-websockets 4.1.0, in its own venv.

``fanout.py`` starts this with ``benchmarks/.venv-incumbent/bin/python`` and reads the JSON
it prints. What is timed is its documented broadcast call,
``WebSocketSession.objects.filter(...).send_message(data)``: a ``ThreadPoolExecutor`` of
``max_workers`` threads (10 by default) posting through one cached boto3 client whose
``max_pool_connections`` is the number of workers.

The incumbent builds its endpoint from the gateway row
(``https://{api_id}.execute-api.{region}.amazonaws.com/{stage}``) with no way to point it
elsewhere, so ``get_boto3_client`` is wrapped to swap that one URL for the local gateway's;
every other argument (its ``Config``, pool size, timeouts, retries) is its own.
"""

from __future__ import annotations

import sys
from importlib import metadata

import fanout_common as fc


def main() -> int:
    args = fc.parser(__doc__.splitlines()[0]).parse_args()
    fc.configure(
        args.db,
        "django_aws_api_gateway_websockets",
        # No AWS calls when rows are saved; credentials for boto3 to sign with (the local
        # gateway never checks them); the region its endpoint is built with.
        WEBSOCKETS={"push_changes_to_aws": False},
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_REGION_NAME=fc.REGION,
    )
    from django_aws_api_gateway_websockets import models

    if args.action == "seed":
        gateway = models.ApiGateway.objects.create(
            api_name="bench", api_id=fc.API_ID, stage_name=fc.STAGE
        )
        count = fc.bulk_seed(models.WebSocketSession, fc.read_ids(args.ids), api_gateway=gateway)
        fc.emit({"seeded": count})
        return 0

    aws_endpoint = f"https://{fc.API_ID}.execute-api.{fc.REGION}.amazonaws.com/{fc.STAGE}"
    local_endpoint = f"{args.endpoint.rstrip('/')}/{fc.STAGE}"
    original = models.get_boto3_client

    def pointed_at_local_gateway(service="apigatewayv2", **kwargs):
        if kwargs.get("endpoint_url") == aws_endpoint:
            kwargs["endpoint_url"] = local_endpoint
        return original(service, **kwargs)

    models.get_boto3_client = pointed_at_local_gateway
    sessions = models.WebSocketSession.objects

    def send(n: int, concurrency: int) -> int:
        options = {"max_workers": concurrency} if concurrency else {}
        # It returns the AWS responses of the posts that succeeded.
        return len(sessions.filter(pk__lte=n).send_message(fc.MESSAGE, **options))

    points = fc.run_points(send, args.sizes, args.concurrency, args.rounds, cold=args.cold)
    fc.emit(
        {
            "versions": {
                "django-aws-api-gateway-websockets": metadata.version(
                    "django-aws-api-gateway-websockets"
                ),
                "boto3": metadata.version("boto3"),
                "Django": metadata.version("Django"),
                "python": sys.version.split()[0],
            },
            "default_concurrency": models.BROADCAST_MAX_WORKERS,
            "points": points,
        }
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except fc.BenchError as exc:
        sys.exit(f"error: incumbent: {exc}")
