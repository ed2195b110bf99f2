"""The case file, format 1: strict pydantic models built from a vocabulary, and a located loader.

The envelope (format, case_id, assessment_date) is fixed here; the facts are not. A
vocabulary folder (e.g. ``rules/syria/facts.yaml``) declares each fact's dotted path,
kind, values and description, and `build_case_model` turns it into a pydantic model
(``create_model``), cached with the vocabulary. Any fact may be left out or written as
``unknown``; the two mean the same, and ``unknown`` is a value of its own (never a
guess). The keys and values of the shipped vocabulary are the contract of
`shared/spec/case-file.md`; saved case files and other tools depend on them.

The rule engine does not know the facts by name either: it reads the vocabulary's fact
catalogue, which gives each fact's dotted path and its possible values.
"""

from __future__ import annotations

import datetime as dt
import re
import types
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
    create_model,
)
from pydantic_core import PydanticCustomError

from riskassess.errors import CaseFileError, OutOfScopeError, Problem
from riskassess.io.reader import Document, read_case_document
from riskassess.law import plain
from riskassess.law.dates import (
    PARTIAL_DATE_PATTERN,
    UNKNOWN,
    full_date,
    parse_partial_date,
    year_to_text,
)
from riskassess.law.plain import CASE_ID_PATTERN, COUNTRY_PATTERN
from riskassess.textcheck import ascii_look_alike, odd_characters
from riskassess.words import (
    CASE_ID_FORM,
    COUNTRY_FORM,
    did_you_mean,
    echoed,
    kind_of,
    not_allowed,
    spelt,
)

Unknown = Literal["unknown"]


def _check_partial_date(value: Any) -> Any:
    value = year_to_text(value)
    if value == UNKNOWN or not isinstance(value, str):
        return value
    try:
        parse_partial_date(value)
    except ValueError as exc:
        raise PydanticCustomError("partial_date", "{reason}", {"reason": str(exc)}) from None
    return value


def _check_full_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return full_date(value)
        except ValueError as exc:  # the same words as a desertion date's
            raise PydanticCustomError("full_date", "{reason}", {"reason": str(exc)}) from None
    if isinstance(value, (int, float)):  # 2024, 2024.06, true: not a date either
        raise PydanticCustomError("full_date", "expected a date as YYYY-MM-DD")
    return value


def _whole_number(value: Any) -> Any:
    """`format: true` or `format: 1.0` equal 1 in Python, but are not what the file means."""
    if isinstance(value, (bool, float)):
        raise PydanticCustomError("whole_number", "expected the whole number 1, got '{v}'",
                                  {"v": str(value).lower()})
    return value


