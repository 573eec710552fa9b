"""Which keys a connect is counted against, and the refusal when one is over its limit."""

from __future__ import annotations

import ipaddress
import math

from .backends import RateLimitStore
from .errors import RateLimited

#: IPv6 clients usually hold a whole /64: counting per address would let one client
#: rotate through billions of keys.
IPV6_PREFIX = 64


def ip_key(source_ip: str) -> str:
    """Return the rate-limit key of a (trusted, mapped) source IP: per address or per /64."""
    address = ipaddress.ip_address(source_ip)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"connect:ip:{address.ipv4_mapped}"
        network = ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False)
        return f"connect:ip:{network}"
    return f"connect:ip:{address}"


def user_key(user_pk: object) -> str:
    return f"connect:user:{user_pk}"


def enforce(store: RateLimitStore, key: str, *, limit: int, window: int) -> None:
    """Count one attempt on ``key``; raise ``RateLimited`` (429) if it is over the limit."""
    wait = store.hit(key, limit=limit, window=window)
    if wait:
        retry_after = max(1, math.ceil(wait))
        raise RateLimited(f"connect rate limit reached for {key}", retry_after=retry_after)
