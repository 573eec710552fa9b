"""Settings of the task worker process that ``test_worker.py`` starts: the test suite's,
pointed at the test's local gateway and database through the environment."""

import os

from tests.settings import *  # noqa: F403
from tests.settings import APIGW_WS

APIGW_WS = {**APIGW_WS, "ENDPOINT_URL": os.environ["APIGW_WS_WORKER_ENDPOINT_URL"]}
