"""Sending to connections through the API Gateway Management API, one module per idea.

======================  ==========================================================
``types``               ``Endpoint``, ``Recipient``, ``Operation``, ``Progress``
``encoding``            one encoding and size check per message
``outcome``             what one Management API answer means
``report``              ``SendReport`` and ``Failure``
``tally``               one fan-out's bookkeeping, broken endpoints
``retry``               backoff with jitter, shared by the transports
``delivery``            one recipient's attempts and outcome, shared by the transports
``options``             what a transport needs of its sender
``cache``               what is costly to make, made once per process
``throttle``            the per-process ceiling on requests per second
``signing``             SigV4 for ``execute-api``
``loop``                the process's sending loop and its pooled session
``aiohttp_transport``   the default transport
``boto3_transport``     the boto3 transport and its pooled clients
``intercept``           where requests go instead of the network in tests
``sender``              ``Sender``: picks the transport, runs the fan-out
======================  ==========================================================
"""

from .boto3_transport import endpoint_url, management_client
from .encoding import DEFAULT_MAX_BYTES, MessageNotSerializable, MessageTooLarge, encode_message
from .report import Failure, SendReport
from .sender import DEFAULT_CONCURRENCY, TRANSPORTS, Sender
from .throttle import DEFAULT_RATE_LIMIT
from .types import Endpoint, Progress, Recipient

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_RATE_LIMIT",
    "TRANSPORTS",
    "Endpoint",
    "Failure",
    "MessageNotSerializable",
    "MessageTooLarge",
    "Progress",
    "Recipient",
    "SendReport",
    "Sender",
    "encode_message",
    "endpoint_url",
    "management_client",
]
