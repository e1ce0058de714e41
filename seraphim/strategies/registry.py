"""
Strategies registered by name, so configs and the command line can refer to them.

The bundled ones register when the package loads its library (``seraphim/strategies/__init__``);
this module imports none of them, so they can import it.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import sys
import types
import typing
from dataclasses import dataclass

import msgspec
from nautilus_trader.config import StrategyConfig
from nautilus_trader.trading.strategy import Strategy


@dataclass(frozen=True)
class StrategySpec:
    name: str
    strategy_cls: type[Strategy]
    config_cls: type[StrategyConfig]

    @property
    def description(self) -> str:
        doc = inspect.getdoc(self.strategy_cls) or ""
        return doc.split("\n\n")[0].replace("\n", " ")

    @property
    def strategy_path(self) -> str:
        return f"{self.strategy_cls.__module__}:{self.strategy_cls.__name__}"

    @property
    def config_path(self) -> str:
        return f"{self.config_cls.__module__}:{self.config_cls.__name__}"

    def parameters(self) -> list[tuple[str, str, object]]:
        """(name, type, default) of every config field; default is ``REQUIRED`` when none."""
        return list(_parameters(self.config_cls))


@functools.cache
def _parameters(config_cls: type) -> tuple[tuple[str, str, object], ...]:
    # msgspec.structs.fields evaluates the type annotations on every call (about 0.5 ms a
    # config class); every backtest, sweep trial and node assembly asks.
    result = []
    for field in msgspec.structs.fields(config_cls):
        if field.name in _NAUTILUS_FIELDS:
            continue
        default = field.default
        if default is msgspec.NODEFAULT:
            default = REQUIRED
        result.append((field.name, _type_name(field.type), default))
    return tuple(result)


REQUIRED = "(required)"
# StrategyConfig's own plumbing, not strategy parameters.
_NAUTILUS_FIELDS = {f.name for f in msgspec.structs.fields(StrategyConfig)}
_REGISTRY: dict[str, StrategySpec] = {}


def _type_name(annotation: object) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def register_strategy(name: str, config_cls: type[StrategyConfig]):
    """Class decorator: make a ``Strategy`` available by ``name`` with its config class."""

    def decorate(strategy_cls: type[Strategy]) -> type[Strategy]:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.strategy_cls is not strategy_cls:
            raise ValueError(f"strategy name {name!r} is already registered")
        _REGISTRY[name] = StrategySpec(name, strategy_cls, config_cls)
        return strategy_cls

    return decorate


def get_strategy(name: str) -> StrategySpec:
    """
    A registered strategy by name. ``module:name`` first imports ``module`` (from the current
    folder or the Python path), so a user's own strategies need no change to Seraphim.
    """
    if ":" in name:
        module, name = name.rsplit(":", 1)
        _import_user_module(module)
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise KeyError(f"unknown strategy {name!r} (registered: {known})") from None


def _import_user_module(module: str) -> None:
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        importlib.import_module(module)
    except ImportError as e:
        raise KeyError(f"cannot import strategy module {module!r}: {e}") from None


def all_strategies() -> list[StrategySpec]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]
