"""The case file, format 1: strict pydantic models and a located loader.

The keys and values here are the contract of `shared/spec/case-file.md`; saved
case files and other tools depend on them. Any fact may be left out or written as
``unknown``; the two mean the same, and ``unknown`` is a value of its own (never a
guess). The descriptions below are the documentation shown by ``riskassess schema
case`` and reused by other commands, so they are written once, here.

The rule engine does not import these fields by name: it reads the fact catalogue
(`FACTS`), derived from the models, which gives each fact's dotted path and its
possible values. Rule sets name facts by those paths.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from riskassess.errors import CaseFileError, Problem
from riskassess.yamlio import Document, read_yaml_file

UNKNOWN = "unknown"
Unknown = Literal["unknown"]


def _year_to_text(value: Any) -> Any:
    """`desertion_date: 2013` is read as an integer; it means the year 2013."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:04d}" if value >= 0 else str(value)
    return value


_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
YEARS = (1900, 2100)  # dates outside these years are refused as implausible


def parse_partial_date(text: str) -> tuple[int, int | None, int | None]:
    """Parse YYYY, YYYY-MM or YYYY-MM-DD; raise ValueError with a plain-English reason."""
    m = _PARTIAL_DATE.match(text)
    if not m:
        raise ValueError("expected a date as YYYY-MM-DD, YYYY-MM or YYYY")
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValueError(f"year {m.group(1)} is outside {YEARS[0]}-{YEARS[1]}")
    if month is not None and not 1 <= int(month) <= 12:
        raise ValueError(f"month {month} does not exist")
    if day is not None:
        try:
            dt.date(year, int(month), int(day))
        except ValueError:
            raise ValueError(f"day {day} does not exist in {year}-{month}") from None
    return year, int(month) if month else None, int(day) if day else None


def _check_partial_date(value: Any) -> Any:
    value = _year_to_text(value)
    if value == UNKNOWN or not isinstance(value, str):
        return value
    try:
        parse_partial_date(value)
    except ValueError as exc:
        raise PydanticCustomError("partial_date", "{reason}", {"reason": str(exc)}) from None
    return value


def _check_full_date(value: Any) -> Any:
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise PydanticCustomError("full_date", "expected a date as YYYY-MM-DD")
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("full_date", "not a date in the calendar") from None
        if not YEARS[0] <= day.year <= YEARS[1]:
            raise PydanticCustomError("full_date", "the year is outside {lo}-{hi}",
                                      {"lo": YEARS[0], "hi": YEARS[1]})
        return day
    return value


def _digits_to_text(value: Any) -> Any:
    """`case_id: 2024001` is read as an integer; identifiers are text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


PartialDate = Annotated[
    str,
    BeforeValidator(_check_partial_date),
    Field(pattern=r"^(unknown|\d{4}(-\d{2}(-\d{2})?)?)$"),
    # YAML reads a bare year (2013) as a number; the file format accepts it.
    WithJsonSchema({"anyOf": [
        {"type": "string", "pattern": r"^(unknown|\d{4}(-\d{2}(-\d{2})?)?)$"},
        {"type": "integer", "minimum": 1000, "maximum": 9999},
    ]}),
]

ExclusionIndicator = Literal[
    "served_in_unit_implicated_in_serious_crimes",
    "involved_in_detention_or_interrogation",
    "member_of_designated_terrorist_group",
    "senior_command_role",
]


def _no_repeats(value: Any) -> Any:
    """A list fact that names an item twice is refused: merging them would hide a slip."""
    if isinstance(value, list):
        seen = set()
        for item in value:
            if isinstance(item, str) and item in seen:
                raise PydanticCustomError("duplicate_item", "'{item}' is listed twice",
                                          {"item": item})
            seen.add(item)
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Applicant(_Strict):
    """The applicant's profile: what he or she did and what happened since."""

    sex: Literal["male", "female", "unknown"] = Field(
        UNKNOWN, description="The applicant's sex. The profile is drafted for men.")
    military_status: Literal[
        "deserter", "defector", "draft_evader", "never_served", "unknown"] = Field(
        UNKNOWN,
        description=(
            "deserter: was serving (conscript, reservist, volunteer, NCO or officer) and left "
            "his post or unit without permission. defector: a deserter who also joined an armed "
            "group opposing the government. draft_evader: avoided the draft and never served "
            "(another profile of the guidance). never_served: none of these."))
    force: Literal["armed_forces", "police", "security_services", "unknown"] = Field(
        UNKNOWN,
        description=("The force he served in. The guidance's profile concerns military "
                     "service and does not name police or security personnel: whether it "
                     "extends to them is for individual assessment."))
    rank: Literal["conscript", "reservist", "volunteer", "nco", "officer", "unknown"] = Field(
        UNKNOWN, description="The rank or kind of service held when he left.")
    desertion_date: PartialDate = Field(
        UNKNOWN, description="When he left: YYYY-MM-DD, YYYY-MM or YYYY.")
    desertion_type: Literal["internal", "external", "unknown"] = Field(
        UNKNOWN,
        description="How he escaped: internal (within Syria) or external (across the "
                    "border). Whether he left Syria later is a separate matter.")
    fought_against_government: bool | Unknown = Field(
        UNKNOWN, description="Whether he took part in fighting against the government: "
                             "true, false or unknown.")
    reconciliation_status: Literal["none", "settled", "amnesty_surrender", "unknown"] = Field(
        UNKNOWN,
        description=("settled: went through a reconciliation/settlement process with the "
                     "authorities (e.g. Daraa 2018). amnesty_surrender: turned himself in under "
                     "an amnesty decree. none: neither."))
    conscientious_objection: Literal["none", "religious", "moral", "political", "unknown"] = Field(
        UNKNOWN, description="Whether he deserted on grounds of conscience, and of which kind.")
    exclusion_indicators: Annotated[list[ExclusionIndicator] | Unknown,
                                    AfterValidator(_no_repeats)] = Field(
        UNKNOWN,
        description=("Facts that make an exclusion examination (Art. 12 QD) advisable; an empty "
                     "list means none are known to apply, unknown means not yet looked into."))