def _digits_to_text(value: Any) -> Any:
    """`case_id: 2024001` is read as an integer; identifiers are text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


PartialDate = Annotated[
    str,
    BeforeValidator(_check_partial_date),
    Field(pattern=PARTIAL_DATE_PATTERN),
    # YAML reads a bare year (2013) as a number; the file format accepts it.
    WithJsonSchema({"anyOf": [
        {"type": "string", "pattern": PARTIAL_DATE_PATTERN},
        {"type": "integer", "minimum": 1000, "maximum": 9999},
    ]}),
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


CaseId = Annotated[
    str,
    BeforeValidator(_digits_to_text),
    Field(pattern=CASE_ID_PATTERN),
    # YAML reads an all-digit reference as a number; the file format accepts it.
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": CASE_ID_PATTERN},
                              {"type": "integer", "minimum": 0}]}),
]

CountryCode = Annotated[
    str,
    Field(pattern=COUNTRY_PATTERN,
          description="ISO 3166-1 alpha-2: two capital letters, e.g. SY."),
]

# The model registry: which vocabulary built a case model (so that a case carries its
# vocabulary without a field of its own).
_VOCABULARY_OF: dict[type, Any] = {}


class Case(_Strict):
    """One applicant's case file, format 1: the base of every case model.

    The envelope (format, case_id, assessment_date) is the machinery's; the groups of
    facts (e.g. ``applicant``) are added by `build_case_model` from a vocabulary."""

    format: Annotated[Literal[1], BeforeValidator(_whole_number)] = Field(
        1, description="The case-file format; 1 is the only one so far.")
    case_id: CaseId | None = Field(
        None, description="Your reference: 1-64 letters, digits, '.', '_' or '-'.")
    assessment_date: Annotated[dt.date, BeforeValidator(_check_full_date)] | None = Field(
        None,
        description=("The date of the assessment (YYYY-MM-DD); default: today. It selects the "
                     "guidance edition in force."))


def _annotation(spec: Any) -> Any:
    """The pydantic type of one fact, from its kind and values."""
    if spec.kind == "enum":
        return Literal[(*spec.values, UNKNOWN)]  # type: ignore[valid-type]
    if spec.kind == "bool":
        return bool | Unknown
    if spec.kind == "set":
        member = Literal[spec.values]  # type: ignore[valid-type]
        return Annotated[list[member] | Unknown, AfterValidator(_no_repeats)]  # type: ignore
    if spec.kind == "date":
        return PartialDate
    if spec.kind == "country":
        return CountryCode
    return str


def build_case_model(vocab: Any) -> type[Case]:
    """The case model of a vocabulary: the envelope plus one sub-model per group of facts,
    each fact a field defaulting to unknown, in the vocabulary's order."""
    fields: dict[str, Any] = {}
    for group in vocab.groups:
        # the meaning of each value goes into the JSON Schema as "x-meanings"
        members = {spec.key: (_annotation(spec), Field(
            UNKNOWN, description=spec.description,
            json_schema_extra={"x-meanings": spec.meanings} if spec.meanings else None))
            for spec in vocab.facts.values() if spec.group == group.key}
        model = create_model(group.title, __base__=_Strict, __doc__=group.description,
                             **members)
        fields[group.key] = (model, Field(default_factory=model,
                                          description=group.field_description))
    case = create_model("Case", __base__=Case, __doc__="One applicant's case file, format 1.",
                        **fields)
    _VOCABULARY_OF[case] = vocab
    return case


def case_model(vocab: Any) -> type[Case]:
    """The case model of a vocabulary, built once and kept with it."""
    found = vocab.models.get("case")
    if found is None:
        found = vocab.models["case"] = build_case_model(vocab)
    return found  # type: ignore[no-any-return]


def group_model(vocab: Any, key: str) -> type[BaseModel]:
    """The model of one group of facts (e.g. `applicant`) of a vocabulary's case files."""
    return case_model(vocab).model_fields[key].annotation  # type: ignore[return-value]


def check_scope(case: Case) -> None:
    """Refuse (exit 7) a case whose country of origin the vocabulary does not concern."""
    vocab = vocabulary_of(case)
    given = fact_values(case).get(vocab.scope.fact, UNKNOWN)
    if given not in (UNKNOWN, vocab.country):
        raise OutOfScopeError(
            f"{vocab.scope.fact} is '{given}', but the guidance encoded here concerns "
            f"applicants from {vocab.country_name} ({vocab.country}) only; this case cannot "
            "be assessed under it")


def vocabulary_of(case: Case | type[Case]) -> Any:
    """The vocabulary a case (or case model) was built from."""
    return _VOCABULARY_OF[case if isinstance(case, type) else type(case)]


def fact_values(case: Case) -> dict[str, Any]:
    """The case as a flat mapping of fact path -> value ('unknown' or a known value).

    Set facts become frozensets so that rules can test membership."""
    out: dict[str, Any] = {}
    for path, group, key in vocabulary_of(case).places:
        value = getattr(getattr(case, group), key)
        if isinstance(value, list):
            value = frozenset(value)
        out[path] = value
    return out


def given_facts(case: Case) -> list[tuple[str, Any]]:
    """(path, value) of every fact of a case, in the vocabulary's order (unknown included)."""
    return [(path, getattr(getattr(case, group), key))
            for path, group, key in vocabulary_of(case).places]


def with_facts(case: Case, changes: dict[str, Any]) -> Case:
    """A copy of a case with some facts (by path) changed, validated by its model."""
    data = case.model_dump()
    for path, value in changes.items():
        group, key = path.split(".", 1)
        data[group][key] = value
    return type(case).model_validate(data)


