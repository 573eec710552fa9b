"""The benchmarks page quotes the recorded runs: every msg/s figure is in the README's.

``benchmarks/README.md`` holds the full output of the runs the page summarises, the plot's
sweep included; a figure on the page that is in none of them came from somewhere else.
"""

import re

from .rst import ROOT, page

RATE = re.compile(r"(\d[\d,]*)(?:\s+and\s+(\d[\d,]*))?\s+msg/s")


def rates(text):
    return {n for m in RATE.finditer(" ".join(text.split())) for n in m.groups() if n}


def test_every_rate_on_the_benchmarks_page_is_in_the_recorded_runs():
    recorded = set(re.findall(r"\d[\d,]*", (ROOT / "benchmarks" / "README.md").read_text()))
    quoted = rates(page("benchmarks"))
    assert len(quoted) >= 3  # the page does quote rates: the check below is not vacuous
    assert quoted - recorded == set()


def test_the_page_links_the_readme_it_quotes():
    assert ":download:`benchmarks/README.md <../benchmarks/README.md>`" in page("benchmarks")


def test_a_rate_from_elsewhere_would_be_caught():
    assert rates("at 64 to 128 in flight 1,720 and 2,340 msg/s") == {"1,720", "2,340"}
