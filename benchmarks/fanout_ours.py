"""Our fan-out: ``WebSocketSession.objects.filter(...).send_message(data)`` in apigw_ws.

``fanout.py`` starts this with our venv's python and reads the JSON it prints. What is
timed is the whole queryset call, as an application makes it: streaming the sessions
from SQLite, the parallel posts through the transport ``--transport`` names (default:
none named, the library's default, with no ``APIGW_WS_SEND_TRANSPORT`` and no sending
setting changed; ``boto3`` for the pooled boto3 clients and their threads), the report.
Every recipient must be in ``report.sent``.

``--broken N`` adds the time a fan-out to N sessions takes to report them all failed
when the endpoint refuses connections (a loopback port nobody listens on).

``--profile N`` adds a cProfile of N posts made one after another through the boto3
transport's client in this thread (where the CPU time of one ``post_to_connection``
goes), and the CPU time the aiohttp transport spends signing one request.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
from importlib import metadata

import fanout_common as fc


def main() -> int:
    parser = fc.parser(__doc__.splitlines()[0])
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--transport", choices=["aiohttp", "boto3"])
    parser.add_argument("--broken", type=int, default=0, metavar="N")
    args = parser.parse_args()
    os.environ.pop("APIGW_WS_SEND_TRANSPORT", None)
    if args.transport:
        os.environ["APIGW_WS_SEND_TRANSPORT"] = args.transport
    # boto3 signs every request; the local gateway never checks the signature.
    os.environ.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")
    os.environ.pop("AWS_PROFILE", None)
    fc.configure(
        args.db,
        "apigw_ws.contrib.django",
        APIGW_WS={
            "ENDPOINT_URL": args.endpoint or "http://127.0.0.1:9",
            "REGION": fc.REGION,
            "PLUGINS": [],
            "LOAD_ENTRY_POINTS": False,
        },
    )
    from apigw_ws.contrib.django.conf import ws_settings
    from apigw_ws.contrib.django.models import ApiGateway, WebSocketSession

    if args.action == "seed":
        gateway = ApiGateway.objects.create(
            api_name="bench", api_id=fc.API_ID, stage_name=fc.STAGE, region=fc.REGION
        )
        count = fc.bulk_seed(WebSocketSession, fc.read_ids(args.ids), api_gateway=gateway)
        fc.emit({"seeded": count})
        return 0

    sessions = WebSocketSession.objects

    def send(n: int, concurrency: int) -> int:
        options = {"concurrency": concurrency} if concurrency else {}
        report = sessions.filter(pk__lte=n).send_message(fc.MESSAGE, **options)
        if report.failed or report.gone:
            first = report.failed[0] if report.failed else report.gone[0]
            raise fc.BenchError(
                f"{len(report.failed)} failed, {len(report.gone)} gone, e.g. {first}"
            )
        return report.sent

    points = fc.run_points(send, args.sizes, args.concurrency, args.rounds, cold=args.cold)
    result = {
        "versions": {
            "apigw_ws": metadata.version("apigw-ws"),
            "boto3": metadata.version("boto3"),
            "aiohttp": metadata.version("aiohttp"),
            "Django": metadata.version("Django"),
            "python": sys.version.split()[0],
        },
        "default_concurrency": ws_settings.SEND_CONCURRENCY,
        "transport": fan_out_transport(),
        "points": points,
    }
    if args.profile:
        result["profiled"], result["profile"] = profile_posts(args.profile)
    if args.broken:
        result["broken"] = broken_endpoint(sessions, args.broken)
    fc.emit(result)
    return 0


def fan_out_transport() -> str:
    from apigw_ws.contrib.django.sending import get_sender

    return get_sender().transport


#: The discard port on loopback: nothing listens, connections are refused.
BROKEN = "http://127.0.0.1:9"


def broken_endpoint(sessions: object, n: int) -> dict[str, object]:
    """Time a fan-out to ``n`` sessions whose endpoint refuses connections."""
    import time

    from django.test.utils import override_settings

    from apigw_ws.contrib.django.conf import ws_settings

    with override_settings(APIGW_WS={**ws_settings.user_settings, "ENDPOINT_URL": BROKEN}):
        start = time.perf_counter()
        report = sessions.filter(pk__lte=n).send_message(fc.MESSAGE)
        elapsed = time.perf_counter() - start
    if report.sent or len(report.failed) != n:
        raise fc.BenchError(f"broken endpoint: {report}")
    return {"sessions": n, "seconds": elapsed, "error": report.failed[0].error}


def signing_cpu_us(endpoint: object, count: int = 2000) -> float:
    """Return the CPU microseconds the aiohttp transport spends signing one post."""
    from apigw_ws.sending.aiohttp_transport import connection_url
    from apigw_ws.sending.signing import management_signer

    signer = management_signer(endpoint.url, endpoint.region, endpoint.profile)
    url = connection_url(endpoint.url, "Zm9vYmFyMTIzNDU2Nzg=")
    start = fc.cpu_seconds()
    for _ in range(count):
        signer.sign("POST", url, b'{"hello":"world"}')
    return (fc.cpu_seconds() - start) / count * 1e6


def profile_posts(count: int) -> tuple[int, str]:
    """Time, then cProfile, ``count`` sequential posts through the sender's client."""
    from apigw_ws.contrib.django.models import ApiGateway
    from apigw_ws.contrib.django.sending import endpoint_for, get_sender
    from apigw_ws.sending import encode_message

    endpoint = endpoint_for(ApiGateway.objects.get())
    client = get_sender().client(endpoint)  # boto3's, for what one of its calls costs
    payload = encode_message(fc.MESSAGE)
    ids = list(
        ApiGateway.objects.get()
        .sessions.order_by("pk")
        .values_list("connection_id", flat=True)[:count]
    )
    half = len(ids) // 2
    cpu_start = fc.cpu_seconds()
    for connection_id in ids[:half]:
        client.post_to_connection(ConnectionId=connection_id, Data=payload)
    cpu = (fc.cpu_seconds() - cpu_start) / max(half, 1) * 1e6
    profiler = cProfile.Profile()
    profiler.enable()
    for connection_id in ids[half:]:
        client.post_to_connection(ConnectionId=connection_id, Data=payload)
    profiler.disable()
    out = io.StringIO()
    out.write(
        f"{len(ids)} posts, one after another, through the sender's boto3 client: the first"
        f" {half} unprofiled took {cpu:,.0f} us CPU each; the profile of the other"
        f" {len(ids) - half} (the socket waits are the 20 ms latency):\n"
    )
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(25)
    out.write(
        f"The aiohttp transport (the default) signs a post in"
        f" {signing_cpu_us(endpoint):,.0f} us CPU.\n"
    )
    return len(ids), out.getvalue()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except fc.BenchError as exc:
        sys.exit(f"error: apigw_ws: {exc}")
