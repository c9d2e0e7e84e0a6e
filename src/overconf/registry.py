"""Plain registries filled by a decorator (timm's ``@register_model`` style).

>>> fruit = Registry[int]("fruit")
>>> @fruit.register("apple")
... def apple() -> int:
...     return 1
>>> fruit.get("apple")()
1
>>> fruit.names()
['apple']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from overconf.validate import unknown_name

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class Registry(Generic[T]):
    """A name → factory mapping; ``get`` of an unknown name raises :class:`overconf.errors.ConfigError`
    with the closest known names ("did you mean") and all known names in the hint."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[F], F]:
        """A decorator that registers its factory under ``name`` and returns it unchanged (type kept)."""

        def decorate(factory: F) -> F:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = factory
            return factory

        return decorate

    def get(self, name: str) -> Callable[..., T]:
        try:
            return self._entries[name]
        except KeyError:
            raise unknown_name(self.kind, name, self.names()) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
