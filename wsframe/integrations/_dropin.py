"""The one install/uninstall mechanism every drop-in uses.

A drop-in is a set of :class:`Patch`es, grouped in named parts (aiohttp's
``reader`` and ``writer``; the others have one part each), over a library
whose supported releases it names. :meth:`DropIn.install` checks the
installed release against the range, looks up every attribute it will
replace and every internal the drop-in reads before it replaces anything
(never half-installed), and leaves installed exactly the parts asked for:
``install(reader=False)`` after ``install()`` gives the reader back to the
library. :meth:`DropIn.uninstall` restores the library's own objects.
"""

from __future__ import annotations

import importlib.metadata
import re
from typing import Any, Callable, Dict, Mapping, NamedTuple, Sequence, Tuple

__all__ = ["DropIn", "Patch", "version_in"]

_CLAUSE = re.compile(r"\s*(>=|<=|==|<|>)\s*(\d+(?:\.\d+)*)\s*")
_COMPARE = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
}


def _release(version: str) -> Tuple[int, ...]:
    """The numeric release of a version ("17.0.1rc2" -> (17, 0, 1)), zero-padded for comparison."""
    match = re.match(r"\d+(?:\.\d+)*", version)
    if match is None:
        raise ValueError(f"not a release version: {version!r}")
    parts = tuple(int(part) for part in match.group().split("."))
    return parts + (0,) * (4 - len(parts))


def version_in(version: str, supported: str) -> bool:
    """Whether ``version`` falls in ``supported``, clauses like ``>=14.0,<18``
    (a pre-release counts as its release)."""
    for clause in supported.split(","):
        match = _CLAUSE.fullmatch(clause)
        if match is None:
            raise ValueError(f"not a version clause: {clause!r}")
        operator, bound = match.groups()
        if not _COMPARE[operator](_release(version), _release(bound)):
            return False
    return True


class Patch(NamedTuple):
    """``owner.name`` (a module or a class attribute) replaced by ``replacement``."""

    owner: Any
    name: str
    replacement: Any

    def where(self) -> str:
        """The patched attribute's dotted name, for error messages."""
        owner = self.owner
        if isinstance(owner, type):
            return f"{owner.__module__}.{owner.__qualname__}.{self.name}"
        return f"{owner.__name__}.{self.name}"

    def in_place(self) -> bool:
        # Looked up in the owner's own namespace: a class attribute read
        # through getattr() would be a bound or inherited one.
        return vars(self.owner).get(self.name) is self.replacement


class DropIn:
    """One library's drop-in: its supported releases and its patches, by part."""

    def __init__(
        self,
        library: str,
        supported: str,
        parts: Mapping[str, Sequence[Patch]],
        layout_problems: Callable[[], Sequence[str]] = tuple,
    ) -> None:
        self.library = library
        self.supported = supported
        self.parts = dict(parts)
        self._layout_problems = layout_problems
        self._originals: Dict[Tuple[int, str], Any] = {}

    def install(self, *, force: bool = False, **wanted: bool) -> None:
        """Install the parts ``wanted`` says (every part by default) and
        restore the library's own code for the parts it turns off."""
        unknown = sorted(set(wanted) - set(self.parts))
        if unknown:
            raise TypeError(f"install() got unknown part(s) {', '.join(unknown)}; "
                            f"the {self.library} drop-in has {', '.join(self.parts)}")
        self._require_supported_version(force)
        selection = {part: bool(wanted.get(part, True)) for part in self.parts}
        missing = [part for part, on in selection.items() if on and not self.part_installed(part)]
        if missing:
            self._check_layout(missing)
        for part, on in selection.items():
            if on:
                self._apply(part)
            else:
                self._restore(part)

    def uninstall(self) -> None:
        """Restore the library's own code for every part."""
        for part in self.parts:
            self._restore(part)

    def installed(self) -> bool:
        """Whether any part runs on wsframe."""
        return any(self.part_installed(part) for part in self.parts)

    def part_installed(self, part: str) -> bool:
        # Any patch counts: code that wraps one of wsframe's replacements
        # (a test counting calls) leaves the part installed.
        return any(patch.in_place() for patch in self.parts[part])

    def _apply(self, part: str) -> None:
        if self.part_installed(part):
            return
        for patch in self.parts[part]:
            if not patch.in_place():
                self._originals[(id(patch.owner), patch.name)] = vars(patch.owner)[patch.name]
                setattr(patch.owner, patch.name, patch.replacement)

    def _restore(self, part: str) -> None:
        for patch in self.parts[part]:
            key = (id(patch.owner), patch.name)
            if patch.in_place() and key in self._originals:
                setattr(patch.owner, patch.name, self._originals.pop(key))

    def _require_supported_version(self, force: bool) -> None:
        """Refuse a release outside the supported range, unless forced."""
        version = importlib.metadata.version(self.library)
        if not force and not version_in(version, self.supported):
            raise RuntimeError(
                f"wsframe's {self.library} drop-in supports {self.library} {self.supported}, and {self.library} "
                f"{version} is installed; install a supported release, leave the drop-in out, or call "
                "install(force=True) to try it anyway (it still refuses internals it does not recognise)"
            )

    def _check_layout(self, parts: Sequence[str]) -> None:
        """Refuse, before anything is replaced, a release whose internals moved."""
        problems = [patch.where() for part in parts for patch in self.parts[part]
                    if patch.name not in vars(patch.owner)]
        problems += [problem for problem in self._layout_problems() if problem not in problems]
        if problems:
            version = importlib.metadata.version(self.library)
            raise RuntimeError(
                f"wsframe's {self.library} drop-in cannot install under {self.library} {version}: it does not "
                f"find {', '.join(problems)}; nothing was replaced"
            )
