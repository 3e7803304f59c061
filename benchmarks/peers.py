"""Which implementations a benchmark can run here."""

from __future__ import annotations

import contextlib
import importlib
from typing import Any, Callable, Dict, Iterator, TypeVar

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
    """A peer's benchmark function, marked to run with wsframe's drop-in for ``library`` installed
    (``installed_for`` installs it around the whole benchmark, so install() is never timed)."""
    run = make()
    run.wsframe_dropin = importlib.import_module(f"wsframe.integrations.{library}")  # type: ignore[attr-defined]
    return run


@contextlib.contextmanager
def installed_for(run: Callable[..., Any]) -> Iterator[None]:
    """The drop-in ``run`` was marked with, installed while the block runs; nothing for other runs."""
    dropin = getattr(run, "wsframe_dropin", None)
    if dropin is None:
        yield
        return
    dropin.install()
    try:
        yield
    finally:
        dropin.uninstall()
