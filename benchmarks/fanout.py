"""Benchmark apigw_ws's fan-out against the incumbent and against raw HTTP posts.

Run from the repository root with the project's venv::

    .venv/bin/python benchmarks/fanout.py            # a few minutes on 2 cores
    .venv/bin/python benchmarks/fanout.py --quick    # about a minute

A local gateway (``fanout_gateway.py``, its own process) serves the Management API with
20 ms added to every call, and holds one open sink connection per session. Each
contender runs in a process of its own against it, on its own SQLite file seeded with
those connection ids, and the script prints from one run:

a. our throughput (``WebSocketSession.objects.filter(...).send_message(data)``, no
   setting or environment variable about sending changed) as a multiple of the
   incumbent's (django-aws-api-gateway-websockets 4.1.0, the same call, in
   ``benchmarks/.venv-incumbent``), each at its defaults, warm: target >= 5x at 10,000;
   and cold (the first send of a fresh process, 1,000 sessions): target >= 3x;
b. our throughput as a fraction of unsigned raw HTTP POSTs (aiohttp, pooled) at our
   concurrency: target >= 0.7x; our CPU per message: target <= 250 us;
c. the peak memory (RSS) of our process broadcasting to 100,000 sessions: target < 100 MB;
d. how long a fan-out to 5,000 sessions takes to report them failed when the endpoint
   refuses connections: target < 2 s;

and plots throughput against concurrency for both libraries and the raw posts
(``docs/_static/fanout-throughput.png``). It exits non-zero only on errors (a recipient
not reached, a worker failing), never on a missed target.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import fanout_common as fc
import run as inbound  # the incumbent's venv and the machine description are shared

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PLOT = ROOT / "docs" / "_static" / "fanout-throughput.png"

TARGET_SPEEDUP = 5.0  # ours >= 5x the incumbent, warm
TARGET_COLD_SPEEDUP = 3.0  # ours >= 3x the incumbent, first send of a process
TARGET_CEILING = 0.7  # ours >= 0.7x raw posts at our concurrency
TARGET_CPU_US = 250.0  # our CPU per message
TARGET_MEMORY_MB = 100.0  # peak RSS of our process, 100,000 sessions
TARGET_BROKEN_SECONDS = 2.0  # 5,000 recipients of a refused endpoint reported
BROKEN_SESSIONS = 5000
COLD_SESSIONS = 1000

LABELS = {
    "apigw_ws": "apigw_ws, defaults",
    "apigw_ws_boto3": "apigw_ws, boto3 transport",
    "incumbent": f"incumbent {inbound.INCUMBENT[1]}",
    "raw": "raw HTTP POST (aiohttp)",
}

# rounds: timed sends per size (the median is reported); the sweep and the memory run
# make one timed send per point.
FULL = {
    "sizes": [1000, 10000],
    "rounds": [3, 1],
    "sweep": [8, 32, 64, 128, 256],
    "memory": 100_000,
}
QUICK = {"sizes": [1000], "rounds": [1], "sweep": [32, 128], "memory": 10_000}


# --- the gateway and the workers ----------------------------------------------------------


class Gateway:
    """The gateway process: its endpoint, and how many messages its sinks have received."""

    def __init__(self, process: subprocess.Popen[str], endpoint_url: str) -> None:
        self.process, self.endpoint_url = process, endpoint_url

    def counters(self) -> tuple[int, float]:
        """Return the messages the sinks have received, and the gateway's CPU seconds."""
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write("count\n")
        stdin.flush()
        answer = json.loads(stdout.readline())
        return answer["received"], answer["cpu"]


