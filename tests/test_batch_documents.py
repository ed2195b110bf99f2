"""Batch documents: `evaluate FOLDER -f FORMAT -o OUTDIR/` writes one document per case, each
byte-identical to the single-file command's, atomically, with the single file's safety."""

from __future__ import annotations

import csv
import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import DATA, EXAMPLES, run_cli

from riskassess.errors import ExitCode

TODAY = "2024-09-15"  # for the case without an assessment date
FORMATS = {"docx": ".docx", "html": ".html", "markdown": ".md", "pdf": ".pdf"}
GOOD = ["religious-objector", "draft-evader-2026", "officer-fled-abroad"]


@pytest.fixture
def caseload(tmp_path: Path) -> Path:
    """Three assessable cases (one in a subfolder, one without an assessment date, so that
    --today decides its edition), one invalid, one out of scope, and a note."""
    folder = tmp_path / "caseload"
    (folder / "2026").mkdir(parents=True)
    shutil.copy(EXAMPLES / "religious-objector.yaml", folder / "religious-objector.yaml")
    shutil.copy(EXAMPLES / "draft-evader-2026.yaml", folder / "2026" / "draft-evader-2026.yml")
    text = (EXAMPLES / "officer-fled-abroad.yaml").read_text(encoding="utf-8")
    undated = "".join(line for line in text.splitlines(keepends=True)
                      if not line.startswith("assessment_date:"))
    assert undated != text
    (folder / "officer-fled-abroad.yaml").write_text(undated, encoding="utf-8")
    shutil.copy(DATA / "invalid" / "wrong-value.yaml", folder / "bad-rank.yaml")
    (folder / "elsewhere.yaml").write_text("format: 1\napplicant:\n  country_of_origin: AF\n",
                                           encoding="utf-8")
    (folder / "notes.txt").write_text("not a case file", encoding="utf-8")
    return folder


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def batch(caseload: Path, out: str, fmt: str = "markdown", *more: str):
    return run_cli("evaluate", str(caseload), "-f", fmt, "-o", out, "--today", TODAY, *more)


# ------------------------------------------------------------ one document per case

def test_one_document_per_case_and_refusals_counted(caseload, tmp_path):
    out = tmp_path / "out"
    table = tmp_path / "summary.csv"
    r = batch(caseload, f"{out}/", "markdown", "--summary-csv", str(table))
    # the highest refusal code: 7 (out of scope) over 3 (invalid)
    assert r.code == ExitCode.OUT_OF_SCOPE, r.err
    assert names(out) == sorted(f"{n}.md" for n in GOOD)  # nothing for the refused cases
    lines = r.out.split("\n\nSummary:")[0].splitlines()
    assert len(lines) == 5 and sum("REFUSED" in line for line in lines) == 2
    for name in GOOD:
        line = next(line for line in lines if f"/{name}." in line.split(":")[0])
        assert line.endswith(f" -> {out.as_posix()}/{name}.md")
    assert "Summary: 5 file(s), 3 assessed, 2 refused, 1 skipped" in r.out
    assert f"3 document(s) written in {out.as_posix()}/" in r.out
    assert "bad-rank.yaml (exit 3)" in r.out and "elsewhere.yaml (exit 7)" in r.out
    assert "Traceback" not in r.err
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert len(rows) == 5 and sum(bool(row["refused"]) for row in rows) == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_document_is_the_single_file_commands(fmt, caseload, tmp_path):
    out = tmp_path / "out"
    r = batch(caseload, f"{out}/", fmt)
    assert r.code == ExitCode.OUT_OF_SCOPE, r.err
    ext = FORMATS[fmt]
    assert names(out) == sorted(f"{n}{ext}" for n in GOOD)
    for case in [p for p in caseload.rglob("*.y*ml") if p.stem in GOOD]:
        single = tmp_path / f"single{ext}"
        r = run_cli("evaluate", str(case), "-f", fmt, "-o", str(single), "--force",
                    "--today", TODAY)
        assert r.code == 0, r.err
        assert (out / f"{case.stem}{ext}").read_bytes() == single.read_bytes(), case.name