def case_from_answers(vocab: Any, answers: dict[str, Any], *, source: str = "answers",
                      **envelope: Any) -> Case:
    """A case from answers keyed by fact key (keys are unique across groups), checked as a
    case file is checked: a CaseFileError carries the problems in a refused case file's
    words, the facts that cannot all be true together included. The envelope's values are
    written as a file writes them (a date as YYYY-MM-DD), and left out when None."""
    data: dict[str, Any] = {k: v.isoformat() if isinstance(v, dt.date) else v
                            for k, v in envelope.items() if v is not None}
    data.update({g.key: {} for g in vocab.groups})
    for key, value in answers.items():
        spec = vocab.by_key(key)
        data[spec.group if spec else vocab.groups[0].key][key] = value
    return case_from_document(Document(source, data), vocab, typed=True)


# --------------------------------------------------------------------------- loading


def load_case(path: Path | str, vocab: Any) -> Case:
    """Read and validate a case file with a vocabulary; raise CaseFileError with every
    located problem."""
    doc = read_case_document(path, error=CaseFileError)
    return case_from_document(doc, vocab)


def case_from_document(doc: Document, vocab: Any, *, typed: bool = False) -> Case:
    """A case file already read, validated with a vocabulary's case model. `typed`: the
    values were typed at a prompt, not written in YAML, so a refusal gives no hint on how
    YAML reads a word (quotes, yes and no)."""
    model = case_model(vocab)
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else "a single value"
        raise CaseFileError(doc.merged([doc.problem(
            (), f"the file holds {kind}; a case file is a mapping of keys "
                f"({', '.join(model.model_fields)})")]))
    problems = _combination_problems(doc, vocab)
    try:
        case = model.model_validate(doc.data)
    except ValidationError as exc:
        raise CaseFileError(doc.merged(_translate(exc, doc, model, typed) + problems)) \
            from None
    problems = doc.merged(problems)
    if problems:
        raise CaseFileError(problems)
    return case


def _combination_problems(doc: Document, vocab: Any) -> list[Problem]:
    """Facts that are each valid but cannot all be true (checked on the raw data)."""
    problems: list[Problem] = []

    def raw(path: str) -> Any:
        group, key = path.split(".", 1)
        holder = doc.data.get(group)
        return holder.get(key, UNKNOWN) if isinstance(holder, dict) else UNKNOWN

    # Only facts valid in themselves are checked together: a value refused on its own (or
    # one beside it) is reported once, as the cause, never again as a clash it makes
    for fact, (other, allowed) in vocab.given_only_if.items():
        other_key = other.split(".", 1)[1]
        value, status = raw(fact), raw(other)
        if value not in (UNKNOWN, None) and _valid(vocab.facts[fact], value) \
                and isinstance(status, str) and status != UNKNOWN \
                and status not in allowed and status in vocab.facts[other].values:
            problems.append(doc.problem(
                tuple(fact.split(".", 1)),
                f"'{echoed(year_to_text(value))}' cannot be given for {other_key} "
                f"'{status}': it applies only to {' or '.join(sorted(allowed))} (allowed: "
                "unknown, or leave it out)"))
    for imp in vocab.implications:
        value, when = raw(imp.fact), year_to_text(raw(imp.when_fact))
        if _valid(vocab.facts[imp.fact], value) and _valid(vocab.facts[imp.when_fact], when) \
                and imp.broken_by(value, when):
            cond = (f"{imp.when_fact.split('.', 1)[1]} is on or after {imp.when_date}"
                    if imp.when_date is not None
                    else f"{imp.when_fact.split('.', 1)[1]} is '{spelt(imp.when_is)}'")
            problems.append(doc.problem(
                tuple(imp.fact.split(".", 1)),
                f"'{echoed(value)}' cannot be given when {cond}: it must be "
                f"{spelt(imp.value)} (allowed: unknown, or leave it out)"))
    day = doc.data.get("assessment_date")
    for fact in sorted(vocab.not_after_assessment):
        when = year_to_text(raw(fact))
        if isinstance(when, str) and when != UNKNOWN and isinstance(day, str):
            try:
                year, month, dd = parse_partial_date(when)
                assessed = full_date(day)  # a date refused on its own is the only problem
            except ValueError:
                continue
            earliest = dt.date(year, month or 1, dd or 1)
            if earliest > assessed:
                problems.append(doc.problem(
                    tuple(fact.split(".", 1)), f"'{when}' is after the assessment_date {day}"))
    return problems


