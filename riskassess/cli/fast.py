"""The entry point, and the fast path of its most common command.

`riskassess evaluate CASE` with standard output not a terminal (a pipe, a file, a
case-management system calling it) is answered here when it can be, without typer,
pydantic or rich: the compiled rule sets come from the cache (assess/cache.py), the case file
is read by the one YAML reader and the plain reading of the vocabulary, and the report
is joined from bytes. The output is byte-identical to the full path's
(tests/test_fast_path.py). Anything else (another command or option, a terminal, a shell
asking for completions, a case
the plain reading defers, an error of any kind, no cache yet) goes to the full command
line (cli/app.py), which then says what is wrong exactly as it always has, and builds the
cache for next time.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import sys

# Set by a shell asking for completions (typer's; `riskassess --install-completion`): the
# full command line answers, whatever the arguments
COMPLETE_VAR = "_RISKASSESS_COMPLETE"


def main(argv: list[str] | None = None) -> None:
    """Ctrl-C, SIGTERM and SIGHUP stop the tool the same way from here on, whatever it is
    doing (riskassess/stopping.py): said "interrupted", exit 130, 143 or 129. (A Ctrl-C
    in the first moments, while the modules below are still being imported, too.)"""
    try:
        from riskassess.stopping import stop_on_signals

        with stop_on_signals():
            from riskassess.cli import streams

            streams.prepare()  # a closed standard error, an encoding that cannot show one
            try:
                _main(argv)
            finally:
                streams.note_escapes()
    except KeyboardInterrupt:
        from riskassess.stopping import stopped

        stopped(130)


def _main(argv: list[str] | None) -> None:
    from riskassess.stopping import Interrupted, stopped

    args = sys.argv[1:] if argv is None else argv
    plan = data = None
    try:
        if COMPLETE_VAR not in os.environ:
            plan = batch_plan(args)
            data = None if plan is not None else answer(args)
        if data is None and plan is None:
            from riskassess.cli.app import main as full

            full(argv)
            return
    except KeyboardInterrupt:  # before the full command line's own boundary
        stopped(130)
    except Interrupted as exc:
        stopped(exc.exit_code)
    if plan is not None:
        code = run_batch(plan)
        if code:
            sys.exit(code)
        return
    _write(data)


def _parse(args: list[str]) -> dict | None:
    """The options of a plain `evaluate CASE`, or None for anything else (a batch too)."""
    found = _options(args)
    if found is None or len(found["cases"]) != 1 or found["jobs"] is not None:
        return None
    found["case"] = found["cases"][0]
    from riskassess.render.formats import BY_NAME

    fmt = BY_NAME.get(found["format"] or "text")
    if fmt is None or not fmt.fast or fmt.name not in ANSWERS:
        return None
    if found["full"] and fmt.name != "text":
        return None  # the full command line says what --full applies to
    return found


def _options(args: list[str]) -> dict | None:
    """The options of `evaluate CASE...` that the fast path knows, as given; None for
    another command, an option it does not know, or anything the full path would refuse."""
    if len(args) < 2 or args[0] != "evaluate":
        return None
    found: dict = {"cases": [], "format": None, "ruleset": None, "rules_dir": None,
                   "today": None, "jobs": None, "full": False}
    names = {"-f": "format", "--format": "format", "--ruleset": "ruleset",
             "--rules-dir": "rules_dir", "--today": "today", "-j": "jobs", "--jobs": "jobs"}
    rest = iter(args[1:])
    for arg in rest:
        if arg == "--full" and not found["full"]:
            found["full"] = True
        elif arg.startswith("-"):
            if arg[1:2] != "-" and len(arg) > 2:  # a short option with its value: `-j2`
                name, eq, value = arg[:2], "", arg[2:]  # (click reads `-f=json` as `=json`)
            else:
                name, eq, value = arg.partition("=")
            option = names.get(name)
            if option is None or found[option] is not None:
                return None
            if not eq and not value:
                value = next(rest, None)
                if value is None:
                    return None
            found[option] = value
        else:
            found["cases"].append(arg)
    if "" in found.values() or "" in found["cases"] or not found["cases"]:
        return None  # an empty path or value: the full command line refuses it
    if found["today"] is not None and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
                                                       found["today"]):
        return None
    if found["jobs"] is not None:
        if not re.fullmatch(r"[1-9][0-9]{0,5}", found["jobs"]):
            return None  # typer's to read or refuse (0, -1, +2, 1_0...)
        found["jobs"] = int(found["jobs"])
    return found


def _bundle(rules_dir: str | None):
    """The compiled rule sets of the rules folder (given, else the shipped one), or None."""
    from pathlib import Path

    from riskassess.assess import cache as bundles
    from riskassess.law.shipped import shipped_rules_dir

    folder = Path(rules_dir) if rules_dir else shipped_rules_dir()
    if folder is None:
        return None
    try:
        bundle = bundles.load(folder)
    except OSError:
        return None
    if bundle is None or bundle.several_profiles:
        return None
    return bundle


def answer(args: list[str]) -> str | None:
    """The output of a plain `evaluate CASE`, or None when the full path must answer."""
    opts = _parse(args)
    if opts is None:
        return None
    fmt = opts["format"] or "text"
    if fmt == "text" and _is_tty():
        return None  # colour and the terminal's width: rich's job
    try:
        if not stat.S_ISREG(os.stat(opts["case"]).st_mode):
            return None
        today = dt.date.fromisoformat(opts["today"]) if opts["today"] else dt.date.today()
    except (OSError, ValueError):
        return None
    bundle = _bundle(opts["rules_dir"])
    if bundle is None:
        return None
    from riskassess.errors import CaseFileError, UserError
    from riskassess.io.reader import is_jsonl_name, read_case_document
    from riskassess.law.editions import choose_for_case
    from riskassess.law.plain import UNKNOWN

    if is_jsonl_name(opts["case"]):
        return None  # a caseload, even of one line: a batch's (`batch_plan`)
    try:
        doc = read_case_document(opts["case"], error=CaseFileError)
        plain = bundle.reader(doc)
        if plain is None or plain.values.get(bundle.scope_fact, UNKNOWN) not in (
                UNKNOWN, bundle.country):
            return None
        day, choice = choose_for_case(bundle.catalog, plain.assessment_date, today,
                                      opts["ruleset"], lambda day: None)
    except (UserError, RecursionError, MemoryError):
        return None
    program = bundle.programs.get(choice.entry.id)
    if program is None:
        return None
    done = program.assess(plain.case_id, day, plain.values, choice)
    return ANSWERS[fmt](done, opts, bundle.texts[choice.entry.id])


def _posix(case: str) -> str:
    """The case file as the full path names it (typer gives it a Path)."""
    from pathlib import Path

    return Path(case).as_posix()


def _text(done, opts: dict, words) -> str:
    import json

    from riskassess.render.layout import render

    return render(json.loads(done.json()), words, width=100, full=opts["full"])


# How the fast path writes each format the table marks `fast`, from the compiled bytes;
# the same bytes as the format's renderer (tests/test_fast_path.py).
ANSWERS = {
    "text": _text,
    "json": lambda done, opts, words: done.pretty_json(),
    "jsonl": lambda done, opts, words: done.json().decode() + "\n",
    "outcomes": lambda done, opts, words: done.outcomes_line(_posix(opts["case"])).decode()
    + "\n",
}


def _is_tty() -> bool:
    try:
        return sys.stdout is not None and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _write(data: str) -> None:
    """Print as cli.main prints: a full disk is a located error, a closed pipe ends quietly."""
    from riskassess.io.writer import stdout_boundary

    with stdout_boundary():
        sys.stdout.write(data)


# ------------------------------------------------------------------------ batches


def batch_plan(args: list[str]) -> dict | None:
    """A batch (several case files, or a folder) in a batch-line format (text, jsonl,
    outcomes) to standard output, that the fast path can assess; None for anything else:
    one case (`answer`), an option it does not know (-o, --summary-csv, a document format:
    the full path's), a progress bar to draw, no case file found, no compiled rule sets."""
    opts = _options(args)
    if opts is None or opts["full"]:
        return None  # (--full: the full command line's usage error)
    from pathlib import Path

    from riskassess.assess.files import case_files, is_caseload

    cases = [Path(c) for c in opts["cases"]]
    if len(cases) == 1 and not is_caseload(cases[0]):
        return None  # one case (a .jsonl file is a caseload, even of one line)
    from riskassess.render.formats import BY_NAME

    fmt = BY_NAME.get(opts["format"] or "text")
    if fmt is None or not fmt.batch_line or fmt.document:
        return None
    from riskassess.cli.streams import colour

    if colour(sys.stderr):
        return None  # the full path draws a progress bar there (rich's)
    from riskassess.law.dates import full_date

    try:
        today = full_date(opts["today"]) if opts["today"] else dt.date.today()
    except ValueError:
        return None
    bundle = _bundle(opts["rules_dir"])
    if bundle is None or not bundle.questions:
        return None
    files = case_files(cases)
    if not files:
        return None  # the full path's usage error
    rules_dir = Path(opts["rules_dir"]) if opts["rules_dir"] else None
    return {"files": files, "format": fmt.name, "jobs": opts["jobs"] or os.cpu_count() or 1,
            "assessor": BatchAssessor(bundle, today=today, ruleset_id=opts["ruleset"],
                                      rules_dir=rules_dir)}


def run_batch(plan: dict) -> int:
    """Assess a batch as the full path's `evaluate` does (assess/batch.py: the same lines,
    workers, summary and exit code), with the compiled rule sets; returns the exit code."""
    from riskassess.assess import batch
    from riskassess.io.writer import stdout_boundary

    fmt = plan["format"]
    with stdout_boundary():
        try:
            tally = batch.run(plan["files"], plan["assessor"], fmt=fmt, out=sys.stdout,
                              jobs=plan["jobs"])
        except KeyboardInterrupt:  # as the full path's `_batch`: "interrupted", 130
            import signal

            from riskassess.stopping import Interrupted

            raise Interrupted(signal.SIGINT) from None
        text = batch.summary(tally)
        if fmt == "text":
            sys.stdout.write("\n" + text)
        else:
            sys.stderr.write(text)
        if tally.exit_code:
            sys.exit(tally.exit_code)
    return tally.exit_code


class _Questions:
    """What a batch's tally reads of the vocabulary: its questions, in order."""

    def __init__(self, question_ids: tuple[str, ...]):
        self.question_ids = question_ids


def read_case(path):
    """Read one case file of a batch, as the full path reads it (a `.json` file as JSON,
    any other as YAML). Raises what the full path's reading raises."""
    from riskassess.errors import CaseFileError
    from riskassess.io.reader import read_case_document

    return read_case_document(path, error=CaseFileError)


class BatchAssessor:
    """assess/core.py `Assessor` as a batch uses it (`assess_fast`, `vocabulary`), from
    the compiled rule sets of the cache: no case model, no rule set loaded. A case the plain
    reading defers (or out of the scope) is assessed by the full `Assessor`, made the first
    time one is needed (in this process or a worker), so that its report or its refusal is
    the full path's, word for word."""

    CHOICES_KEPT = 10_000

    def __init__(self, bundle, *, today: dt.date, ruleset_id: str | None, rules_dir):
        self.bundle, self.today, self.ruleset_id = bundle, today, ruleset_id
        self.rules_dir = rules_dir  # as given: None for the shipped rules
        self.vocabulary = _Questions(bundle.questions)
        self.choices: dict = {}
        self.full = None
        self.read = read_case
        # what each case needs, imported once (not at the module's top: the entry point)
        from riskassess.errors import UserError
        from riskassess.law.editions import choose_for_case
        from riskassess.law.plain import UNKNOWN

        self.choose, self.unknown = choose_for_case, UNKNOWN
        self.refused = (UserError, RecursionError, MemoryError)

    def assess_fast(self, path):
        return self.assess_document(self.read(path))  # its errors: the full path's

    def assess_document(self, doc):
        """A case already read (a file's, or a line of a JSONL caseload)."""
        bundle = self.bundle
        unknown = self.unknown
        try:
            plain = bundle.reader(doc)
            if plain is None or plain.values.get(bundle.scope_fact, unknown) not in (
                    unknown, bundle.country):
                plain = None
            else:
                found = self.choices.get(plain.assessment_date)
                if found is None:
                    found = self.choose(bundle.catalog, plain.assessment_date, self.today,
                                        self.ruleset_id, lambda day: None)
                    if len(self.choices) > self.CHOICES_KEPT:
                        self.choices.clear()
                    self.choices[plain.assessment_date] = found
        except self.refused:
            plain = None  # refused: in the full path's words
        program = None if plain is None else bundle.programs.get(found[1].entry.id)
        if program is None:
            return self._full().assess_document(doc)
        day, choice = found
        return program.assess(plain.case_id, day, plain.values, choice)

    def _full(self):
        if self.full is None:
            from riskassess.assess.core import Assessor

            self.full = Assessor(today=self.today, ruleset_id=self.ruleset_id,
                                 rules_dir=self.rules_dir)
        return self.full