def test_a_folder_that_exists_and_a_single_case_into_a_folder(caseload, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    r = batch(caseload, str(out), "html")  # an existing folder needs no slash
    assert r.code == ExitCode.OUT_OF_SCOPE, r.err
    assert names(out) == sorted(f"{n}.html" for n in GOOD)
    lone = tmp_path / "lone"
    r = run_cli("evaluate", str(caseload / "religious-objector.yaml"), "-f", "docx",
                "-o", f"{lone}/")
    assert r.code == 0, r.err
    assert names(lone) == ["religious-objector.docx"]


def test_a_symbolic_link_to_a_folder_is_that_folder(caseload, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    r = batch(caseload, str(tmp_path / "link"))
    assert r.code == ExitCode.OUT_OF_SCOPE, r.err
    assert names(real) == sorted(f"{n}.md" for n in GOOD)
    assert (tmp_path / "link").is_symlink()


# ------------------------------------------------------------ what -o must be

def test_without_format_a_folder_output_is_refused(caseload, tmp_path):
    for out in (f"{tmp_path / 'new'}/", str(tmp_path)):
        r = run_cli("evaluate", str(caseload), "-o", out)
        assert r.code == ExitCode.USAGE, r.err
        assert "-f" in r.err and "Traceback" not in r.err
    assert not (tmp_path / "new").exists()


def test_a_new_folder_must_be_written_as_one_and_its_parent_must_exist(caseload, tmp_path):
    r = batch(caseload, str(tmp_path / "out"))
    assert r.code == ExitCode.USAGE and f"{tmp_path / 'out'}/" in r.err
    r = batch(caseload, f"{tmp_path / 'missing' / 'out'}/")
    assert r.code == ExitCode.USAGE and "does not exist" in r.err
    r = run_cli("evaluate", str(caseload), "-f", "docx")
    assert r.code == ExitCode.USAGE and "--output FOLDER/" in r.err
    assert names(tmp_path) == ["caseload"]


def test_a_document_extension_on_a_batch_file_is_not_a_folder(caseload, tmp_path):
    r = run_cli("evaluate", str(caseload), "-o", str(tmp_path / "reports.md"))
    assert r.code == ExitCode.USAGE and "-f markdown -o FOLDER/" in r.err
    assert names(tmp_path) == ["caseload"]


def _link_to_file(path: Path) -> None:
    (path.parent / "mine.md").write_bytes(b"mine")
    path.symlink_to(path.parent / "mine.md")


def _link_to_fifo(path: Path) -> None:
    os.mkfifo(path.parent / "pipe")
    path.symlink_to(path.parent / "pipe")


NOT_FOLDERS = {
    "regular file": (lambda p: p.write_bytes(b"mine"), "is a regular file"),
    "fifo": (os.mkfifo, "is a FIFO"),
    "symlink to a file": (_link_to_file, "is a symbolic link to a regular file"),
    "symlink to a fifo": (_link_to_fifo, "is a symbolic link to a FIFO"),
    "dangling symlink": (lambda p: p.symlink_to(p.parent / "nowhere"),
                         "is a symbolic link to nothing"),
}


@pytest.mark.parametrize("slash", ["", "/"], ids=["", "slash"])
@pytest.mark.parametrize("force", [[], ["--force"]], ids=["", "force"])
@pytest.mark.parametrize("kind", NOT_FOLDERS)
def test_an_output_that_is_not_a_folder_is_refused(kind, force, slash, caseload, tmp_path):
    make, why = NOT_FOLDERS[kind]
    target = tmp_path / "out"
    make(target)
    before = os.lstat(target)
    r = batch(caseload, f"{target}{slash}", "markdown", *force)
    assert r.code == ExitCode.USAGE, r.err
    assert str(target) in r.err and why in r.err and "Traceback" not in r.err
    after = os.lstat(target)
    assert (stat.S_IFMT(after.st_mode), after.st_ino) == (stat.S_IFMT(before.st_mode),
                                                          before.st_ino)
    if kind == "regular file":
        assert target.read_bytes() == b"mine"
    if kind == "symlink to a file":
        assert (tmp_path / "mine.md").read_bytes() == b"mine"
    assert not any(p.name.endswith((".part", ".md")) and p.name != "mine.md"
                   for p in tmp_path.iterdir())


def test_a_device_is_not_a_folder(caseload):
    r = batch(caseload, "/dev/null", "html", "--force")
    assert r.code == ExitCode.USAGE and "/dev/null is a character device" in r.err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


# ------------------------------------------------------------ what is in the folder

def test_an_existing_document_is_kept_without_force(caseload, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "religious-objector.md").write_bytes(b"mine")
    r = batch(caseload, str(out))
    assert r.code == ExitCode.USAGE, r.err
    assert f"{out / 'religious-objector.md'} already exists; pass --force" in r.err
    assert names(out) == ["religious-objector.md"]  # refused before any work: nothing new
    assert (out / "religious-objector.md").read_bytes() == b"mine"
    r = batch(caseload, str(out), "markdown", "--force")
    assert r.code == ExitCode.OUT_OF_SCOPE, r.err
    assert (out / "religious-objector.md").read_bytes().startswith(b"# ")
    assert names(out) == sorted(f"{n}.md" for n in GOOD)


SPECIAL = {
    "fifo": (os.mkfifo, "FIFO"),
    "directory": (os.mkdir, "is a directory"),
    "symlink to a file": (_link_to_file, "is a symbolic link"),
}


@pytest.mark.parametrize("kind", SPECIAL)
def test_only_a_regular_document_is_replaced_even_with_force(kind, caseload, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    make, why = SPECIAL[kind]
    target = out / "officer-fled-abroad.md"
    make(target)
    before = os.lstat(target)
    r = batch(caseload, str(out), "markdown", "--force")
    assert r.code == ExitCode.USAGE, r.err
    assert str(target) in r.err and why in r.err
    after = os.lstat(target)
    assert (stat.S_IFMT(after.st_mode), after.st_ino) == (stat.S_IFMT(before.st_mode),
                                                          before.st_ino)
    assert not any(p.name.endswith(".part") for p in out.iterdir())
    assert len(names(out)) == 1 + (kind == "symlink to a file")


def test_a_case_file_is_never_a_document(tmp_path):
    """A file named on the command line is a case whatever its name: x.md into its own
    folder would be its own document."""
    shutil.copy(EXAMPLES / "religious-objector.yaml", tmp_path / "x.md")
    shutil.copy(EXAMPLES / "never-served.yaml", tmp_path / "other.yaml")
    r = run_cli("evaluate", str(tmp_path / "x.md"), str(tmp_path / "other.yaml"),
                "-f", "markdown", "-o", str(tmp_path), "--force")
    assert r.code == ExitCode.USAGE and f"{tmp_path / 'x.md'} is an input file" in r.err
    assert (tmp_path / "x.md").read_bytes() == (EXAMPLES / "religious-objector.yaml").read_bytes()
    assert names(tmp_path) == ["other.yaml", "x.md"]


@pytest.mark.parametrize("exists", [True, False], ids=["folder exists", "new folder"])
def test_the_summary_csv_is_never_a_document(exists, caseload, tmp_path):
    out = tmp_path / "out"
    if exists:
        out.mkdir()
    r = batch(caseload, f"{out}/", "markdown", "--force", "--summary-csv",
              str(out / "religious-objector.md"))
    assert r.code == ExitCode.USAGE, r.err
    assert "--summary-csv" in r.err and "religious-objector" in r.err
    assert not out.exists() or names(out) == []
    r = batch(caseload, f"{out}/", "markdown", "--summary-csv", str(out))
    assert r.code == ExitCode.USAGE and "same file" in r.err


def test_a_hard_link_of_a_case_is_never_a_document(caseload, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    os.link(caseload / "religious-objector.yaml", out / "officer-fled-abroad.md")
    r = batch(caseload, str(out), "markdown", "--force")
    assert r.code == ExitCode.USAGE and "is an input file" in r.err
    assert (out / "officer-fled-abroad.md").read_bytes() == \
        (EXAMPLES / "religious-objector.yaml").read_bytes()


# ------------------------------------------------------------ two cases, one name

@pytest.mark.parametrize("first, second", [("a/x.yaml", "b/x.yaml"), ("x.yaml", "x.yml"),
                                           ("a/Case.yaml", "b/case.YAML")])
def test_two_cases_of_one_document_name_are_refused_up_front(first, second, tmp_path):
    cases = tmp_path / "cases"
    for i, name in enumerate((first, second)):
        (cases / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXAMPLES / f"{GOOD[i]}.yaml", cases / name)
    out = tmp_path / "out"
    r = run_cli("evaluate", str(cases), "-f", "html", "-o", f"{out}/")
    assert r.code == ExitCode.USAGE, r.err
    assert (cases / first).as_posix() in r.err and (cases / second).as_posix() in r.err
    assert "rename one" in r.err and "Traceback" not in r.err
    assert not out.exists()  # refused before the folder is made


# ------------------------------------------------------------ re-runs and interruptions

@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_documents_in_the_input_folder_are_not_cases_on_a_rerun(fmt, caseload):
    ext = FORMATS[fmt]
    first = batch(caseload, str(caseload), fmt)
    assert first.code == ExitCode.OUT_OF_SCOPE, first.err
    written = {p.name: p.read_bytes() for p in caseload.iterdir() if p.suffix == ext}
    assert sorted(written) == sorted(f"{n}{ext}" for n in GOOD)  # flat: 2026/'s case too
    again = batch(caseload, str(caseload), fmt, "--force")
    assert again.code == ExitCode.OUT_OF_SCOPE, again.err
    # the same five cases; the three documents are skipped, beside notes.txt
    assert "Summary: 5 file(s), 3 assessed, 2 refused, 4 skipped" in again.out
    assert "skipped 4: not named *.yaml, *.yml, *.json or *.jsonl" in again.out
    assert again.out.split("\n\nSummary:")[0] == first.out.split("\n\nSummary:")[0]
    assert {p.name: p.read_bytes() for p in caseload.iterdir() if p.suffix == ext} == written


def test_an_interruption_leaves_only_complete_documents(caseload, tmp_path, monkeypatch):
    out = tmp_path / "out"
    table = tmp_path / "summary.csv"
    real_fsync, calls = os.fsync, []

    def interrupted(fd):  # Ctrl-C while the second document is being written
        calls.append(fd)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", interrupted)
    r = batch(caseload, f"{out}/", "markdown", "--summary-csv", str(table))
    monkeypatch.undo()
    assert r.code == ExitCode.INTERRUPTED and "Traceback" not in r.err
    assert names(out) == ["draft-evader-2026.md"]  # the first in path order: 2026/...
    single = tmp_path / "single.md"
    run_cli("evaluate", str(caseload / "2026" / "draft-evader-2026.yml"), "-o", str(single),
            "--today", TODAY)
    assert (out / "draft-evader-2026.md").read_bytes() == single.read_bytes()
    assert names(tmp_path) == ["caseload", "out", "single.md"]  # no summary, nothing partial


def test_help_says_a_batch_of_documents_goes_into_a_folder():
    r = run_cli("evaluate", "--help")
    text = " ".join(r.out.split())
    assert "FOLDER/" in text and "one document per case" in text


def test_a_failed_write_stops_the_batch_with_exit_6(caseload, tmp_path, monkeypatch):
    out = tmp_path / "out"
    real_replace, calls = os.replace, []

    def full(src, dst, *args, **kwargs):  # the disk fills up at the second document
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, os.strerror(28))
        real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", full)
    r = batch(caseload, f"{out}/", "html")
    monkeypatch.undo()
    assert r.code == ExitCode.CANNOT_WRITE, r.err
    assert f"{out / 'officer-fled-abroad.html'}" in r.err and os.strerror(28) in r.err
    assert "Traceback" not in r.err
    assert names(out) == ["draft-evader-2026.html"]  # complete; nothing partial
