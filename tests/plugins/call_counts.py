"""Counts of the calls that reach wsframe's code while a peer's own suite runs,
shared by the plugins and runners in this folder: the proof that wsframe ran."""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any, Callable

calls: Counter = Counter()


def counted(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, counting its calls under ``name``."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return function(*args, **kwargs)

    return wrapper
