"""The one table of output formats, and the one way to render one.

Every place that offers or writes a format reads this table: the command line (`--format`,
the `--output` extension, what a batch can write), the fast path (which formats it answers
without the report model), the HTTP service and its form (what can be asked for and
downloaded, with which media type) and the OpenAPI document. Adding a format is an entry
here and its renderer module; nothing else changes (docs/changing.md).

A renderer has one signature: `render_outcome(outcome, options) -> str | bytes` (each
module's; the table names it, and `render` below calls it). `outcome` is an assessed case
(assess.core.Outcome: report, rule set, case, edition choice); `options` says what the
place asking for it knows (the case file's name, the terminal's width and colour, the time
to stamp). Document formats are made from the annotated-reasoning
document (render/document.py), built once per outcome whichever formats ask for it.

Light: no renderer module is imported until a format is rendered.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from riskassess.errors import UsageError
from riskassess.record import record


@record
class Options:
    """What a renderer may need besides the outcome."""

    path: str = ""  # the case file as the command named it (outcomes lines)
    width: int = 100  # columns of the terminal report
    color: bool = False  # colour on a terminal
    generated_at: dt.datetime | None = None  # stamped into documents on request
    full: bool = False  # the terminal report: complete, not the summary
    annex: bool = True  # documents: with the annex of analysis aids


Renderer = Callable[[Any, Options], "str | bytes"]


@record
class OutputFormat:
    name: str
    help: str  # what it is, for `--format`'s help
    extensions: tuple[str, ...]  # the --output extensions that name it (first: a document's)
    media_type: str
    render: str  # "module:function" of its renderer, imported on first use
    binary: bool = False  # bytes, never printed to a terminal: it needs --output FILE
    document: bool = False  # an annotated document: a batch writes one per case into a folder
    batch_line: bool = False  # a batch writes one line (or block) per case in this format
    fast: bool = False  # answered by the cold start's fast path (cli/fast.py)
    served: bool = False  # offered by `riskassess serve` (API format=, form downloads)
    form_button: str = ""  # the form's download button, if it has one

    def renderer(self) -> Renderer:
        module, _, function = self.render.partition(":")
        return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]

    def extension(self) -> str:
        """The extension a file of this format is named with."""
        return self.extensions[0] if self.extensions else f".{self.name}"


FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat("text", "text (terminal)", (), "text/plain; charset=utf-8",
                 "riskassess.render.terminal:render_outcome", batch_line=True, fast=True),
    OutputFormat("json", "json (the report contract)", (".json",), "application/json",
                 "riskassess.render.json:render_outcome", fast=True, served=True),
    OutputFormat("jsonl", "jsonl (a batch: one report per line)", (".jsonl",),
                 "application/jsonl", "riskassess.render.json:render_line", batch_line=True,
                 fast=True),
    OutputFormat("outcomes", "outcomes (one compact JSON line per case: outcomes, lists, "
                 "deciding rules, cites, open questions, warnings; see `schema outcomes`)",
                 (), "application/jsonl", "riskassess.render.json:render_outcomes",
                 batch_line=True, fast=True),
    OutputFormat("markdown", "markdown", (".md", ".markdown"), "text/markdown; charset=utf-8",
                 "riskassess.render.markdown:render_outcome", document=True, served=True,
                 form_button="Markdown"),
    OutputFormat("html", "html", (".html", ".htm"), "text/html; charset=utf-8",
                 "riskassess.render.html:render_outcome", document=True, served=True),
    OutputFormat("docx", "docx", (".docx",),
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 "riskassess.render.docx:render_outcome", binary=True, document=True,
                 served=True, form_button="Word (.docx)"),
    OutputFormat("pdf", "pdf", (".pdf",), "application/pdf",
                 "riskassess.render.pdf:render_outcome", binary=True, document=True,
                 served=True, form_button="PDF"),
)
BY_NAME = {f.name: f for f in FORMATS}

# The names as a str Enum, for typer's --format choices.
Format = Enum("Format", {f.name: f.name for f in FORMATS}, type=str)  # type: ignore[misc]

# The extensions that name a format. Any other (.txt, none) is free: text unless -f says.
EXTENSIONS = {ext: f.name for f in FORMATS for ext in f.extensions}


def get(name: str | Enum) -> OutputFormat:
    return BY_NAME[name.value if isinstance(name, Enum) else name]


def names(which: Callable[[OutputFormat], bool] = lambda f: True) -> list[str]:
    return [f.name for f in FORMATS if which(f)]


def document_names() -> list[str]:
    return names(lambda f: f.document)


def format_help() -> str:
    """`--format`'s help, from the table."""
    plain = ", ".join(f.help for f in FORMATS if not f.document)
    docs = ", ".join(document_names())
    exts = ", ".join(EXTENSIONS)
    return (f"{plain}, or an annotated document: {docs}. Default: the --output "
            f"extension's ({exts}), otherwise text.")


def choose(given: str | None, output: Path | None) -> OutputFormat:
    """The format asked for with -f, else the one the --output extension names, else text.
    A contradiction (-f text -o report.docx) is refused rather than writing a file whose
    name lies about its content."""
    named = EXTENSIONS.get(output.suffix.lower()) if output is not None else None
    if given == "outcomes" and named == "jsonl":
        named = given  # the outcomes lines are JSON lines too
    if given is not None and named is not None and given != named:
        raise UsageError(f"--format {given} contradicts --output {output}, whose "
                         f"extension means {named}; drop --format or change the name")
    return BY_NAME[given or named or "text"]


def render(fmt: OutputFormat, outcome: Any, options: Options = Options()) -> str | bytes:
    """One outcome in one format."""
    return fmt.renderer()(outcome, options)
