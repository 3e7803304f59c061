"""Which implementations a benchmark can run here."""

from __future__ import annotations

from typing import Callable, Dict, TypeVar

T = TypeVar("T")


def available(candidates: Dict[str, Callable[[], T]]) -> Dict[str, T]:
    """Build each candidate; leave out the ones whose library is not installed."""
    found: Dict[str, T] = {}
    for name, make in candidates.items():
        try:
            found[name] = make()
        except ImportError:
            pass
    return found