class Case(_Strict):
    """One applicant's case file, format 1."""

    format: Literal[1] = Field(1, description="The case-file format; 1 is the only one so far.")
    case_id: Annotated[
        str,
        BeforeValidator(_digits_to_text),
        Field(pattern=r"^[A-Za-z0-9._-]{1,64}$"),
        # YAML reads an all-digit reference as a number; the file format accepts it.
        WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,64}$"},
                                  {"type": "integer", "minimum": 0}]}),
    ] | None = Field(None, description="Your reference: 1-64 letters, digits, '.', '_' or '-'.")
    assessment_date: Annotated[dt.date, BeforeValidator(_check_full_date)] | None = Field(
        None,
        description=("The date of the assessment (YYYY-MM-DD); default: today. It selects the "
                     "guidance edition in force."))
    applicant: Applicant = Field(default_factory=Applicant, description="The applicant's profile.")


# --------------------------------------------------------------------------- facts

# Facts that exist only for some values of another fact (the contract's "impossible
# combinations"): when the first is given, the second must be one of the values listed
# (or unknown). Validation refuses files that break this; the engine uses it to skip
# completions of unknown facts that no valid case file could have.
GIVEN_ONLY_IF: dict[str, tuple[str, frozenset[str]]] = {
    "applicant.desertion_type": ("applicant.military_status", frozenset({"deserter", "defector"})),
    "applicant.desertion_date": ("applicant.military_status", frozenset({"deserter", "defector"})),
}


# Date facts that lie in the past of the assessment (validation refuses a later one).
NOT_AFTER_ASSESSMENT = frozenset({"applicant.desertion_date"})


def date_bounds(value: str) -> tuple[dt.date, dt.date]:
    """The earliest and latest day a (partial) date can mean: 2024 -> 2024-01-01..2024-12-31."""
    year, month, day = parse_partial_date(value)
    if day is not None:
        d = dt.date(year, month, day)
        return d, d
    if month is not None:
        last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))
        return dt.date(year, month, 1), last
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def admissible(given: dict[str, Any], completion: dict[str, Any]) -> bool:
    """Whether a completion of unknown facts is possible for a case with these given facts."""
    for fact, (other, allowed) in GIVEN_ONLY_IF.items():
        if given.get(fact, UNKNOWN) != UNKNOWN and completion.get(other, UNKNOWN) not in allowed \
                and completion.get(other, UNKNOWN) != UNKNOWN:
            return False
    return True


@dataclass(frozen=True)
class FactSpec:
    """One fact a rule may test: its dotted path, kind and possible (known) values."""

    path: str
    kind: Literal["enum", "bool", "set", "date"]
    values: tuple[Any, ...]  # for enum/bool: the values; for set: the possible members
    description: str