def _valid(spec: Any, value: Any) -> bool:
    """Whether a fact's raw value is valid on its own (a value of its list, a date that
    exists); unknown and nothing are, as nothing to check."""
    if value in (UNKNOWN, None):
        return True
    if spec.kind == "date":
        try:
            parse_partial_date(year_to_text(value))
        except (ValueError, TypeError):
            return False
        return True
    if spec.values:
        if spec.kind == "set":
            return isinstance(value, list) and all(
                isinstance(v, str) and v in spec.values for v in value)
        return any(value is v or (type(value) is type(v) and value == v)
                   for v in spec.values)
    return True


def _expected(path: tuple[str | int, ...], model: Any) -> str:
    """Plain-English list of what a field accepts, derived from the model."""
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


def _real_path(loc: tuple[Any, ...], extra: bool, model: Any) -> tuple[str | int, ...]:
    """Strip pydantic's union-member tags (e.g. 'bool', "literal['unknown']") from a loc."""
    out: list[str | int] = []
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


def _translate(exc: ValidationError, doc: Document, case_model: Any, typed: bool = False
               ) -> list[Problem]:
    """Turn pydantic's errors into located problems, one per offending key."""
    by_path: dict[tuple, list[dict]] = {}
    for err in exc.errors(include_url=False):
        extra = err["type"] == "extra_forbidden"
        path = _real_path(tuple(err["loc"]), extra, case_model)
        by_path.setdefault((path, extra), []).append(err)
    # A union such as `list[...] | 'unknown'` fails at the key itself and at the bad item;
    # the item is the useful message, so drop the parent's.
    deeper = {p[:i] for (p, _) in by_path for i in range(len(p))}
    by_path = {k: v for k, v in by_path.items() if k[1] or k[0] not in deeper}
    problems = []
    for (path, extra), errs in by_path.items():
        if extra:
            # "did you mean" costs a fuzzy match: a file of thousands of unknown keys is
            # not a case file, and is not worth seconds of suggestions nobody reads
            suggest = len(problems) < _SUGGESTED
            problems.append(doc.problem(path, _unknown_key_message(path, case_model,
                                                                   suggest=suggest),
                                        prefer_key=True))
            continue
        value = errs[0].get("input")
        allowed = _expected(path, case_model) or _field_description(path, case_model)
        message = _message(errs, value, allowed, typed)
        problems.append(doc.problem(path, message))
    return problems


def _field_description(path: tuple, model: Any) -> str:
    info = None
    for part in path:
        fields = getattr(model, "model_fields", {})
        if isinstance(part, int) or part not in fields:
            return ""
        info = fields[part]
        model = info.annotation
    return (info.description or "") if info else ""


_SUGGESTED = 1_000  # "did you mean" for unknown keys among a file's first 1,000 problems


def _unknown_key_message(path: tuple, parent: Any, *, suggest: bool = True) -> str:
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
    message = f"unknown key '{echoed(key)}'"
    odd = odd_characters(key)
    if odd:  # the cause first: a character that is not what it seems
        message += f": {odd}"
    vocab = _VOCABULARY_OF.get(parent) if len(path) == 1 else None
    spec = vocab.by_key(ascii_look_alike(key)) if vocab is not None else None
    if spec is not None:  # a fact written at the top, outside its group
        return (f"{message}; it is a fact of {spec.group}: write it indented under "
                f"'{spec.group}:'")
    # a look-alike or invisible character is matched as the letter it passes for
    hint = did_you_mean(ascii_look_alike(key), known, most=1, cutoff=0.6, quoted=True) \
        if suggest else ""
    if hint:
        return message + hint
    return message + (f" (allowed: {', '.join(known)})" if known else "")


# What a value of a set form must look like (the model's patterns, in words)
_FORMS = {CASE_ID_PATTERN: CASE_ID_FORM, COUNTRY_PATTERN: COUNTRY_FORM}

