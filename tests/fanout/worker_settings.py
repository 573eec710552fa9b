"""Settings of the worker processes that ``test_workers.py`` starts and kills: the test
suite's, pointed at the test's local gateway and database through the environment, with a
short lease so that a takeover happens within the test."""

import os

from tests.settings import *  # noqa: F403
from tests.settings import APIGW_WS

APIGW_WS = {
    **APIGW_WS,
    "ENDPOINT_URL": os.environ["APIGW_WS_WORKER_ENDPOINT_URL"],
    "FANOUT_LEASE_SECONDS": float(os.environ["APIGW_WS_WORKER_LEASE"]),
    # Few sends in flight: a chunk takes seconds at the gateway's latency, so a worker
    # can be killed in the middle of one.
    "SEND_CONCURRENCY": int(os.environ["APIGW_WS_WORKER_CONCURRENCY"]),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"apigw_ws.contrib.django.fanout": {"handlers": ["stderr"], "level": "INFO"}},
}