def _fact_catalogue() -> dict[str, FactSpec]:
    facts: dict[str, FactSpec] = {}
    for name, info in Applicant.model_fields.items():
        path = f"applicant.{name}"
        ann = info.annotation
        while get_origin(ann) is Annotated:
            ann = get_args(ann)[0]
        args = get_args(ann)
        if get_origin(ann) is Literal:
            facts[path] = FactSpec(path, "enum", tuple(a for a in args if a != UNKNOWN),
                                   info.description or "")
        elif get_origin(ann) in (Union, types.UnionType) and bool in args:
            facts[path] = FactSpec(path, "bool", (True, False), info.description or "")
        elif get_origin(ann) in (Union, types.UnionType) and any(
                get_origin(a) is list for a in args):
            member = next(a for a in args if get_origin(a) is list)
            facts[path] = FactSpec(path, "set", get_args(get_args(member)[0]),
                                   info.description or "")
        else:
            facts[path] = FactSpec(path, "date", (), info.description or "")
    return facts


FACTS: dict[str, FactSpec] = _fact_catalogue()


def fact_values(case: Case) -> dict[str, Any]:
    """The case as a flat mapping of fact path -> value ('unknown' or a known value).

    Set facts become frozensets so that rules can test membership."""
    out: dict[str, Any] = {}
    for path in FACTS:
        value = getattr(case.applicant, path.split(".", 1)[1])
        if isinstance(value, list):
            value = frozenset(value)
        out[path] = value
    return out


# --------------------------------------------------------------------------- loading


def load_case(path: Path | str) -> Case:
    """Read and validate a case file; raise CaseFileError with every located problem."""
    doc = read_yaml_file(path, error=CaseFileError)
    return case_from_document(doc)


def case_from_document(doc: Document) -> Case:
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else "a single value"
        raise CaseFileError(doc.merged([doc.problem(
            (), f"the file holds {kind}; a case file is a mapping of keys "
                "(format, case_id, assessment_date, applicant)")]))
    problems = _combination_problems(doc)
    try:
        case = Case.model_validate(doc.data)
    except ValidationError as exc:
        raise CaseFileError(doc.merged(_translate(exc, doc) + problems)) from None
    problems = doc.merged(problems)
    if problems:
        raise CaseFileError(problems)
    return case


def _combination_problems(doc: Document) -> list[Problem]:
    """Facts that are each valid but cannot all be true (checked on the raw data)."""
    problems: list[Problem] = []
    applicant = doc.data.get("applicant")
    if not isinstance(applicant, dict):
        return problems
    for fact, (other, allowed) in GIVEN_ONLY_IF.items():
        key, other_key = fact.split(".", 1)[1], other.split(".", 1)[1]
        value, status = applicant.get(key, UNKNOWN), applicant.get(other_key, UNKNOWN)
        if value not in (UNKNOWN, None) and isinstance(status, str) and status != UNKNOWN \
                and status not in allowed and status in FACTS[other].values:
            problems.append(doc.problem(
                ("applicant", key),
                f"'{_year_to_text(value)}' cannot be given for {other_key} '{status}': "
                f"it applies only to {' or '.join(sorted(allowed))} (allowed: unknown, "
                "or leave it out)"))
    when = _year_to_text(applicant.get("desertion_date"))
    day = doc.data.get("assessment_date")
    if isinstance(when, str) and isinstance(day, str):
        try:
            year, month, dd = parse_partial_date(when)
            assessed = dt.date.fromisoformat(day)
        except ValueError:
            return problems
        earliest = dt.date(year, month or 1, dd or 1)
        if earliest > assessed:
            problems.append(doc.problem(
                ("applicant", "desertion_date"),
                f"'{when}' is after the assessment_date {day}"))
    return problems


def _expected(path: tuple[str | int, ...]) -> str:
    """Plain-English list of what a field accepts, derived from the model."""
    model: Any = Case
    ann: Any = None
    for part in path:
        if isinstance(part, int):  # an item of a list: describe the item type
            lists = [a for a in (get_args(ann) or (ann,)) if get_origin(a) is list]
            ann = get_args(lists[0])[0] if lists else None
            continue
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return ""
        ann = fields[part].annotation
        model = ann
    return _describe(ann) if ann is not None else ""


def _describe(ann: Any) -> str:
    origin = get_origin(ann)
    if origin is Annotated:
        return _describe(get_args(ann)[0])
    if origin is Literal:
        return ", ".join(str(a) for a in get_args(ann))
    if origin in (Union, types.UnionType):
        parts = [_describe(a) for a in get_args(ann) if a is not type(None)]
        return ", ".join(p for p in parts if p)
    if origin is list:
        return "a list of: " + _describe(get_args(ann)[0])
    if ann is bool:
        return "true, false"
    if ann is dt.date:
        return "a date YYYY-MM-DD"
    return ""


