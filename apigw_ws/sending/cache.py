"""Memoising what is costly to make (boto3 clients, resolved credentials) once per process."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_Make = TypeVar("_Make", bound=Callable[..., Any])


def made_once(maxsize: int) -> Callable[[_Make], _Make]:
    """Memoise like ``functools.lru_cache``, but a missing value is made by one thread.

    ``lru_cache`` lets every thread that misses make its own value at the same time: the
    first parallel send of a process used to build one boto3 client per worker thread.
    One lock per cache: a hit holds it for a dictionary lookup, a miss while it is made.
    """

    def decorate(make: _Make) -> _Make:
        cached = functools.lru_cache(maxsize=maxsize)(make)
        lock = threading.Lock()

        @functools.wraps(make)
        def get(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return cached(*args, **kwargs)

        get.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        get.cache_info = cached.cache_info  # type: ignore[attr-defined]
        return get  # type: ignore[return-value]

    return decorate