_YAML11_BOOLEANS = {"yes", "no", "on", "off", "y", "n", "Yes", "No", "On", "Off", "YES", "NO",
                    "ON", "OFF", "Y", "N"}


def _message(errs: list[dict], value: Any, allowed: str, typed: bool = False) -> str:
    """Why a value is refused, and which of its characters are not what they seem (the
    cause, before the list of what is allowed)."""
    odd = odd_characters(value) if isinstance(value, str) else ""
    message = _refusal(errs, value, allowed, typed, odd)
    if odd and odd not in message:
        message += f": {odd}"
    return message


def _unquoted(text: str) -> str | None:
    """The boolean or number YAML reads `text` as when it is written without quotes."""
    if text in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return text.lower()
    if re.fullmatch(r"[-+]?(?:0|[1-9][0-9]*)", text):
        return str(int(text))
    return None


def _refusal(errs: list[dict], value: Any, allowed: str, typed: bool = False,
             odd: str = "") -> str:
    types_ = {e["type"] for e in errs}
    custom = [e for e in errs if e["type"] in ("partial_date", "full_date")]
    if custom:
        return f"'{echoed(value)}': {custom[0]['msg']}"
    repeated = [e for e in errs if e["type"] == "duplicate_item"]
    if repeated:
        return f"{repeated[0]['msg']}; name each item once"
    if "missing" in types_:
        return "required"
    if "model_type" in types_ or "model_attributes_type" in types_:
        return f"expected a mapping of keys, got {kind_of(value)}" + _mapping_hint(value)
    if "string_pattern_mismatch" in types_:
        form = _FORMS.get(errs[0].get("ctx", {}).get("pattern"))
        if form:
            return f"'{echoed(value)}' is not {form}" + (f": {odd}" if odd else "")
        return f"'{echoed(value)}' does not have the expected form ({allowed or errs[0]['msg']})"
    if "list_type" in types_ and isinstance(value, (dict,)):
        return f"expected a list or unknown, got a mapping (allowed: {allowed})"
    word = _unquoted(value) if isinstance(value, str) and not typed else None
    if word is not None and word in allowed.split(", "):
        return (f"'{echoed(value)}' is text here because of the quotes; write {word} without "
                f"quotes (allowed: {allowed})")
    choices = allowed.split(", ")
    hint = f": {odd}" if odd else ""
    if isinstance(value, str) and value in _YAML11_BOOLEANS and not typed \
            and "true" in choices:  # a yes/no fact: say which word is meant
        meant = "true" if value.lower() in ("yes", "on", "y") else "false"
        hint = f"; write {meant} (yes/no/on/off are read as text, not as true/false)"
    elif isinstance(value, str) and not odd:
        hint = did_you_mean(value.lower(), choices, most=1, cutoff=0.75, quoted=True) \
            if value.lower() in choices or len(value) >= 3 else ""
    if value is None:
        also = " or 'unknown'" if UNKNOWN in choices else ""
        return (f"no value given; write a value{also}, or leave the key out "
                f"(allowed: {allowed})")
    shown = f"'{echoed(value)}'" if not isinstance(value, (dict, list)) else kind_of(value)
    return not_allowed(shown, allowed, hint) if allowed else \
        f"{shown} is not valid ({errs[0]['msg']})"


def _mapping_hint(value: Any) -> str:
    """What to do when a group of facts holds a single value instead of its facts."""
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z_]+:\S.*", value):
        return "; write a space after the ':' (key: value)"
    if isinstance(value, str) and " " in value.strip():
        return "; write each fact on a line of its own as 'key: value', indented under it"
    if value is None:
        return ("; write its facts on the lines below it, indented, one 'key: value' "
                "each, or leave the key out")
    return ""




def plain_reader(vocab: Any):
    """The plain reading of case files for a vocabulary (plain.plain_reader: derived from
    the vocabulary and the case model's patterns; a property test shows it accepts and
    refuses exactly what the model does), built once per vocabulary."""
    found = vocab.models.get("plain_reader")
    if found is None:
        found = vocab.models["plain_reader"] = plain.plain_reader(plain.reader_spec(vocab))
    return found
