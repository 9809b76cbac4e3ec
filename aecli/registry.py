"""A small generic registry: builders registered under names."""

import difflib
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from aecli.errors import UsageError

T = TypeVar("T")


def did_you_mean(asked: str, names: Iterable[str], n: int = 1, cutoff: float = 0.6) -> str:
    """`did you mean X? ` naming the closest of `names` (matched case-insensitively), or ''."""
    by_lower = {name.lower(): name for name in names}
    close = difflib.get_close_matches(asked.lower(), list(by_lower), n=n, cutoff=cutoff)
    return f"did you mean {' or '.join(by_lower[c] for c in close)}? " if close else ""


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            return entry

        return decorator

    def get(self, name: str) -> T:
        if name in self._entries:
            return self._entries[name]
        lowered = {key.lower(): key for key in self._entries}
        if str(name).lower() in lowered:
            return self._entries[lowered[str(name).lower()]]
        hint = did_you_mean(str(name), self._entries)
        raise UsageError(f"unknown {self.kind} {name!r}; {hint}choose one of: {', '.join(self.names())}")

    def names(self) -> list[str]:
        return sorted(self._entries)
