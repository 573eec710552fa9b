# The local gateway's fixtures: a live Django behind a real gateway on loopback.
from tests.devgateway.conftest import (  # noqa: F401
    aws_credentials,
    gateway_log,
    gateway_row,
    live_django,
    start_gateway,
)
