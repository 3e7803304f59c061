"""Which implementations a benchmark can run here."""

from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, TypeVar

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


def with_dropin(library: str, make: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
    """A peer's benchmark function with wsframe's drop-in for ``library`` installed while it runs."""
    dropin = importlib.import_module(f"wsframe.integrations.{library}")
    run_peer = make()

    def run(*args: Any) -> Any:
        dropin.install()
        try:
            return run_peer(*args)
        finally:
            dropin.uninstall()

    return run
