"""riskassess/record.py against dataclasses: the same declarations behave alike."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from riskassess import record as rec


def pair(frozen: bool = True, order: bool = False):
    """The same class declared as a record and as a dataclass."""
    made = []
    for decorate, fld in ((rec.record(frozen=frozen, order=order), rec.field),
                          (dataclasses.dataclass(frozen=frozen, order=order),
                           dataclasses.field)):
        class Point:
            x: int
            y: int = 0
            tags: tuple = ()
            seen: dict = fld(default_factory=dict)
            note: str = fld(default="", compare=False, repr=False)

            def norm(self) -> int:
                return abs(self.x) + abs(self.y)

        made.append(decorate(Point))
    return made


CALLS = [((1,), {}), ((1, 2), {}), ((1,), {"y": 5}), ((), {"x": 3, "note": "n"}),
         ((1, 2, ("a",), {"k": 1}, "z"), {}), ((1, 2), {"seen": {"a": 1}})]


@pytest.mark.parametrize("args, kwargs", CALLS)
def test_fields_defaults_repr_and_equality_are_a_dataclass_s(args, kwargs):
    mine, theirs = pair()
    a, b = mine(*args, **kwargs), theirs(*args, **kwargs)
    assert repr(a) == repr(b)
    assert vars(a) == vars(b)
    assert a.norm() == b.norm()
    assert a == mine(*args, **kwargs)
    assert a != mine(99) and (a == b) is False  # another class: never equal
    assert rec.replace(a, note="other") == a  # not compared
    assert copy.deepcopy(a) == a and copy.copy(a) == a
    assert rec.replace(a, y=7) != a or a.y == 7
    assert vars(rec.replace(a, y=7)) == vars(dataclasses.replace(b, y=7))


@rec.record
class Kept:
    id: str
    seen: dict = rec.field(default_factory=dict)


def test_a_record_pickles_and_comes_back_equal_and_frozen():
    a = Kept("a", {"k": (1, 2)})
    b = pickle.loads(pickle.dumps(a))
    assert b == a and b is not a and vars(b) == vars(a)
    with pytest.raises(AttributeError):
        b.id = "c"


def test_the_same_mistakes_are_refused():
    mine, theirs = pair()
    for args, kwargs in [((), {}), ((1, 2, 3, 4, 5, 6), {}), ((1,), {"x": 2}),
                         ((1,), {"z": 2})]:
        with pytest.raises(TypeError):
            theirs(*args, **kwargs)
        with pytest.raises(TypeError):
            mine(*args, **kwargs)
    a = mine(1)
    with pytest.raises(AttributeError):
        a.x = 2
    with pytest.raises(AttributeError):
        del a.x
    with pytest.raises(TypeError):
        rec.replace(a, z=1)
    with pytest.raises(TypeError):
        @rec.record
        class Wrong:
            a: int = 1
            b: int


def test_a_frozen_record_hashes_by_its_compared_fields_as_a_dataclass():
    made = []
    for decorate, fld in ((rec.record, rec.field), (dataclasses.dataclass(frozen=True),
                                                    dataclasses.field)):
        class Entry:
            id: str
            day: int = 0
            note: str = fld(default="", compare=False)

        made.append(decorate(Entry))
    mine, theirs = made
    assert hash(mine("a", 2)) == hash(mine("a", 2, "other")) == hash(theirs("a", 2))
    assert len({mine("a"), mine("a"), mine("b")}) == 2


def test_a_default_factory_makes_a_new_value_each_time():
    mine, _ = pair()
    assert mine(1).seen is not mine(1).seen


def test_order_and_mutable_records_are_a_dataclass_s():
    mine, theirs = pair(order=True)
    values = [(3, 1), (1, 2), (1, 1), (2, 0)]
    assert [vars(p) for p in sorted(mine(*v) for v in values)] == \
        [vars(p) for p in sorted(theirs(*v) for v in values)]
    assert mine(1) <= mine(1) < mine(2) and mine(2) >= mine(1) > mine(0)
    with pytest.raises(TypeError):
        _ = mine(1) < theirs(1)
    loose, _ = pair(frozen=False)
    p = loose(1)
    p.x = 5
    assert p == loose(5) and loose.__hash__ is None
