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
    try:
        data = None if COMPLETE_VAR in os.environ else answer(args)
        if data is None:
            from riskassess.cli.app import main as full

            full(argv)
            return
    except KeyboardInterrupt:  # before the full command line's own boundary
        stopped(130)
    except Interrupted as exc:
        stopped(exc.exit_code)
    _write(data)


def _parse(args: list[str]) -> dict | None:
    """The options of a plain `evaluate CASE`, or None for anything else."""
    if len(args) < 2 or args[0] != "evaluate":
        return None
    found: dict = {"case": None, "format": None, "ruleset": None, "rules_dir": None,
                   "today": None, "full": False}
    names = {"-f": "format", "--format": "format", "--ruleset": "ruleset",
             "--rules-dir": "rules_dir", "--today": "today"}
    rest = iter(args[1:])
    for arg in rest:
        if arg == "--full" and not found["full"]:
            found["full"] = True
        elif arg.startswith("-"):
            name, eq, value = arg.partition("=")
            option = names.get(name)
            if option is None or found[option] is not None or (eq and name == "-f"):
                return None
            if not eq:
                value = next(rest, None)
                if value is None:
                    return None
            found[option] = value
        elif found["case"] is None:
            found["case"] = arg
        else:
            return None  # several files: a batch
    if "" in found.values():
        return None  # an empty path or value: the full command line refuses it
    from riskassess.render.formats import BY_NAME

    fmt = BY_NAME.get(found["format"] or "text")
    if found["case"] is None or fmt is None or not fmt.fast or fmt.name not in ANSWERS:
        return None
    if found["full"] and fmt.name != "text":
        return None  # the full command line says what --full applies to
    if found["today"] is not None and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
                                                       found["today"]):
        return None
    return found


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
    from pathlib import Path

    from riskassess.assess import cache as bundles
    from riskassess.law.shipped import shipped_rules_dir

    rules_dir = Path(opts["rules_dir"]) if opts["rules_dir"] else shipped_rules_dir()
    if rules_dir is None:
        return None
    try:
        bundle = bundles.load(rules_dir)
    except OSError:
        return None
    if bundle is None or bundle.several_profiles:
        return None
    from riskassess.errors import CaseFileError, UserError
    from riskassess.io.reader import read_yaml_file
    from riskassess.law.editions import choose_for_case
    from riskassess.law.plain import UNKNOWN

    try:
        doc = read_yaml_file(opts["case"], error=CaseFileError)
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