@contextlib.contextmanager
def gateway(sinks: int, ids: Path, latency: float) -> Iterator[Gateway]:
    """Start ``fanout_gateway.py`` with ``sinks`` sink connections; stop it afterwards."""
    command = [
        sys.executable,
        HERE / "fanout_gateway.py",
        f"--sinks={sinks}",
        f"--ids={ids}",
        f"--latency={latency}",
        f"--api-id={fc.API_ID}",
        f"--stage={fc.STAGE}",
    ]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise SystemExit("error: the gateway process did not start")
        yield Gateway(process, json.loads(line)["endpoint_url"])
    finally:
        _close(process.stdin)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _close(stream: IO[str] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()


class Workers:
    """Runs each contender's worker script with its interpreter, on its own database."""

    def __init__(self, work: Path, ids: Path, gw: Gateway, incumbent: Path | None) -> None:
        self.work, self.ids, self.gw = work, ids, gw
        self.commands = {
            "apigw_ws": [sys.executable, HERE / "fanout_ours.py"],
            # The same sender forced onto its thread-pool transport, for comparison.
            "apigw_ws_boto3": [sys.executable, HERE / "fanout_ours.py", "--transport=boto3"],
            "raw": [sys.executable, HERE / "fanout_raw.py"],
        }
        if incumbent is not None:
            self.commands["incumbent"] = [incumbent, HERE / "fanout_incumbent.py"]

    def db(self, key: str) -> Path:
        return self.work / f"{key.removesuffix('_boto3')}.sqlite3"  # ours share one

    def seed(self, key: str, count: int) -> None:
        ids = self.work / f"ids-{key}.txt"
        ids.write_text("".join(line + "\n" for line in fc.read_ids(self.ids)[:count]))
        inbound.run_json([*self.commands[key], "seed", f"--db={self.db(key)}", f"--ids={ids}"])

    def send(
        self, key: str, sizes: list[int], concurrency: list[int], rounds: list[int], *extra: str
    ) -> dict[str, Any]:
        """Run the worker's timed sends; check the gateway got every message they report."""
        label = ", ".join(f"{n:,}" for n in sizes)
        levels = ", ".join(str(c) if c else "default" for c in concurrency)
        print(
            f"  {LABELS[key]}: {label} sessions, concurrency {levels},"
            f" rounds {'/'.join(map(str, rounds))}",
            file=sys.stderr,
        )
        before, cpu_before = self.gw.counters()
        result = inbound.run_json(
            [
                *self.commands[key],
                "send",
                f"--db={self.db(key)}",
                f"--ids={self.ids}",
                f"--endpoint={self.gw.endpoint_url}",
                f"--sizes={','.join(map(str, sizes))}",
                f"--concurrency={','.join(map(str, concurrency))}",
                f"--rounds={','.join(map(str, rounds))}",
                *extra,
            ]
        )
        cold = "--cold" in extra
        expected = (
            (0 if cold else fc.WARMUP * len(concurrency))
            + sum(p["sessions"] * len(p["rates"]) for p in result["points"])
            + result.get("profiled", 0)
        )
        after, cpu_after = self.gw.counters()
        if after - before != expected:
            raise fc.BenchError(
                f"{key}: the gateway received {after - before} messages, not {expected}"
            )
        # What serving this worker's calls cost the gateway, per call.
        result["gateway_cpu_us_per_message"] = (cpu_after - cpu_before) / expected * 1e6
        return result


# --- the report ---------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "target met" if ok else "target MISSED"


def point(result: dict[str, Any], sessions: int, concurrency: int = 0) -> dict[str, Any]:
    return next(
        p for p in result["points"] if p["sessions"] == sessions and p["concurrency"] == concurrency
    )


def report(info: dict[str, str], options: dict[str, Any], results: dict[str, Any]) -> list[str]:
    head, sweep = results["headline"], results["sweep"]
    sizes = "/".join(f"{n:,}" for n in options["sizes"])
    ours_default = head["apigw_ws"]["default_concurrency"]
    lines = [
        "apigw_ws fan-out benchmark",
        f"  date      {info['date']}",
        f"  machine   {info['platform']}; {info['cpu']}; nproc {info['nproc']};"
        f" load average {info['load_before']} before, {info['load_after']} after (1 min)",
        f"  ours      Python {info['python']}, Django {info['django']}, {info['apigw_ws']},"
        f" boto3 {head['apigw_ws']['versions']['boto3']},"
        f" aiohttp {head['apigw_ws']['versions']['aiohttp']};"
        f" fan-outs through the {head['apigw_ws']['transport']} transport",
    ]
    if "incumbent" in head:
        v = head["incumbent"]["versions"]
        lines.append(
            f"  incumbent django-aws-api-gateway-websockets"
            f" {v['django-aws-api-gateway-websockets']}, boto3 {v['boto3']},"
            f" Django {v['Django']} (benchmarks/.venv-incumbent)"
        )
    lines += [
        f"  method    local gateway (own process), {options['latency'] * 1000:g} ms added per"
        " Management API call; each contender in its own process on its own SQLite file;",
        f"            a {fc.WARMUP}-session warm-up send, then timed sends (the median of"
        f" {'/'.join(map(str, options['rounds']))} for {sizes});",
        "            the gateway's count of received messages checked after each worker",
        "",
        f"  {'contender':<26}{'sessions':>9}{'concurrency':>14}{'msg/s':>9}"
        f"{'CPU us/msg':>12}{'gateway CPU':>13}   rounds (msg/s)",
    ]
    for n in options["sizes"]:
        for key in ("apigw_ws", "incumbent", "raw"):
            if key not in head:
                continue
            default = head[key].get("default_concurrency")
            p = point(head[key], n, 0 if default else ours_default)
            level = f"{default} (default)" if default else str(ours_default)
            lines.append(
                f"  {LABELS[key]:<26}{n:>9,}{level:>14}{p['rate']:>9,.0f}"
                f"{p['cpu_us_per_message']:>12,.0f}"
                f"{head[key]['gateway_cpu_us_per_message']:>13,.0f}   "
                + " ".join(f"{r:,.0f}" for r in p["rates"])
            )
    for key in ("apigw_ws", "incumbent"):
        if key in results["cold"]:
            p = point(results["cold"][key], COLD_SESSIONS)
            lines.append(
                f"  {LABELS[key] + ', cold':<26}{COLD_SESSIONS:>9,}{'default':>14}"
                f"{p['rate']:>9,.0f}{p['cpu_us_per_message']:>12,.0f}"
                f"{results['cold'][key]['gateway_cpu_us_per_message']:>13,.0f}"
            )
    lines += ["", "figures"]
    missed = []

    def add(text: str, ok: bool | None = None) -> None:
        if ok is not None:
            text += f" -> {verdict(ok)}"
            if not ok:
                missed.append(text)
        lines.append(f"  {text}")

    for n in options["sizes"]:
        ours = point(head["apigw_ws"], n)["rate"]
        if "incumbent" in head:
            theirs = point(head["incumbent"], n)["rate"]
            add(
                f"a. apigw_ws vs incumbent, {n:,} sessions, each at its default concurrency"
                f" ({ours_default} vs {head['incumbent']['default_concurrency']}):"
                f" {ours / theirs:.2f}x (target >= {TARGET_SPEEDUP:g}x)",
                ours / theirs >= TARGET_SPEEDUP,
            )
        else:
            add(f"a. apigw_ws vs incumbent, {n:,} sessions: not measured (--no-incumbent)")
    cold = results["cold"]
    ours_cold = point(cold["apigw_ws"], COLD_SESSIONS)["rate"]
    if "incumbent" in cold:
        theirs_cold = point(cold["incumbent"], COLD_SESSIONS)["rate"]
        add(
            f"a. cold: the first send of a fresh process, {COLD_SESSIONS:,} sessions:"
            f" {ours_cold:,.0f} vs {theirs_cold:,.0f} msg/s, {ours_cold / theirs_cold:.2f}x"
            f" (target >= {TARGET_COLD_SPEEDUP:g}x)",
            ours_cold / theirs_cold >= TARGET_COLD_SPEEDUP,
        )
    if "incumbent" in head and "incumbent" in sweep:
        # At 32 in flight and 20 ms a call no sender passes 1,600 msg/s: what a higher
        # SEND_CONCURRENCY buys (cheap with the aiohttp transport: no threads).
        n, top = options["sweep_sessions"], max(options["sweep"])
        ours = point(sweep["apigw_ws"], n, top)["rate"]
        theirs = point(head["incumbent"], n)["rate"]
        add(
            f"   (apigw_ws with SEND_CONCURRENCY={top} vs the incumbent at its default,"
            f" {n:,} sessions: {ours / theirs:.2f}x)"
        )
    for n in options["sizes"]:
        ours = point(head["apigw_ws"], n)["rate"]
        raw = point(head["raw"], n, ours_default)["rate"]
        add(
            f"b. apigw_ws vs raw HTTP POSTs, {n:,} sessions, concurrency {ours_default}:"
            f" {ours / raw:.2f}x (target >= {TARGET_CEILING:g}x)",
            ours / raw >= TARGET_CEILING,
        )
    for n in options["sizes"]:
        cpu = point(head["apigw_ws"], n)["cpu_us_per_message"]
        add(
            f"b. apigw_ws CPU per message, {n:,} sessions, warm: {cpu:,.0f} us"
            f" (target <= {TARGET_CPU_US:g} us)",
            cpu <= TARGET_CPU_US,
        )
    mem = results["memory"]
    mp = mem["points"][0]
    add(
        f"c. peak RSS of our process, {mp['sessions']:,} sessions: {mem['peak_rss_mb']:.0f} MB"
        f" (after a {fc.WARMUP}-session warm-up: {mp['peak_rss_mb_warm']:.0f} MB; sent at"
        f" {mp['rate']:,.0f} msg/s) (target < {TARGET_MEMORY_MB:g} MB)",
        mem["peak_rss_mb"] < TARGET_MEMORY_MB,
    )
    if options["memory"] != 100_000:
        lines.append("     (--quick: 10,000 sessions, not the 100,000 of the target)")
    broken = head["apigw_ws"]["broken"]
    add(
        f"d. a refused endpoint, {broken['sessions']:,} sessions reported failed in"
        f" {broken['seconds']:.2f} s (target < {TARGET_BROKEN_SECONDS:g} s): {broken['error']}",
        broken["seconds"] < TARGET_BROKEN_SECONDS,
    )

    lines += [
        "",
        f"throughput against concurrency, {options['sweep_sessions']:,} sessions (msg/s;"
        " CPU us/msg in brackets)",
        f"  {'concurrency':>11}" + "".join(f"{LABELS[k]:>28}" for k in sweep),
    ]
    for c in options["sweep"]:
        cells = []
        for key in sweep:
            p = point(sweep[key], options["sweep_sessions"], c)
            cells.append(f"{p['rate']:>18,.0f} ({p['cpu_us_per_message']:>6,.0f})")
        lines.append(f"  {c:>11}" + "".join(f"{cell:>28}" for cell in cells))
    if "incumbent" in sweep:
        ratios = [
            point(sweep["apigw_ws"], options["sweep_sessions"], c)["rate"]
            / point(sweep["incumbent"], options["sweep_sessions"], c)["rate"]
            for c in options["sweep"]
        ]
        lines.append(
            "  apigw_ws / incumbent at equal concurrency: " + ", ".join(f"{r:.2f}x" for r in ratios)
        )
    ratios = [
        point(sweep["apigw_ws"], options["sweep_sessions"], c)["rate"]
        / point(sweep["raw"], options["sweep_sessions"], c)["rate"]
        for c in options["sweep"]
    ]
    lines.append(
        "  apigw_ws / raw at equal concurrency:       " + ", ".join(f"{r:.2f}x" for r in ratios)
    )
    results["missed"] = missed
    return lines


def plot_data(options: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    sweep = results["sweep"]
    return {
        "title": (
            f"Broadcast to {options['sweep_sessions']:,} sessions through the local gateway,"
            f" {options['latency'] * 1000:g} ms per Management API call"
        ),
        "latency": options["latency"],
        "labels": {k: LABELS[k] for k in sweep},
        "sweep": {
            k: [p for p in v["points"] if p["sessions"] == options["sweep_sessions"]]
            for k, v in sweep.items()
        },
        "defaults": {
            k: results["headline"][k]["default_concurrency"]
            for k in ("apigw_ws", "incumbent")
            if k in results["headline"]
        },
    }


# --- main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description="apigw_ws fan-out benchmark")
    parser.add_argument("--quick", action="store_true", help="1,000 sessions; memory at 10,000")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added per call")
    parser.add_argument("--no-incumbent", action="store_true", help="skip the incumbent")
    parser.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    parser.add_argument("--plot", type=Path, default=PLOT, help=f"the PNG (default {PLOT})")
    parser.add_argument(
        "--profile", type=int, default=100, metavar="N", help="posts profiled (0: none)"
    )
    parser.add_argument(
        "--show-profile", action="store_true", help="print the profile even if targets are met"
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args()
    preset = QUICK if args.quick else FULL
    options = {
        **preset,
        "latency": args.latency,
        "sweep_sessions": preset["sizes"][0],
    }

    info = inbound.machine()
    info["load_before"] = f"{os.getloadavg()[0]:.1f}"
    incumbent = None if args.no_incumbent else inbound.incumbent_python()
    sinks = max(*options["sizes"], options["memory"])
    results: dict[str, Any] = {"headline": {}, "sweep": {}}
    with tempfile.TemporaryDirectory(prefix="apigw_ws-fanout-") as tmp:
        work = Path(tmp)
        ids = work / "ids.txt"
        print(f"starting the gateway with {sinks:,} sink connections ...", file=sys.stderr)
        with gateway(sinks, ids, args.latency) as gw:
            workers = Workers(work, ids, gw, incumbent)
            print("seeding the databases ...", file=sys.stderr)
            workers.seed("apigw_ws", sinks)
            if incumbent is not None:
                workers.seed("incumbent", max(options["sizes"]))
            print("the first send of a fresh process, each at its defaults:", file=sys.stderr)
            cold = results["cold"] = {}
            cold["apigw_ws"] = workers.send("apigw_ws", [COLD_SESSIONS], [0], [1], "--cold")
            if incumbent is not None:
                cold["incumbent"] = workers.send("incumbent", [COLD_SESSIONS], [0], [1], "--cold")
            print("each library at its defaults, warm:", file=sys.stderr)
            rounds, sizes = options["rounds"], options["sizes"]
            head = results["headline"]
            head["apigw_ws"] = workers.send(
                "apigw_ws",
                sizes,
                [0],
                rounds,
                f"--profile={args.profile}",
                f"--broken={min(BROKEN_SESSIONS, sinks)}",
            )
            ours_default = head["apigw_ws"]["default_concurrency"]
            if incumbent is not None:
                head["incumbent"] = workers.send("incumbent", sizes, [0], rounds)
            head["raw"] = workers.send("raw", sizes, [ours_default], rounds)
            print("the concurrency sweep:", file=sys.stderr)
            for key in workers.commands:
                results["sweep"][key] = workers.send(
                    key, [options["sweep_sessions"]], options["sweep"], [1]
                )
            print("memory:", file=sys.stderr)
            results["memory"] = workers.send("apigw_ws", [options["memory"]], [0], [1])

    info["load_after"] = f"{os.getloadavg()[0]:.1f}"
    lines = report(info, options, results)
    print("\n".join(lines))
    if args.profile and (results["missed"] or args.show_profile):
        print("\ncProfile of our side (CPU per post, one thread):")
        print(results["headline"]["apigw_ws"].get("profile", "(not profiled)"))
    results["plot"] = plot_data(options, results)
    if not args.no_plot:
        from fanout_plot import plot

        plot(results["plot"], args.plot)
        shown = args.plot.relative_to(ROOT) if args.plot.is_relative_to(ROOT) else args.plot
        print(f"plot: {shown}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"info": info, "options": options, "results": results}, indent=2)
        )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except fc.BenchError as exc:
        sys.exit(f"error: {exc}")
