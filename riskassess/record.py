"""Value classes declared by their annotated fields, as `dataclasses.dataclass` declares
them, made without the dataclasses module.

A cold `riskassess evaluate CASE` imports about sixteen such classes (the reader's
Document, a Problem, the editions, the compiled tables' effects...). With dataclasses,
importing the module (it brings inspect, ast and dis) and generating each class's methods
from source took about a third of the cold start; these are made from closures, at once.

    @record                              # frozen, compared and hashed by its fields
    class Point:
        x: int
        y: int = 0
        tags: tuple = ()
        seen: dict = field(default_factory=dict)
        note: str = field(default="", compare=False, repr=False)

`@record(order=True)` adds <, <=, > and >= (by the compared fields, in order);
`@record(frozen=False)` makes a mutable record (compared, not hashable, as a dataclass).
`replace(obj, **changes)` is `dataclasses.replace`. A record is not inherited from.
tests/test_record.py holds these to what dataclasses does for the same declarations.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

_MISSING: Any = object()


class FrozenInstanceError(AttributeError):
    """A field of a frozen record was assigned to (dataclasses' error of the same name)."""


class _Field:
    __slots__ = ("default", "factory", "compare", "repr")

    def __init__(self, default: Any, factory: Any, compare: bool, repr_: bool):
        self.default, self.factory, self.compare, self.repr = default, factory, compare, repr_


def field(*, default: Any = _MISSING, default_factory: Any = _MISSING, compare: bool = True,
          repr: bool = True) -> Any:  # noqa: A002 (dataclasses.field's own name)
    """A field with a default made by `default_factory`, or kept out of comparisons or
    the repr, as `dataclasses.field`."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return _Field(default, default_factory, compare, repr)


def record(cls: type | None = None, /, *, frozen: bool = True, order: bool = False) -> Any:
    """The class decorator (see the module's docstring)."""
    def wrap(c: type) -> type:
        return _make(c, frozen, order)

    return wrap if cls is None else wrap(cls)


def replace(obj: Any, /, **changes: Any) -> Any:
    """A copy of a record with some fields changed (`dataclasses.replace`)."""
    cls = obj.__class__
    names = cls.__record_fields__
    for name in changes:
        if name not in names:
            raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword argument "
                            f"{name!r}")
    new = cls.__new__(cls)
    values = obj.__dict__
    new.__dict__.update({n: changes[n] if n in changes else values[n] for n in names})
    return new


def _make(cls: type, frozen: bool, order: bool) -> type:
    if any(hasattr(base, "__record_fields__") for base in cls.__mro__[1:]):
        raise TypeError(f"{cls.__name__}: a record is not inherited from")
    own = cls.__dict__.get("__annotations__", {})
    names = tuple(n for n, kind in own.items() if not str(kind).startswith("ClassVar"))
    defaults: dict[str, Any] = {}
    factories: dict[str, Any] = {}
    compared: list[str] = []
    shown: list[str] = []
    for name in names:
        spec = cls.__dict__.get(name, _MISSING)
        compare = show = True
        if isinstance(spec, _Field):
            compare, show = spec.compare, spec.repr
            if spec.factory is not _MISSING:
                factories[name] = spec.factory
                delattr(cls, name)
            elif spec.default is not _MISSING:
                defaults[name] = spec.default
                setattr(cls, name, spec.default)
            else:
                delattr(cls, name)
        elif spec is not _MISSING:
            defaults[name] = spec
        if name not in defaults and name not in factories and (defaults or factories):
            raise TypeError(f"non-default argument {name!r} follows default argument")
        if compare:
            compared.append(name)
        if show:
            shown.append(name)
    title = cls.__name__
    count = len(names)
    known = frozenset(names)

    # for a call giving the first n fields by position and no others: how each of the rest
    # is filled (0: its default, 1: its factory's value, 2: missing)
    rest = [tuple((name, 0, defaults[name]) if name in defaults else
                  (name, 1, factories[name]) if name in factories else (name, 2, None)
                  for name in names[n:]) for n in range(count + 1)]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        values = self.__dict__
        given = len(args)
        if not kwargs and given <= count:  # by position only: the common calls
            values.update(zip(names, args, strict=False))
            for name, how, value in rest[given]:
                if how == 0:
                    values[name] = value
                elif how == 1:
                    values[name] = value()
                else:
                    values.clear()
                    raise TypeError(f"{title}.__init__() missing 1 required positional "
                                    f"argument: {name!r}")
            return
        if len(args) > count:
            raise TypeError(f"{title}.__init__() takes {count + 1} positional arguments "
                            f"but {len(args) + 1} were given")
        given = dict(zip(names, args, strict=False))  # (fewer: the rest by name)
        for key, value in kwargs.items():
            if key not in known:
                raise TypeError(f"{title}.__init__() got an unexpected keyword argument "
                                f"{key!r}")
            if key in given:
                raise TypeError(f"{title}.__init__() got multiple values for argument "
                                f"{key!r}")
            given[key] = value
        for name in names:
            if name in given:
                values[name] = given[name]
            elif name in defaults:
                values[name] = defaults[name]
            elif name in factories:
                values[name] = factories[name]()
            else:
                raise TypeError(f"{title}.__init__() missing 1 required positional "
                                f"argument: {name!r}")

    if len(compared) > 1:
        key = attrgetter(*compared)
    elif compared:
        one = attrgetter(compared[0])

        def key(self: Any) -> tuple:
            return (one(self),)
    else:
        def key(self: Any) -> tuple:
            return ()

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    def __repr__(self: Any) -> str:
        return f"{cls.__qualname__}(" + ", ".join(
            f"{n}={getattr(self, n)!r}" for n in shown) + ")"

    methods: dict[str, Any] = {"__init__": __init__, "__eq__": __eq__, "__repr__": __repr__}
    if frozen:
        def __setattr__(self: Any, name: str, value: Any) -> None:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")

        def __delattr__(self: Any, name: str) -> None:
            raise FrozenInstanceError(f"cannot delete field {name!r}")

        def __hash__(self: Any) -> int:
            return hash(key(self))

        methods.update(__setattr__=__setattr__, __delattr__=__delattr__, __hash__=__hash__)
    else:
        methods["__hash__"] = None
    if order:
        def compare_with(test: Any) -> Any:
            def method(self: Any, other: Any) -> Any:
                if other.__class__ is self.__class__:
                    return test(key(self), key(other))
                return NotImplemented
            return method

        methods.update(__lt__=compare_with(lambda a, b: a < b),
                       __le__=compare_with(lambda a, b: a <= b),
                       __gt__=compare_with(lambda a, b: a > b),
                       __ge__=compare_with(lambda a, b: a >= b))
    for name, method in methods.items():
        if method is not None:
            method.__qualname__ = f"{cls.__qualname__}.{name}"
        if name not in cls.__dict__:  # a method the class writes itself is kept
            setattr(cls, name, method)
    cls.__record_fields__ = names  # type: ignore[attr-defined]
    cls.__match_args__ = names  # type: ignore[attr-defined]
    return cls
