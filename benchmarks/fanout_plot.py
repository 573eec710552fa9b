"""Plot fan-out throughput against concurrency, from ``fanout.py``'s results.

``fanout.py`` calls ``plot()`` at the end of a run; to redraw from a saved run::

    .venv/bin/python benchmarks/fanout_plot.py benchmarks/results/fanout.json out.png

Needs matplotlib (the ``dev`` extra).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

STYLE = {
    "apigw_ws": {"color": "#1f6feb", "marker": "o"},
    "apigw_ws_boto3": {"color": "#1f6feb", "marker": "o", "linestyle": ":", "alpha": 0.6},
    "incumbent": {"color": "#d1242f", "marker": "s"},
    "raw": {"color": "#6e7781", "marker": "^", "linestyle": "--"},
}


def plot(results: dict[str, Any], path: Path) -> None:
    """Draw each contender's msg/s at each concurrency of the sweep into ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    sweep, labels = results["sweep"], results["labels"]
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=120)
    for key, points in sweep.items():
        points = sorted(points, key=lambda p: p["concurrency"])
        ax.plot(
            [p["concurrency"] for p in points],
            [p["rate"] for p in points],
            label=labels[key],
            **STYLE.get(key, {}),
        )
    for key, concurrency in results.get("defaults", {}).items():
        if key in sweep:
            ax.axvline(concurrency, color=STYLE[key]["color"], alpha=0.25, linewidth=4)
    concurrencies = sorted({p["concurrency"] for points in sweep.values() for p in points})
    if results.get("latency"):
        # No sender can beat concurrency / latency: every call waits that long.
        ax.plot(
            concurrencies,
            [c / results["latency"] for c in concurrencies],
            color="#aaaaaa",
            linestyle=":",
            label=f"latency bound (concurrency / {results['latency'] * 1000:g} ms)",
        )
    ax.set_xscale("log")
    ax.set_xticks(concurrencies, [str(c) for c in concurrencies])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: f"{y:,.0f}"))
    measured = max(p["rate"] for points in sweep.values() for p in points)
    ax.set_ylim(0, measured * 1.6)  # the latency bound line runs on above
    ax.set_xlabel("concurrency (requests in flight; shaded: each library's default)")
    ax.set_ylabel("messages per second")
    ax.set_title(results["title"], fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main() -> int:
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} RESULTS.json OUT.png")
    data = json.loads(Path(sys.argv[1]).read_text())
    plot(data["results"]["plot"], Path(sys.argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
