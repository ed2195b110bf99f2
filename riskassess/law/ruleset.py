"""Rule sets, COI registries and the editions catalog: models, loading and checks.

Everything legal lives in `rules/` as YAML (see docs/rules-format.md):

    rules/editions.yaml          every known edition of the guidance, encoded or not, with
                                 the profile each encodes and the vocabulary folder
    rules/<country>/             the vocabulary: facts.yaml, questions.yaml (vocabulary.py)
    rules/<edition-id>/edition.yaml   the edition: dates, headings, codes, rule files
    rules/<edition-id>/coi.yaml       sources and the paragraphs the rules cite
    rules/<edition-id>/<question>.yaml   the rules answering one question

Loading checks what can be checked without evaluating a case: schema (unknown keys,
wrong types), cited paragraphs exist, conditions name facts the vocabulary declares and
values it lists, outcomes and lists belong to the vocabulary's questions, codes are
documented.
Problems are reported as FILE:LINE:COLUMN: key.path: problem, all in one pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from riskassess.errors import Problem, RuleSetError
from riskassess.io.reader import Document, read_yaml_file
from riskassess.law.conditions import Condition, ConditionCompiler
from riskassess.law.editions import DATE_SEVERITY, DATE_WARNING_CODES
from riskassess.law.located import validate
from riskassess.law.report import Basis, question_model
from riskassess.law.shipped import candidates, shipped_examples_dir, shipped_rules_dir
from riskassess.law.vocabulary import Vocabulary, load_vocabulary
from riskassess.words import one_of

# ----------------------------------------------------------------- where rules live


def default_rules_dir() -> Path:
    """The shipped rules: inside the installed package, or at the top of a checkout."""
    found = shipped_rules_dir()
    if found is None:
        raise RuleSetError("the shipped rule sets were not found (looked in "
                           + " and ".join(str(c) for c in candidates("rules")) + ")")
    return found


def default_examples_dir() -> Path:
    found = shipped_examples_dir()
    if found is None:
        raise RuleSetError("the shipped examples were not found")
    return found


# ------------------------------------------------------------------------ models


def _date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("expected a date as YYYY-MM-DD") from None
    return value


Date = Annotated[dt.date, BeforeValidator(_date)]
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Dated(_Strict):
    """An edition's identity and dates; shared by the catalog and edition.yaml, which must
    agree on them (checked in `ruleset_for`)."""

    id: Id
    title: str
    in_force_from: Date
    under_review_from: Date | None = None
    superseded_on: Date | None = None
    successor: Id | None = None


DATE_FIELDS = ("in_force_from", "under_review_from", "superseded_on", "successor")


class CatalogEdition(_Dated):
    """One edition of the guidance as known to the catalog (encoded or not), for one
    profile: two entries may be in force on the same day if their profiles differ."""

    profile: Id
    publisher: str
    published: str
    encoded: bool
    url: str
    review_note: str | None = None
    note: str | None = None
    # where the date and the address were read (public pages), one line each
    sources: list[str] = []


class Catalog(_Strict):
    format: Literal[1]
    country: str = Field(pattern=r"^[A-Z]{2}$")
    # the vocabulary folder (facts.yaml, questions.yaml) case files are read with
    vocabulary: str
    profiles: dict[Id, str]  # profile id -> what it covers
    editions: list[CatalogEdition]


class Question(_Strict):
    id: str
    heading: str
    if_undetermined: str | None = None  # outcome to report when facts leave it open
    if_undetermined_reason: str | None = None


class Edition(_Dated):
    """edition.yaml: the identity, dates and vocabulary of one encoded edition."""

    format: Literal[1]
    country: str = Field(pattern=r"^[A-Z]{2}$")
    vocabulary: str  # the vocabulary folder, relative to this edition's folder
    profile: str
    guidance_source: Id
    review_cites: list[Id] = []  # paragraphs cited by the guidance_under_review warning
    # Parts of the guidance that were not available when the rules were written: listed so
    # that a reader knows what the rule set could not encode (documentation only).
    not_at_hand: list[str] = []
    questions: list[Question]
    codes: dict[str, dict[str, str]]
    # The rule set's own warnings that a document's header puts first, most severe first
    # (after the warnings on the edition's dates, before the country scope's).
    warning_order: list[str] = []
    rule_files: list[str]


class Source(_Strict):
    id: Id
    short: str  # a short label for the terminal, e.g. "EUAA CG Syria 2024"
    title: str
    author: str
    date: str
    kind: str
    # what its paragraphs are, unless a paragraph says otherwise (default: guidance for a
    # source of kind guidance, otherwise country information)
    basis: Basis | None = None
    url: str | None = None
    seed_file: str | None = None
    note: str | None = None
    # when the text was read, and which part of it was at hand (a web source must say, since
    # a page may have been read only in part): the bibliography prints both
    consulted: str
    at_hand: str | None = None

    @model_validator(mode="after")
    def _web_source_says_what_was_at_hand(self) -> Source:
        if self.url and not self.at_hand:
            raise ValueError("a source with a url must say which part of it was at hand "
                             "(at_hand)")
        return self


class Cite(_Strict):
    """One EUAA report cited inside a bracket of the guidance, e.g. Targeting 2022 at 2.7, p. 46."""

    doc: str
    at: str


class Paragraph(_Strict):
    id: Id
    source: Id
    section: str
    gist: str = Field(max_length=120)  # the one-line summary shown in the terminal
    position: str  # where in the section, e.g. "4.2.3, COI summary, para. 4"
    # The guidance's bracketed references closing the paragraph, in order; each bracket
    # lists the reports it cites. Printed exactly as the guidance prints them.
    brackets: list[list[Cite]] = []
    footnote: str | None = None
    facts: list[str] = []
    summary: str
    basis: Basis | None = None  # default: its source's (see Source.basis)

    @property
    def references(self) -> list[str]:
        """The brackets as printed, e.g. "[Targeting 2022, 2.7, p. 46]"; several reports in
        one bracket are joined by "; "."""
        return ["[" + "; ".join(f"{c.doc}, {c.at}" for c in bracket) + "]"
                for bracket in self.brackets]

    @property
    def locator(self) -> str:
        return " ".join([self.position, *self.references])

    @property
    def labels(self) -> list[str]:
        """The report labels its brackets use, each once, in order of first use."""
        return list(dict.fromkeys(c.doc for bracket in self.brackets for c in bracket))


class CoiRegistry(_Strict):
    format: Literal[1]
    sources: list[Source]
    paragraphs: list[Paragraph]


class Quote(_Strict):
    """The guidance's operative words a rule restates, quoted beside its own paraphrase: at
    most eleven words (the project never copies a source's sentence), from one paragraph
    the rule cites."""

    text: str
    cite: Id


class Rule(_Strict):
    id: Id
    when: Any
    outcome: str | None = None
    adds: dict[str, list[Any]] = {}
    warns: str | None = None
    # outcome rules only: rules of the same question that this one overrides where both apply
    # (it must come before them in the file, since the first applicable rule decides)
    prevails_over: list[Id] = []
    reasoning: str
    cites: list[Id]
    quote: Quote | None = None


class RuleFile(_Strict):
    format: Literal[1]
    question: str
    rules: list[Rule]


# -------------------------------------------------------------- loaded rule set


@dataclass(frozen=True, eq=False)  # identity: rules are compared and hashed by object
class CompiledRule:
    id: str
    question: str
    kind: Literal["outcome", "adds", "warns"]
    condition: Condition
    outcome: str | None
    adds: dict[str, tuple[Any, ...]]
    warns: str | None
    reasoning: str
    cites: tuple[str, ...]
    file: str
    line: int | None
    column: int | None = None
    prevails_over: tuple[str, ...] = ()
    quote: Quote | None = None


@dataclass(frozen=True)
class QuestionSpec:
    id: str
    heading: str
    outcomes: tuple[str, ...]  # possible decided outcomes (contract vocabulary, no undetermined)
    collections: tuple[str, ...]  # list-valued keys of this question in the report
    if_undetermined: str | None
    if_undetermined_reason: str | None
    outcome_rules: tuple[CompiledRule, ...]
    other_rules: tuple[CompiledRule, ...]  # adds / warns
    outcome_reads: tuple[str, ...] = ()  # every variable its outcome rules read, sorted


@dataclass(frozen=True, eq=False)  # identity: a loaded rule set can key caches
class RuleSet:
    """One encoded edition, loaded, checked and compiled."""

    edition: Edition
    coi: CoiRegistry
    questions: tuple[QuestionSpec, ...]
    rules: dict[str, CompiledRule]
    paragraphs: dict[str, Paragraph]
    sources: dict[str, Source]
    sha256: str
    directory: Path
    vocabulary: Vocabulary
    files: tuple[str, ...] = field(default=())
    # each file read (its path as read) -> the sha256 of its bytes; with the vocabulary's,
    # exactly the files of the rule set (what the compiled cache checks, assess/cache.py)
    digests: dict[str, str] = field(default_factory=dict)
    # per date fact, the sorted dates its conditions compare with
    thresholds: dict[str, tuple[dt.date, ...]] = field(default_factory=dict)
    # where things are written: rule id, paragraph id, question id or "codes.COLL.CODE"
    # -> (file, line, column); used by `rules check` to locate its findings
    locations: dict[str, tuple[str, int | None, int | None]] = field(default_factory=dict)
    # what is built once per loaded rule set: its compiled program (engine/compiled.py) and the
    # words of its text report (render/layout.py)
    cache: dict = field(default_factory=dict, repr=False)

    def basis(self, pid: str) -> str:
        """What a paragraph is: its own `basis`, else its source's, else guidance for a
        source of kind guidance and country information for any other."""
        p = self.paragraphs[pid]
        s = self.sources[p.source]
        return p.basis or s.basis or ("guidance" if s.kind == "guidance" else
                                      "country_information")

    @property
    def bracket_sources(self) -> dict[str, Source]:
        """Each label of the guidance's brackets -> the source whose `short` it is."""
        return {s.short: s for s in self.sources.values()}

    @property
    def id(self) -> str:
        return self.edition.id


# ------------------------------------------------------------------ loading


def load_catalog(rules_dir: Path) -> tuple[Catalog, Document]:
    doc = read_yaml_file(rules_dir / "editions.yaml", error=RuleSetError)
    catalog, problems = validate(Catalog, doc)
    if catalog is not None:
        problems += _catalog_problems(catalog, doc, rules_dir)
    if problems:
        raise RuleSetError(problems)
    return catalog, doc


def catalog_vocabulary(rules_dir: Path) -> Vocabulary:
    """The vocabulary the catalog of `rules_dir` names: the one case files are read with."""
    catalog, _ = load_catalog(rules_dir)
    return load_vocabulary(rules_dir / catalog.vocabulary)


def shipped_vocabulary() -> Vocabulary:
    """The vocabulary of the shipped rules (the one their editions catalog names)."""
    return catalog_vocabulary(default_rules_dir())


def _catalog_problems(catalog: Catalog, doc: Document, rules_dir: Path) -> list[Problem]:
    problems = []
    if not (rules_dir / catalog.vocabulary / "facts.yaml").is_file():
        problems.append(doc.problem(("vocabulary",), f"'{catalog.vocabulary}' is not a "
                                    "folder holding facts.yaml and questions.yaml"))
    else:
        try:
            vocab = load_vocabulary(rules_dir / catalog.vocabulary)
        except RuleSetError as exc:
            problems += exc.problems
        else:
            if vocab.country != catalog.country:
                problems.append(doc.problem(("country",), f"'{catalog.country}' is not the "
                                            f"country of the vocabulary ({vocab.country})"))
    ids = [e.id for e in catalog.editions]
    last: dict[str, CatalogEdition] = {}  # per profile, the edition listed before
    for i, e in enumerate(catalog.editions):
        here = ("editions", i)
        if ids.count(e.id) > 1 and ids.index(e.id) != i:
            problems.append(doc.problem(here + ("id",), f"edition id '{e.id}' is listed twice"))
        if e.profile not in catalog.profiles:
            problems.append(doc.problem(here + ("profile",), f"'{e.profile}' is not a profile "
                                        f"(allowed: {', '.join(catalog.profiles)})"))
        if e.under_review_from and e.under_review_from < e.in_force_from:
            problems.append(doc.problem(here + ("under_review_from",),
                                        "is before in_force_from"))
        if e.superseded_on and e.superseded_on <= e.in_force_from:
            problems.append(doc.problem(here + ("superseded_on",), "is not after in_force_from"))
        if e.successor and e.successor not in ids:
            problems.append(doc.problem(here + ("successor",),
                                        f"'{e.successor}' is not an edition in this catalog"))
        if e.encoded and not (rules_dir / e.id / "edition.yaml").is_file():
            problems.append(doc.problem(here + ("encoded",),
                                        f"marked encoded but {e.id}/edition.yaml does not exist"))
        before = last.get(e.profile)
        if before is not None and before.in_force_from >= e.in_force_from:
            problems.append(doc.problem(here + ("in_force_from",),
                                        "editions must be listed in date order"))
        if before is not None and before.superseded_on not in (None, e.in_force_from):
            problems.append(doc.problem(
                here + ("in_force_from",),
                "does not match the superseded_on date of the edition before it"))
        last[e.profile] = e
    return problems


def _contract(vocab: Vocabulary) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Per question of the vocabulary: (decided outcomes, list-valued keys, with the notes
    every question has)."""
    return {q.id: (q.decided, (*(s.name for s in q.lists), "notes")) for q in vocab.questions}


def _raw_rules(doc: Document) -> list[dict]:
    rules = doc.data.get("rules") if isinstance(doc.data, dict) else None
    return [r if isinstance(r, dict) else {} for r in rules] if isinstance(rules, list) else []


_RULE_PATH = re.compile(r"^rules\[(\d+)\]\.?(.*)$")


def _relabel(problems: list[Problem], docs: list[Document]) -> list[Problem]:
    """Name the rule a problem is in (`risk.officer-rank-circumstance: when.all[1].fact: ...`)
    instead of its index (`rules[6].when.all[1].fact`), as lawyers know rules by id."""
    ids = {doc.file: [r.get("id") for r in _raw_rules(doc)] for doc in docs}
    out = []
    for p in problems:
        m = _RULE_PATH.match(p.path) if p.file in ids else None
        index = int(m.group(1)) if m else -1
        if m and index < len(ids[p.file]) and isinstance(ids[p.file][index], str):
            rid, rest = ids[p.file][index], m.group(2)
            message = f"{rest}: {p.message}" if rest else p.message
            p = Problem(p.file, p.line, p.column, rid, message)
        out.append(p)
    return out


def _item_types(vocab: Vocabulary) -> dict[str, dict[str, Any]]:
    """The pydantic type of one item of each list of each question, from the report model."""
    if "item_types" not in vocab.models:
        from typing import get_args

        from pydantic import TypeAdapter

        vocab.models["item_types"] = {
            q.id: {name: TypeAdapter(get_args(
                question_model(vocab, q.id).model_fields[name].annotation)[0])
                for name in (*(s.name for s in q.lists), "notes")}
            for q in vocab.questions}
    return vocab.models["item_types"]


def _hash_files(files: dict[str, bytes], vocabulary: str = "") -> str:
    """One digest of the rule set's files and its vocabulary's (the law it applies), over
    the bytes the reader read (a file is never read a second time, outside the reader)."""
    h = hashlib.sha256()
    if vocabulary:
        h.update(b"vocabulary\0" + vocabulary.encode())
    for name in sorted(files):
        data = files[name]
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return h.hexdigest()


def rule_set_files(rules_dir: Path, catalog_doc: Document,
                   rulesets: list[RuleSet]) -> dict[str, str]:
    """The files of a rules folder's rule sets, exactly: the catalog, each encoded edition's
    edition.yaml, coi.yaml and rule files, and the vocabulary's two files; each by its path
    relative to the folder -> the sha256 of the bytes read. Nothing else lying in the
    folder is part of it."""
    top = os.path.realpath(rules_dir)
    found = {catalog_doc.file: catalog_doc.sha256}
    for rs in rulesets:
        found.update(rs.digests)
        found.update(rs.vocabulary.digests)
    return {os.path.relpath(same_file(name), top): digest
            for name, digest in sorted(found.items())}


MAX_FOLDERS = 10_000  # entries of a rules folder looked at for edition folders


def edition_folders(rules_dir: Path) -> tuple[str, ...]:
    """The folders of a rules folder that hold an edition.yaml (listed in the catalog or
    not), by name, sorted; looked at without opening anything."""
    try:
        with os.scandir(rules_dir) as listing:
            names = [d.name for _, d in zip(range(MAX_FOLDERS), listing, strict=False)
                     if d.is_dir()]
    except OSError:
        return ()
    return tuple(sorted(n for n in names
                        if os.path.isfile(os.path.join(rules_dir, n, "edition.yaml"))))


def same_file(name: str | Path) -> str:
    """A path with its folder resolved (not the file: a symlink is the name it was read
    by), so that one file is named one way however it was reached."""
    head, tail = os.path.split(os.path.abspath(name))
    return os.path.join(os.path.realpath(head), tail)


def files_digest(files: dict[str, str]) -> str:
    """One digest of a rule-set file map (rule_set_files)."""
    return hashlib.sha256("".join(f"{name}\0{digest}\n" for name, digest
                                  in sorted(files.items())).encode()).hexdigest()


def load_ruleset(directory: Path) -> RuleSet:
    """Load, check and compile one edition folder; all problems in one RuleSetError.

    Compiled once per process and folder state: the cache key includes each YAML file's
    size and modification time, so an edited rule set is never served stale."""
    directory = Path(directory)
    stamp = tuple(sorted(_stamp(p) for p in directory.glob("*.yaml"))) \
        if directory.is_dir() else ()
    vocab_dir = _vocabulary_dir(directory)
    if vocab_dir is not None:
        from riskassess.law.vocabulary import vocabulary_stamp

        stamp += vocabulary_stamp(vocab_dir)
    return _load_ruleset(directory, stamp)


def _stamp(path: Path) -> tuple:
    """A file's cache key; a file that cannot even be stat'ed (a symlink loop, a dangling
    link) gets a key of its own, and the reader then reports why it cannot be read."""
    try:
        st = path.stat()
    except OSError as exc:
        return (path.name, -1, exc.errno or 0)
    return (path.name, st.st_size, st.st_mtime_ns)


def _vocabulary_dir(directory: Path) -> Path | None:
    """The vocabulary folder an edition.yaml names (None if it cannot be read yet)."""
    try:
        data = read_yaml_file(directory / "edition.yaml", error=RuleSetError).data
    except RuleSetError:
        return None
    name = data.get("vocabulary") if isinstance(data, dict) else None
    return (directory / name).resolve() if isinstance(name, str) and \
        (directory / name).is_dir() else None


@lru_cache(maxsize=16)
def _load_ruleset(directory: Path, stamp: tuple) -> RuleSet:
    problems: list[Problem] = []
    edoc = read_yaml_file(directory / "edition.yaml", error=RuleSetError)
    edition, found = validate(Edition, edoc)
    problems += found
    cdoc = read_yaml_file(directory / "coi.yaml", error=RuleSetError)
    coi, found = validate(CoiRegistry, cdoc)
    problems += found
    if edition is None or coi is None:
        raise RuleSetError(problems)
    if not (directory / edition.vocabulary / "facts.yaml").is_file():
        raise RuleSetError(problems + [edoc.problem(
            ("vocabulary",), f"'{edition.vocabulary}' is not a folder holding facts.yaml "
                             "and questions.yaml")])
    vocab = load_vocabulary(directory / edition.vocabulary)
    if edition.country != vocab.country:
        problems.append(edoc.problem(("country",), f"'{edition.country}' is not the country "
                                     f"of the vocabulary ({vocab.country})"))

    sources = {s.id: s for s in coi.sources}
    paragraphs: dict[str, Paragraph] = {}
    for i, p in enumerate(coi.paragraphs):
        if p.id in paragraphs:
            problems.append(cdoc.problem(("paragraphs", i, "id"), f"paragraph id '{p.id}' repeats"))
        if p.source not in sources:
            problems.append(cdoc.problem(("paragraphs", i, "source"),
                                         f"'{p.source}' is not a source of this registry"))
        paragraphs[p.id] = p
    for ci, pid in enumerate(edition.review_cites):
        if pid not in paragraphs:
            problems.append(edoc.problem(("review_cites", ci),
                                         f"'{pid}' is not a paragraph of coi.yaml"))
    if edition.guidance_source not in sources:
        problems.append(edoc.problem(("guidance_source",),
                                     f"'{edition.guidance_source}' is not a source in coi.yaml"))

    contract = _contract(vocab)
    declared = [q.id for q in edition.questions]
    if declared != list(contract):
        problems.append(edoc.problem(("questions",), "the questions must be, in order: "
                                     + ", ".join(contract)))
    known_codes = {name: set(codes) for name, codes in edition.codes.items()}
    for i, code in enumerate(edition.warning_order):
        if code not in known_codes.get("warnings", set()):
            problems.append(edoc.problem(("warning_order", i), f"'{code}' is not a code "
                                                               "listed under codes.warnings"))

    rules_by_q: dict[str, list[CompiledRule]] = {q: [] for q in contract}
    rules: dict[str, CompiledRule] = {}
    files = ["edition.yaml", "coi.yaml"]
    docs_read = {"edition.yaml": edoc, "coi.yaml": cdoc}  # name -> the document read
    order = {q: i for i, q in enumerate(contract)}
    rule_docs = []
    rule_docs_all: list[Document] = []
    listed: dict[str, int] = {}
    for fi, name in enumerate(edition.rule_files):
        if name in listed:  # read once: a second reading would repeat every rule id in it
            problems.append(edoc.problem(("rule_files", fi), f"'{name}' is listed twice "
                                         f"(first as item {listed[name] + 1})"))
            continue
        listed[name] = fi
        if not (directory / name).is_symlink() and not (directory / name).exists():
            problems.append(edoc.problem(("rule_files", fi), f"'{name}' does not exist"))
            continue
        files.append(name)
        # the reader says why a file that is there cannot be read (a loop, a device...)
        rdoc = read_yaml_file(directory / name, error=RuleSetError)
        docs_read[name] = rdoc
        rule_docs_all.append(rdoc)
        rfile, found = validate(RuleFile, rdoc)
        problems += found
        if rfile is not None and rfile.question not in contract:
            problems.append(rdoc.problem(("question",), f"'{rfile.question}': Input should be "
                                         + one_of(list(contract))))
        elif rfile is not None:
            rule_docs.append((rfile, rdoc))
    rule_docs.sort(key=lambda item: order[item[0].question])

    thresholds: dict[str, set[dt.date]] = {}
    for rfile, rdoc in rule_docs:
        qid = rfile.question
        earlier = {q: contract[q][0] for q in contract if order[q] < order[qid]}
        compiler = ConditionCompiler(rdoc, earlier, thresholds, vocab.testable)
        outcomes, collections = contract[qid]
        for i, rule in enumerate(rfile.rules):
            here = ("rules", i)
            cond = compiler.compile(rule.when, here + ("when",))
            kinds = [k for k in ("outcome", "warns") if getattr(rule, k) is not None]
            if rule.adds and not kinds:
                kinds = ["adds"]
            if len(kinds) != 1:
                problems.append(rdoc.problem(here, "a rule concludes exactly one of: outcome "
                                                   "(optionally with adds), adds, warns"))
                continue
            if rule.id in rules:
                first = rules[rule.id]
                problems.append(rdoc.problem(
                    here + ("id",), f"rule id '{rule.id}' repeats "
                                    f"(first in {Path(first.file).name}, line {first.line})"))
            if not rule.id.startswith(qid + "."):
                problems.append(rdoc.problem(here + ("id",),
                                             f"rule ids in this file start with '{qid}.'"))
            if rule.outcome is not None and rule.outcome not in outcomes:
                problems.append(rdoc.problem(here + ("outcome",),
                                             f"'{rule.outcome}' is not an outcome of {qid} "
                                             f"(allowed: {', '.join(outcomes)})"))
            if not rule.cites:
                problems.append(rdoc.problem(here + ("cites",),
                                             "a rule cites at least one paragraph"))
            for ci, pid in enumerate(rule.cites):
                if pid not in paragraphs:
                    problems.append(rdoc.problem(here + ("cites", ci),
                                                 f"'{pid}' is not a paragraph of coi.yaml"))
            for coll, items in rule.adds.items():
                if coll not in collections:
                    problems.append(rdoc.problem(here + ("adds", coll),
                                                 f"'{coll}' is not a list of {qid} in the report "
                                                 f"(allowed: {', '.join(collections)})"))
                    continue
                item_type = _item_types(vocab)[qid][coll]
                for ii, item in enumerate(items):
                    try:
                        item_type.validate_python(item)
                    except ValidationError as exc:
                        problems.append(rdoc.problem(
                            here + ("adds", coll, ii),
                            f"not a valid item of {qid}.{coll}: {exc.errors()[0]['msg']}"))
                        continue
                    code = item if isinstance(item, str) else None
                    if code is not None and coll in known_codes and code not in known_codes[coll]:
                        problems.append(rdoc.problem(here + ("adds", coll, ii),
                                                     f"'{code}' is not a code listed under "
                                                     f"codes.{coll} in edition.yaml"))
            if rule.warns is not None and rule.warns not in known_codes.get("warnings", set()):
                problems.append(rdoc.problem(here + ("warns",), f"'{rule.warns}' is not a code "
                                                                "listed under codes.warnings"))
            line, column = rdoc.position(here)
            if rule.prevails_over and kinds[0] != "outcome":
                problems.append(rdoc.problem(here + ("prevails_over",),
                                             "only an outcome rule can prevail over others"))
            for pi, other in enumerate(rule.prevails_over):
                earlier = [r.id for r in rules_by_q[qid]]
                if other in earlier:
                    problems.append(rdoc.problem(
                        here + ("prevails_over", pi),
                        f"'{other}' comes before this rule, so it would decide first; move "
                        "this rule above it"))
                elif not any(r.get("id") == other for r in _raw_rules(rdoc)):
                    problems.append(rdoc.problem(here + ("prevails_over", pi),
                                                 f"'{other}' is not a rule of {qid}"))
            if rule.quote is not None:
                words = len(rule.quote.text.split())
                if not 1 <= words <= 11:
                    problems.append(rdoc.problem(
                        here + ("quote", "text"), f"a quote is 1 to 11 words of the guidance "
                        f"(this one has {words}): the project never copies a sentence"))
                if rule.quote.cite not in rule.cites:
                    problems.append(rdoc.problem(here + ("quote", "cite"),
                                                 f"'{rule.quote.cite}' is not among the "
                                                 "paragraphs this rule cites"))
                elif rule.quote.cite in paragraphs and \
                        sources[paragraphs[rule.quote.cite].source].kind != "guidance":
                    problems.append(rdoc.problem(here + ("quote", "cite"),
                                                 f"'{rule.quote.cite}' is not a paragraph of the "
                                                 "guidance: quotes are the guidance's words"))
            compiled = CompiledRule(
                id=rule.id, question=qid, kind=kinds[0], condition=cond, outcome=rule.outcome,
                adds={k: tuple(v) for k, v in rule.adds.items()}, warns=rule.warns,
                reasoning=" ".join(rule.reasoning.split()), cites=tuple(rule.cites),
                file=rdoc.file, line=line, column=column,
                prevails_over=tuple(rule.prevails_over),
                quote=rule.quote.model_copy(update={"text": " ".join(rule.quote.text.split())})
                if rule.quote else None)
            rules[rule.id] = compiled
            rules_by_q[qid].append(compiled)
        problems += compiler.problems

    questions = []
    for qi, q in enumerate(edition.questions):
        if q.id not in contract:
            continue
        outcomes, collections = contract[q.id]
        if q.if_undetermined is not None and q.if_undetermined not in outcomes:
            problems.append(edoc.problem(("questions", qi, "if_undetermined"),
                                         f"'{q.if_undetermined}' is not an outcome of {q.id}"))
        qrules = rules_by_q.get(q.id, [])
        if not any(r.kind == "outcome" for r in qrules):
            problems.append(edoc.problem(("questions", qi),
                                         f"no rule decides the outcome of {q.id}"))
        questions.append(QuestionSpec(
            id=q.id, heading=q.heading, outcomes=outcomes, collections=collections,
            if_undetermined=q.if_undetermined,
            if_undetermined_reason=" ".join(q.if_undetermined_reason.split())
            if q.if_undetermined_reason else None,
            outcome_rules=tuple(r for r in qrules if r.kind == "outcome"),
            other_rules=tuple(r for r in qrules if r.kind != "outcome"),
            outcome_reads=tuple(sorted(set().union(
                *(r.condition.variables for r in qrules if r.kind == "outcome"))))))

    problems = _relabel(problems, rule_docs_all)
    if problems:
        raise RuleSetError(problems)
    locations: dict[str, tuple[str, int | None, int | None]] = {}
    for rule in rules.values():
        locations[rule.id] = (rule.file, rule.line, rule.column)
    for i, p in enumerate(coi.paragraphs):
        locations[p.id] = (cdoc.file, *cdoc.position(("paragraphs", i)))
    for rfile, rdoc in rule_docs:
        locations[rfile.question] = (rdoc.file, *rdoc.position(("question",)))
    for coll, codes in edition.codes.items():
        for code in codes:
            locations[f"codes.{coll}.{code}"] = (edoc.file,
                                                 *edoc.position(("codes", coll, code)))
    # A constraint "F must be V when date D is on or after T" cuts D at T wherever a rule
    # reads F, so that the engine can tell the days on which it binds.
    read = set().union(*(r.condition.variables for r in rules.values()))
    for imp in vocab.implications:
        if imp.when_date is not None and imp.fact in read:
            thresholds.setdefault(imp.when_fact, set()).add(imp.when_date)
    return RuleSet(edition=edition, coi=coi, questions=tuple(questions), rules=rules,
                   paragraphs=paragraphs, sources=sources,
                   sha256=_hash_files({n: d.raw for n, d in docs_read.items()}, vocab.sha256),
                   directory=directory, vocabulary=vocab, files=tuple(files),
                   digests={d.file: d.sha256 for d in docs_read.values()},
                   thresholds={k: tuple(sorted(v)) for k, v in sorted(thresholds.items())},
                   locations=locations)


# ------------------------------------------------------------- warnings


def warning_rank(ruleset: RuleSet) -> dict[str, int]:
    """Warning code -> its place in a document's header (lower: more severe). Codes not
    ranked come last, in the report's order."""
    order = [*DATE_SEVERITY, *ruleset.edition.warning_order, ruleset.vocabulary.scope.warning,
             "assessment_date_defaulted"]
    return {code: i for i, code in enumerate(dict.fromkeys(order))}


def top_warning_codes(ruleset: RuleSet) -> tuple[str, ...]:
    """Warnings every format shows at the top: the country scope's, the dates', and those
    the edition ranks in its warning_order (e.g. a rule set encoding only part of a text)."""
    return (ruleset.vocabulary.scope.warning, *DATE_WARNING_CODES,
            *ruleset.edition.warning_order)


def ruleset_for(rules_dir: Path, entry: CatalogEdition) -> RuleSet:
    """Load the encoded edition named by a catalog entry and check the two agree."""
    rs = load_ruleset(rules_dir / entry.id)
    mismatches = [name for name in DATE_FIELDS
                  if getattr(rs.edition, name) != getattr(entry, name)]
    if rs.edition.id != entry.id:
        mismatches.insert(0, "id")
    if mismatches:
        raise RuleSetError(Problem(str(rules_dir / entry.id / "edition.yaml"), None, None, "",
                                   "does not agree with editions.yaml on: "
                                   + ", ".join(mismatches)))
    return rs


__all__ = ["RuleSet", "CompiledRule", "QuestionSpec", "load_ruleset", "load_catalog",
           "ruleset_for", "default_rules_dir"]
