"""The typer application: its command groups, every command registered from the module
of its group (options -> core -> renderer -> exit code; no legal logic), and `main`.

The error boundary is `main`: a user error (bad case file, bad rule set, an edition
not encoded) becomes its located messages on stderr and a documented exit code; an
internal error keeps its traceback (without local variables: case files hold
sensitive personal data) and exits 70.
"""

from __future__ import annotations

import errno
import sys
import traceback
from typing import Annotated

import typer

from riskassess import __version__
from riskassess.cli import compare, evaluate, examples, interview, rules, serve
from riskassess.errors import EXIT_CODE_HELP, ExitCode

app = typer.Typer(
    name="riskassess",
    help=("Assess asylum cases against EUAA country guidance encoded as YAML rules, with "
          "cited reasoning. Decision support, not a decision.\n\n"
          "Example: riskassess evaluate case.yaml"),
    epilog=EXIT_CODE_HELP,
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    # shell completion: `riskassess --install-completion` (or --show-completion for the
    # script); the shell then runs riskassess with _RISKASSESS_COMPLETE set, which the fast
    # path (cli/fast.py) hands here
    add_completion=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)
schema_app = typer.Typer(help="Print the JSON Schema of a file format.", no_args_is_help=True)
rules_app = typer.Typer(help="Browse the editions catalog and the encoded rule sets.",
                        no_args_is_help=True)
coi_app = typer.Typer(help="Read and search the paragraphs the rules cite.",
                      no_args_is_help=True)
examples_app = typer.Typer(help="Teaching scenarios: list, read, run and vary them.",
                           no_args_is_help=True)
app.add_typer(examples_app, name="examples")
app.add_typer(schema_app, name="schema")
app.add_typer(rules_app, name="rules")
app.add_typer(coi_app, name="coi")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"riskassess {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """riskassess: country guidance as testable rules."""


# The commands, each in the module of its group (imported here, so that the modules of
# the commands need not import this one).
app.command(epilog=EXIT_CODE_HELP)(evaluate.evaluate)
app.command(epilog=EXIT_CODE_HELP)(evaluate.explain)
app.command(epilog=EXIT_CODE_HELP)(compare.compare)
schema_app.command("case")(rules.schema_case)
schema_app.command("report")(rules.schema_report)
schema_app.command("outcomes")(rules.schema_outcomes)
rules_app.command("list")(rules.rules_list)
rules_app.command("check", epilog=EXIT_CODE_HELP)(rules.rules_check)
rules_app.command("show")(rules.rules_show)
rules_app.command("coverage")(rules.rules_coverage)
coi_app.command("show")(rules.coi_show)
coi_app.command("search")(rules.coi_search)
examples_app.command("list")(examples.examples_list)
examples_app.command("show")(examples.examples_show)
examples_app.command("run", epilog=EXIT_CODE_HELP)(examples.examples_run)
examples_app.command("vary")(examples.examples_vary)
app.command(epilog=EXIT_CODE_HELP)(examples.train)
app.command(epilog=EXIT_CODE_HELP)(interview.interview)
app.command(epilog=EXIT_CODE_HELP)(serve.serve)


def _after_ctrl_c(exc: BaseException) -> bool:
    """Whether an exit follows a KeyboardInterrupt (its chain of causes holds one)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def main(argv: list[str] | None = None) -> None:
    """Entry point: the one error boundary of the tool.

    typer handles usage errors (exit 2), --help and --version itself; commands return
    normally for success and raise typer.Exit(code) otherwise. Standard output is
    guarded: a failed print (a full disk) is an OutputError, a closed pipe ends quietly;
    it is flushed here, inside the boundary, rather than by the interpreter at exit."""
    from riskassess.cli import streams
    from riskassess.io.writer import stdout_boundary

    streams.prepare()  # a closed standard error, an encoding that cannot show a character
    try:
        with stdout_boundary():
            app(args=argv, prog_name="riskassess")
    except SystemExit as exc:
        if exc.code == 130 and _after_ctrl_c(exc):  # typer ends a Ctrl-C without a word
            from riskassess.stopping import stopped

            stopped(130)
        raise
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG:
            _internal()
        # a path the system refuses outright: the user's to fix, not a bug
        sys.stderr.write(f"error: {exc.filename}: file name too long\n")
        sys.exit(int(ExitCode.USAGE))
    except Exception:
        _internal()
    finally:
        streams.note_escapes()


def _internal() -> None:
    traceback.print_exc()
    sys.stderr.write("riskassess: internal error (a bug). Please report it with the "
                     "traceback above (it holds no local variables).\n")
    sys.exit(int(ExitCode.INTERNAL))