def _real_path(loc: tuple[Any, ...], extra: bool) -> tuple[str | int, ...]:
    """Strip pydantic's union-member tags (e.g. 'bool', "literal['unknown']") from a loc."""
    out: list[str | int] = []
    model: Any = Case
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out.append(part)
            continue
        fields = getattr(model, "model_fields", None)
        if fields is not None and part in fields:
            out.append(part)
            ann = fields[part].annotation
            model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        elif extra and i == len(loc) - 1:
            out.append(part)
        # anything else is a union tag or a validator name: not part of the user's path
    return tuple(out)


def _translate(exc: ValidationError, doc: Document) -> list[Problem]:
    """Turn pydantic's errors into located problems, one per offending key."""
    by_path: dict[tuple, list[dict]] = {}
    for err in exc.errors(include_url=False):
        extra = err["type"] == "extra_forbidden"
        path = _real_path(tuple(err["loc"]), extra)
        by_path.setdefault((path, extra), []).append(err)
    # A union such as `list[...] | 'unknown'` fails at the key itself and at the bad item;
    # the item is the useful message, so drop the parent's.
    deeper = {p[:i] for (p, _) in by_path for i in range(len(p))}
    by_path = {k: v for k, v in by_path.items() if k[1] or k[0] not in deeper}
    problems = []
    for (path, extra), errs in by_path.items():
        if extra:
            problems.append(doc.problem(path, _unknown_key_message(path), prefer_key=True))
            continue
        value = errs[0].get("input")
        allowed = _expected(path) or _field_description(path)
        message = _message(errs, value, allowed)
        problems.append(doc.problem(path, message))
    return problems


def _field_description(path: tuple) -> str:
    model: Any = Case
    info = None
    for part in path:
        fields = getattr(model, "model_fields", {})
        if isinstance(part, int) or part not in fields:
            return ""
        info = fields[part]
        model = info.annotation
    return (info.description or "") if info else ""


def _unknown_key_message(path: tuple) -> str:
    parent: Any = Case
    for part in path[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(parent, "model_fields", {})
        ann = fields[part].annotation if part in fields else None
        parent = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        if parent is None:
            break
    known = list(getattr(parent, "model_fields", {})) if parent else []
    key = str(path[-1])
    message = f"unknown key '{key}'"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        message += f"; did you mean '{close[0]}'?"
    if known:
        message += f" (allowed: {', '.join(known)})"
    return message


_YAML11_BOOLEANS = {"yes", "no", "on", "off", "y", "n", "Yes", "No", "On", "Off", "YES", "NO",
                    "ON", "OFF", "Y", "N"}


def _message(errs: list[dict], value: Any, allowed: str) -> str:
    types_ = {e["type"] for e in errs}
    custom = [e for e in errs if e["type"] in ("partial_date", "full_date")]
    if custom:
        return f"'{_show(value)}': {custom[0]['msg']}"
    repeated = [e for e in errs if e["type"] == "duplicate_item"]
    if repeated:
        return f"{repeated[0]['msg']}; name each item once"
    if "missing" in types_:
        return "required"
    if "model_type" in types_ or "model_attributes_type" in types_:
        return f"expected a mapping of keys, got {_kind(value)}"
    if "string_pattern_mismatch" in types_:
        return f"'{_show(value)}' does not have the expected form ({allowed or errs[0]['msg']})"
    if "list_type" in types_ and isinstance(value, (dict,)):
        return f"expected a list or unknown, got a mapping (allowed: {allowed})"
    hint = ""
    if isinstance(value, str) and value in _YAML11_BOOLEANS:
        hint = "; YAML 1.1 words such as yes/no/on/off are not read as true/false"
    if value is None:
        return ("no value given; write a value or 'unknown', or leave the key out "
                f"(allowed: {allowed})")
    shown = f"'{_show(value)}'" if not isinstance(value, (dict, list)) else _kind(value)
    return f"{shown} is not an allowed value{hint} (allowed: {allowed})" if allowed else \
        f"{shown} is not valid ({errs[0]['msg']})"


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"'{_show(value)}'"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


__all__ = ["Applicant", "Case", "FACTS", "FactSpec", "UNKNOWN", "fact_values", "load_case",
           "case_from_document", "parse_partial_date"]
