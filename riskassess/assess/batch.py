"""Assessing a caseload: many files, one pass, streamed.

Files are taken in path order (so the output does not depend on the order they were
named in), each is assessed or refused, and its line (a JSON report, or a one-line
summary) is written as it comes, a buffer at a time. Only counts are kept, so memory does
not grow with the number of cases. A refused file is reported and counted; it does not stop
the batch. A broken rule set does: every case would be affected.

A batch of documents (`Documents`) writes each assessed case's document into a folder as
the case is assessed, and prints the text line for it; a case whose document cannot be made
(a DocumentError) is refused and counted like a case file that cannot be read.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import os
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from riskassess import record
from riskassess.errors import (
    DocumentError,
    ExitCode,
    RuleSetError,
    UsageError,
    UserError,
    capped,
)
from riskassess.io.reader import is_jsonl_name
from riskassess.render import formats

if TYPE_CHECKING:  # not imported: the fast path (cli/fast.py) runs batches without the models
    from riskassess.assess.core import Assessor, Outcome

PROBLEMS_SHOWN = 20  # per refused file in the summary; the exit code does not change


def csv_columns(questions: tuple[str, ...]) -> list[str]:
    """The CSV header: one outcome column per question of the vocabulary."""
    return ["path", "case_id", "assessment_date", "ruleset", *questions, "open_questions",
            "warnings", "refused"]


@dataclass
class Tally:
    files: int = 0
    assessed: int = 0
    outcomes: Counter = field(default_factory=Counter)  # (question, outcome) -> count
    refused: list[tuple[str, list[str], int]] = field(default_factory=list)  # path, problems, code
    skipped: dict[str, int] = field(default_factory=dict)  # why a folder's file was left out
    questions: tuple[str, ...] = ()  # the vocabulary's questions, in order
    documents: int | None = None  # written, in a batch of documents
    folder: str = ""  # where they were written

    @property
    def exit_code(self) -> int:
        return max((code for _, _, code in self.refused), default=int(ExitCode.OK))


# One file's result, as the workers send it back (plain data, so it pickles cheaply):
# ("ok", shown, case_id, date, ruleset, outcomes, warning codes, open facts, line bytes)
# ("refused", shown, problems (capped), how many, exit code, line bytes)
CHUNK = 64  # files per task of a worker
MIN_PARALLEL = 4 * CHUNK  # fewer files than this are not worth starting workers for


def shown_name(name: str) -> str:
    """A file's name as a batch shows it, in every format: as it is, unless it holds bytes
    that are not UTF-8 (a name the system gives as bytes, decoded with surrogates), which no
    UTF-8 line, JSON or CSV can hold: then escaped as messages escape it (textcheck), as
    the reader's own messages about the file name it."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        from riskassess.textcheck import printable

        return printable(name)
    return name


def refusal(exc: BaseException, shown: str) -> tuple[list, int]:
    """A refused file's problems and exit code: a UserError's own, else (an OSError, a
    RecursionError...) that the file cannot be read."""
    if isinstance(exc, UserError):
        return exc.problems, int(exc.exit_code)
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return [f"{shown}: cannot be read ({reason})"], int(ExitCode.INVALID_INPUT)


# How a batch writes a case in each batch-line format of the format table that is not
# text (text lines are written by `run`, from what the case's tuple carries): from the
# compiled bytes, the case and the file's name; and a refused file, where the format has a
# line for one. tests/test_formats.py checks that every batch-line format is here.
LINES = {
    "jsonl": lambda done, shown: done.json_line(),  # the JSON report, compact
    "outcomes": lambda done, shown: done.outcomes_line(shown) + b"\n",
}
REFUSED_LINES = {"outcomes": lambda shown, problems, code: _refused_line(shown, problems,
                                                                         code) + b"\n"}


def _refused_line(shown: str, problems: list, code: int) -> bytes:
    from riskassess.engine.compiled import refused_line

    return refused_line(shown, problems, code)


def assess_one(assessor: Assessor, path: Path, fmt: str) -> tuple:
    """Assess one file for a batch line (fmt: text, or a format of LINES), or refuse it.
    A RuleSetError is raised: a broken rule set stops the batch."""
    return _result(assessor, path.as_posix(), path, fmt)


def _result(assessor: Assessor, shown: str, case: Any, fmt: str) -> tuple:
    """One case's batch result: `case` is a path to read (a string or a Path), a Document
    already read, or the UserError that refused it (a line of a JSONL caseload); `shown`
    its name (as `shown_name` shows it)."""
    if not shown.isascii():
        shown = shown_name(shown)
    try:
        if type(case) is str:
            done = assessor.assess_fast(case)
        elif isinstance(case, BaseException):
            raise case
        else:
            done = assessor.assess_document(case) if hasattr(case, "data") else \
                assessor.assess_fast(case)
    except RuleSetError:
        raise
    except (UserError, OSError, RecursionError, MemoryError) as exc:
        # Whatever stops one file from being read or parsed is that file's refusal;
        # the batch goes on. (The reader turns every such cause into a UserError; the
        # others are a last line of defence, so that one file never costs the rest.)
        found, code = refusal(exc, shown)
        # only the first problems are kept, with a count of the rest: a bad file's
        # thousands of lines would otherwise fill the summary and the memory
        problems = capped(found, PROBLEMS_SHOWN)
        refused = REFUSED_LINES.get(fmt)
        line = refused(shown, problems, code) if refused else None
        return ("refused", shown, problems, len(found), code, line)
    write = LINES.get(fmt)
    line = write(done, shown) if write else None
    return ("ok", shown, done.case_id, done.day.isoformat(), *done.tally(), line)


def jsonl_cases(path: Path):
    """The cases of a JSONL caseload, in order: (where it is shown, `FILE:LINE`; its
    Document, or the UserError that refuses it). Blank lines are skipped. A line without a
    `case_id` (or with null or "") is refused: its results could not be told from another
    line's once the caseload is sorted or split. A file that cannot be opened is one
    refusal, shown as the file."""
    from riskassess.errors import CaseFileError, Problem
    from riskassess.io.reader import jsonl_lines

    shown = path.as_posix()
    try:
        for number, doc in jsonl_lines(path, error=CaseFileError, display_name=shown):
            if isinstance(doc, UserError):
                yield f"{shown}:{number}", doc
                continue
            if type(doc.data) is dict and doc.data.get("case_id") in (None, ""):
                line, column = doc.position(("case_id",))
                doc = record.replace(doc, problems=(*doc.problems, Problem(
                    shown, line, column, "case_id",
                    "missing: each case of a JSONL caseload needs its case_id (1-64 "
                    "letters, digits, '.', '_', '-'), to tell its results from the other "
                    "lines'")))
            yield f"{shown}:{number}", doc
    except UserError as exc:  # the file itself cannot be opened
        yield shown, exc


def cases_of(files: list[Path]):
    """(name, what to assess) for each case of `files`: a path (as a string), or a JSONL
    line's case (named `FILE:LINE`). A name is shown as `shown_name` shows it."""
    for name in _names(files):
        if is_jsonl_name(name):
            yield from jsonl_cases(Path(name))
        else:
            yield name, name


def _names(files) -> Any:
    """The files' names as the batch shows them (`as_posix`): a list of case files
    (assess/files.py) holds them already, without a Path object made for each."""
    names = getattr(files, "names", None)
    return names() if names is not None else (Path(path).as_posix() for path in files)


def results(files: list[Path], assessor: Assessor, fmt: str, jobs: int = 1,
            direct: _Direct | None = None):
    """Each file's result, in the files' order. With jobs > 1 the files are assessed by
    that many worker processes (`_Workers`), each at most one chunk ahead of the writer, so
    memory stays bounded whatever the number of files; the first chunk is assessed here, so
    the workers inherit the compiled rule sets instead of compiling them again. With
    `direct`, the workers write their chunks' lines to the output themselves, in turn, and
    their results come with an empty line (b"").

    Close the generator when done with it (`run` does): that stops and reaps the workers
    at once, however it ends (a signal, an error, the batch done)."""
    # the paths stay the caller's compact list of strings: Path objects are made one at a
    # time (100,000 of them would cost more memory than the assessment)
    # the lines of a JSONL caseload are read and assessed here, one after another
    if not _parallel(files, jobs):
        for shown, case in cases_of(files):
            yield _result(assessor, shown, case, fmt)
        return
    chunks = -(-len(files) // CHUNK)
    for name in _names(files[:CHUNK]):
        yield _result(assessor, name, name, fmt)
    # not more workers than chunks
    workers = _Workers(files, assessor, fmt, min(jobs, chunks - 1), direct)
    try:
        for k in range(1, chunks):
            for item in workers.chunk(k):
                if item[0] == "stop":  # a broken rule set: raise its error here, as alone
                    assess_one(assessor, Path(item[1]), fmt)
                    raise RuntimeError(f"a worker stopped on {item[1]}")
                yield item
    finally:
        workers.stop()


def _parallel(files: list[Path], jobs: int) -> bool:
    """Whether `results` assesses the files in worker processes."""
    return jobs > 1 and len(files) >= MIN_PARALLEL and hasattr(os, "fork") and \
        not any(is_jsonl_name(name) for name in _names(files))


class _Workers:
    """Worker processes for a batch: forked (they inherit the rule sets, the assessor and the
    list of files), each with a pipe of its own to this process (and, with `direct`, a turn
    pipe from it and the output's open file), and nothing else shared: no queue, lock or
    thread, so that stopping them can never wait on one a worker held.

    Worker i assesses chunks 1 + i, 1 + i + n, ... (chunk 0 is this process's) and writes
    each chunk's results to its pipe as a pickle, then waits for them to be read: at most
    one chunk ahead. This process reads chunk k from worker (k - 1) % n, so the results come
    in the files' order. With `direct` (`_Direct`), a worker writes a chunk's lines to the
    output itself when this process gives it the turn, so that a report passes through no
    pipe and no other process (a batch of full reports is 24 KB a case).

    A worker ignores Ctrl-C (it is this process's to handle: it reaches the whole process
    group at a terminal), ends at once on SIGTERM and SIGHUP (it holds no file of its own:
    at most this process's output, whose lines it finishes writing first), and ends when
    this process has gone (its pipe is broken; on Linux at once, even while it writes).
    `stop` gives a worker writing its lines a second to finish them, then kills and reaps
    them all, whatever state they are in."""

    def __init__(self, files: list, assessor: Assessor, fmt: str, jobs: int,
                 direct: _Direct | None = None):
        import gc

        from riskassess.stopping import signals_held

        self.running: list[tuple[int, Any]] = []  # (process id, the pipe's reading end)
        self.turns: dict[int, int] = {}  # process id -> the writing end of its turn pipe
        self.writing: int | None = None  # the worker given the turn, until its results come
        self.direct = direct
        gc.collect()  # nothing of this process's left to collect in a worker (see _worker)
        parent = os.getpid()
        with signals_held():  # a signal now is raised once every worker is in the list
            try:
                for i in range(jobs):
                    self._start(files, assessor, fmt, first=1 + i, step=jobs, parent=parent)
            except BaseException:  # no process or pipe left (the system's limits)
                self.stop()
                raise

    def _start(self, files: list, assessor: Assessor, fmt: str, *, first: int, step: int,
               parent: int) -> None:
        made: list[int] = []
        try:
            read, write = os.pipe()
            made += (read, write)
            _widen(write)
            turn = os.pipe() if self.direct else None
            made += turn or ()
            pid = os.fork()
        except BaseException:
            for fd in made:
                os.close(fd)
            raise
        if pid == 0:
            os.close(read)
            if turn:
                os.close(turn[1])
            _worker(write, files, assessor, fmt, first=first, step=step,
                    turn=turn[0] if turn else None,
                    out=self.direct.fd if self.direct else None, parent=parent)  # never returns
        os.close(write)
        if turn:
            os.close(turn[0])
            self.turns[pid] = turn[1]
        self.running.append((pid, os.fdopen(read, "rb")))

    def chunk(self, k: int) -> list[tuple]:
        """Chunk k's results (k >= 1), from the worker that assesses it."""
        import pickle

        pid, pipe = self.running[(k - 1) % len(self.running)]
        if self.direct:  # what this process wrote goes first, then the worker's turn
            self.direct.flush()
            with contextlib.suppress(BrokenPipeError):  # ended: seen below, by its pipe
                os.write(self.turns[pid], b"w")
            self.writing = pid
        try:
            kind, data, *unwritten = pickle.load(pipe)
        except (EOFError, pickle.UnpicklingError):  # the worker ended before it was done
            self._ended(pid)
        self.writing = None
        if kind == "error":  # a bug in a worker: its traceback, as if it were here
            raise RuntimeError(f"a worker of the batch failed:\n{data}")
        if unwritten and unwritten[0]:  # its write failed (a full disk, a closed pipe):
            self.direct.write(unwritten[0])  # written here, it fails as this one's would
        return data

    def _ended(self, pid: int) -> None:
        import signal

        from riskassess.stopping import Interrupted

        _, status = os.waitpid(pid, 0)
        self.running = [(p, pipe) for p, pipe in self.running if p != pid]
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGTERM, signal.SIGHUP,
                                                               signal.SIGINT):
            raise Interrupted(os.WTERMSIG(status))  # sent to the workers, not to this one
        if os.WIFSIGNALED(status):  # killed from outside (the system's out-of-memory killer,
            # kill -9): not a bug of the tool and not the case's fault, so said, not traced
            from riskassess.errors import OutputError

            number = os.WTERMSIG(status)
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            raise OutputError(
                f"a worker of the batch was killed by {name}"
                + (" (often the system running out of memory)" if number == signal.SIGKILL
                   else "")
                + "; the batch stopped: no --output file or summary was changed (lines "
                  "already printed stay); run it again, with --jobs 1 to use less memory")
        raise RuntimeError(f"a worker of the batch ended unexpectedly (status {status})")

    def stop(self) -> None:
        """Kill and reap every worker (done or not) and close their pipes. A worker writing
        its lines to the output is given a second to end them (its results, or its end,
        say it has), so that the output ends with a whole line."""
        import select
        import signal

        from riskassess.stopping import signals_held

        with signals_held():
            for pid, pipe in self.running:
                if pid == self.writing:
                    with contextlib.suppress(OSError, ValueError):
                        select.select([pipe], [], [], 1.0)
            for pid, _ in self.running:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            for pid, pipe in self.running:
                pipe.close()
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
            for turn in self.turns.values():
                os.close(turn)
            self.running, self.turns = [], {}


class _Direct:
    """The output a batch's workers write their lines to themselves (`_Workers`): its file
    descriptor, and the flush and write of this process's buffered stream over it."""

    __slots__ = ("fd", "flush", "write")

    def __init__(self, fd: int, binary: Any):
        self.fd, self.flush, self.write = fd, binary.flush, binary.write

    @classmethod
    def of(cls, binary: Any, fmt: str) -> _Direct | None:
        """For a batch of lines made whole as each case is assessed (a format of LINES)
        written to a binary stream with a file descriptor; else None (the lines are
        written to the stream, and come to it through the workers' pipes)."""
        if fmt not in LINES or binary is None or not hasattr(os, "writev"):
            return None
        try:
            return cls(binary.fileno(), binary)
        except (AttributeError, OSError, ValueError):  # io.BytesIO and the like
            return None


def _widen(pipe: int) -> None:
    """Give a worker's pipe room for a whole chunk of results where the system allows it
    (Linux: up to /proc/sys/fs/pipe-max-size, 1 MiB by default), so that a worker one chunk
    ahead goes on assessing instead of waiting for this process to read it: a chunk of
    full reports, where they come through the pipe (an output without a descriptor), is
    over a megabyte, and a pipe holds 64 KiB."""
    try:
        import fcntl

        fcntl.fcntl(pipe, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass  # another system, or a lower limit: the default pipe, slower


def _worker(write: int, files: list, assessor: Assessor, fmt: str, *, first: int,
            step: int, turn: int | None = None, out: int | None = None,
            parent: int | None = None) -> None:
    """A worker's life, in the forked process: it never returns to the caller's code (whose
    `finally` blocks would remove the parent's temporary files), whatever happens. With
    `turn` (a pipe's reading end), it writes each chunk's lines to `out` itself once that
    pipe gives it a byte: its turn; and it ends with its parent (`parent`), even while
    the output keeps it waiting."""
    code = 1
    try:
        import gc
        import pickle
        import signal
        import traceback

        gc.freeze()  # the parent's objects are never collected here (nor their files closed)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        # a closed pipe is an error to report (the output's reader gone: the parent says
        # so) or to end on (the parent gone), not a death by SIGPIPE
        signal.signal(signal.SIGPIPE, signal.SIG_IGN if out is not None else signal.SIG_DFL)
        if out is not None:
            _die_with(parent)
        # Only the pipes stay open, and the output the worker writes to: the parent's other
        # files (and their locks) are its own.
        low = 3
        for keep in sorted({write} | {fd for fd in (turn, out) if fd is not None and fd >= 3}):
            os.closerange(low, keep)
            low = keep + 1
        os.closerange(low, _open_max())
        with os.fdopen(write, "wb") as pipe:
            for k in range(first, -(-len(files) // CHUNK), step):
                try:
                    message = ("ok", _work(files[k * CHUNK:(k + 1) * CHUNK], assessor, fmt))
                except Exception:  # a bug: the parent shows it
                    message = ("error", traceback.format_exc())
                if turn is not None and message[0] == "ok":
                    message = ("ok", *_write_chunk(message[1], turn, out))
                pickle.dump(message, pipe, protocol=pickle.HIGHEST_PROTOCOL)
                pipe.flush()
                if message[0] == "error" or (message[1] and message[1][-1][0] == "stop"):
                    break
        code = 0
    except BaseException:  # noqa: B036 (the parent gone, a signal: nothing to say)
        pass
    finally:
        os._exit(code)


def _write_chunk(items: list[tuple], turn: int, out: int) -> tuple[list[tuple], bytes]:
    """Write a chunk's lines to `out` once `turn` gives the turn (a worker's): the chunk's
    results with their lines emptied, and the bytes the write failed to write (b"" when
    all were written), for the parent to write (and fail to write) as its own. SIGTERM and
    SIGHUP wait for the write's end (then end the worker), so that no line is cut."""
    import signal

    # (a "stop" has no line, nor has a refused file in a format without refused lines)
    lines = [item[-1] for item in items if item[0] != "stop" and item[-1]]
    items = [(*item[:-1], b"") if item[0] != "stop" and item[-1] else item for item in items]
    if not os.read(turn, 1):  # the parent is gone
        raise SystemExit
    held = {signal.SIGTERM, signal.SIGHUP}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        return items, write_lines(out, lines)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _die_with(parent: int | None) -> None:
    """End this process (SIGKILL) when its parent ends, where the system offers it (Linux):
    a worker waiting on the output (a paused terminal, a full pipe) would otherwise outlive
    a parent killed outright."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
    except (ImportError, OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent:  # it ended before the line above
        os._exit(1)


def write_lines(fd: int, lines: list[bytes]) -> bytes:
    """Write `lines` to a file descriptor, gathered (not joined: a chunk of full reports is
    a megabyte and more); on an error, the bytes not written (b"" when all were)."""
    first, skip = 0, 0  # lines[first][skip:] is the first byte not written
    try:
        while first < len(lines):
            head = [lines[first][skip:]] if skip else []
            done = os.writev(fd, [*head, *lines[first + len(head):first + _IOV_MAX]])
            done += skip  # as if from the start of lines[first]: it may write less than asked
            while first < len(lines) and done >= len(lines[first]):
                done -= len(lines[first])
                first += 1
            skip = done
    except OSError:
        return b"".join([lines[first][skip:], *lines[first + 1:]])
    return b""


_IOV_MAX = 1024  # Linux's IOV_MAX (POSIX's least is 16): os.writev refuses more


def _open_max() -> int:
    try:
        return max(256, min(os.sysconf("SC_OPEN_MAX"), 1 << 20))
    except (ValueError, OSError):
        return 4096


def _work(chunk: list, assessor: Assessor, fmt: str) -> list[tuple]:
    out = []
    for name in _names(chunk):
        try:
            out.append(_result(assessor, name, name, fmt))
        except RuleSetError:
            out.append(("stop", name))
            break
    return out


def run(files: list[Path], assessor: Assessor, *, fmt: str, out: TextIO,
        csv_out: TextIO | None = None, tick: Callable[[], None] | None = None,
        documents: Documents | None = None, jobs: int = 1) -> Tally:
    """Assess `files` in order, writing one line per file to `out` (fmt: text, jsonl or
    outcomes); with `documents`, each assessed case's document too, named at the end of
    its line (documents are made one by one, in this process)."""
    questions = assessor.vocabulary.question_ids
    tally = Tally(questions=questions, skipped=dict(getattr(files, "skipped", {})))
    if documents is not None:
        tally.documents, tally.folder = 0, documents.folder.as_posix().rstrip("/") + "/"
    writer = csv.writer(csv_out, lineterminator="\n") if csv_out else None
    if writer:
        writer.writerow(csv_columns(questions))
    binary = getattr(out, "buffer", None)
    if binary is not None:
        out.flush()
    # Lines made whole go to the output's descriptor: from the workers themselves, or,
    # in one process, from a thread of their own (`_Background`)
    direct = _Direct.of(binary, fmt) if documents is None else None
    parallel = _parallel(files, jobs)
    background = _Background(direct) if direct and not parallel else None
    emit = background.write if background else functools.partial(_write, out, binary)
    source = _documents(files, assessor, documents) if documents is not None else \
        results(files, assessor, fmt, jobs, direct if parallel else None)
    try:
        with contextlib.closing(source):  # the workers stopped here, however the loop ends
            _write_all(source, tally, fmt, out, emit, writer, documents, tick)
    except BaseException as exc:
        if background:  # the lines assessed before an error are written, as in the stream;
            # a signal's stop is at once (but for the lines being written)
            from riskassess.stopping import Interrupted

            if isinstance(exc, (KeyboardInterrupt, Interrupted)):
                background.abandon()
            else:
                with contextlib.suppress(Exception):  # the error said is the first one
                    background.close()
        raise
    if background:
        background.close()
    return tally


def _write_all(source, tally: Tally, fmt: str, out: TextIO, emit: Callable[[bytes], Any],
               writer: Any, documents: Documents | None,
               tick: Callable[[], None] | None) -> None:
    # each combination of outcomes counted as it comes, and spread over the questions at
    # the end (most cases share a few combinations)
    combinations: Counter = Counter()
    try:
        _write_items(source, tally, fmt, out, emit, writer, documents, tick, combinations)
    finally:
        questions = tally.questions
        for outcomes, count in combinations.items():
            for q, o in zip(questions, outcomes, strict=True):
                tally.outcomes[(q, o)] += count


def _write_items(source, tally: Tally, fmt: str, out: TextIO, emit: Callable[[bytes], Any],
                 writer: Any, documents: Documents | None,
                 tick: Callable[[], None] | None, combinations: Counter) -> None:
    questions = tally.questions
    for item in source:
        tally.files += 1
        if item[0] == "refused":
            _, shown, problems, count, code, line = item
            tally.refused.append((shown, problems, code))
            if fmt == "text":
                out.write(f"{shown}: REFUSED ({count} problem"
                          f"{'s' if count > 1 else ''}): {problems[0]}\n")
            elif line is not None:
                emit(line)
            if writer:
                writer.writerow([shown, "", "", "", *("" for _ in questions), "", "",
                                 " | ".join(problems)])
        else:
            _, shown, case_id, day, ruleset, outcomes, codes, facts, line = item[:9]
            tally.assessed += 1
            combinations[outcomes] += 1
            if line is not None:
                emit(line)
            else:
                warned = f"; warnings: {', '.join(codes)}" if codes else ""
                written = ""
                if documents is not None:
                    written = f" -> {item[9]}"
                    tally.documents += 1
                out.write(f"{shown}: {ruleset}: {' | '.join(outcomes)}{warned}{written}\n")
            if writer:
                writer.writerow([shown, case_id or "", day, ruleset, *outcomes,
                                 ";".join(facts), ";".join(codes), ""])
        if tick:
            tick()


class _Background:
    """A batch's lines written to the output's descriptor by a thread of their own, a
    megabyte at a time (64 KiB to a terminal, as the stream's buffer would, so that a
    person sees them come), so that the system's copying of them (a batch of full reports
    is 240 MB for 10,000 cases) and any wait for the disk overlap the assessing, which goes
    on in the main thread: the system call releases the interpreter's lock. (64 KiB at a
    time to a file cost about a fifth more system time than a megabyte.)

    A write that fails hands its bytes (and those queued after them) back to the main
    thread, which writes them through the output's stream: they fail there as they would
    have without the thread, with the same error. Two batches wait in the queue at most
    (16 to a terminal): with the one being made and the one being written, about 4 MB."""

    def __init__(self, direct: _Direct):
        import queue
        import threading

        self.direct = direct
        terminal = os.isatty(direct.fd)
        self.batch = 1 << 16 if terminal else 1 << 20
        self.queue: Any = queue.Queue(maxsize=16 if terminal else 2)
        self.pending: list[bytes] = []
        self.size = 0
        self.unwritten: list[bytes] = []  # after a failed write: every byte not written
        self.error: BaseException | None = None  # a bug in the thread
        self.stopped = False
        self.thread: Any = threading.Thread(target=self._run, name="riskassess-lines",
                                            daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            lines = self.queue.get()
            if lines is None or self.stopped:
                return
            if self.unwritten or self.error:  # the rest is the main thread's
                self.unwritten += lines
                continue
            try:
                rest = write_lines(self.direct.fd, lines)
            except BaseException as exc:  # noqa: B036 (a bug: raised in the main thread)
                self.error, rest = exc, b"".join(lines)
            if rest:
                self.unwritten.append(rest)

    def write(self, line: bytes) -> None:
        if self.thread is None:  # after a failure: through the stream
            self.direct.write(line)
            return
        self.pending.append(line)
        self.size += len(line)
        if self.size >= self.batch:
            if self.unwritten or self.error:
                self._finish()
                return
            self.queue.put(self.pending)
            self.pending, self.size = [], 0

    def close(self) -> None:
        """Every line written, or the failed write's error raised as the stream's own."""
        if self.thread is not None:
            self.queue.put(self.pending)
            self.pending = []
            self._finish()

    def _finish(self) -> None:
        """Stop the thread once it has written what it can, and write what it could not
        (after a failed write: what waits here too) through the stream."""
        self.queue.put(None)
        self.thread.join()
        self.thread = None
        if self.error is not None:
            raise RuntimeError("the thread writing the batch's lines failed") from self.error
        rest, self.unwritten = [*self.unwritten, *self.pending], []
        self.pending = []
        for line in rest:
            self.direct.write(line)
        self.direct.flush()  # a failure raises here, as the stream's own

    def abandon(self) -> None:
        """The batch stopped (a signal, an error): no more lines. The thread finishes the
        lines it is writing, so that the output ends with a whole line, unless the output
        keeps it waiting (a paused terminal, a full pipe): it is then left behind."""
        if self.thread is None:
            return
        self.stopped = True
        with contextlib.suppress(Exception):  # full: the thread sees `stopped` next
            self.queue.put_nowait(None)
        self.thread.join(timeout=1)


def _write(out: TextIO, binary: Any, line: bytes) -> None:
    if binary is not None:
        binary.write(line)
    else:
        out.write(line.decode("utf-8"))


def _documents(files: list[Path], assessor: Assessor, documents: Documents):
    """A batch of documents: each case assessed with its model (a document needs it) and
    its document written as soon as it is assessed."""
    for path in files:
        shown = shown_name(path.as_posix())
        try:
            outcome = assessor.assess(path)
        except RuleSetError:
            raise
        except (UserError, OSError, RecursionError, MemoryError):
            yield assess_one(assessor, path, "text")  # the same refusal, said the same way
            continue
        report = outcome.report
        try:
            written = documents.write(path, outcome)
        except DocumentError as exc:  # this case's document cannot be made: its refusal
            problems = capped(exc.problems, PROBLEMS_SHOWN)
            yield ("refused", shown, problems, len(exc.problems), int(exc.exit_code), None)
            continue
        yield ("ok", shown, report.case_id, report.assessment_date.isoformat(),
               report.ruleset.id, tuple(report.question(q).outcome
                                        for q in assessor.vocabulary.question_ids),
               tuple(w.code for w in report.warnings),
               tuple(o.fact for o in report.open_questions), None, written)


def summary(tally: Tally) -> str:
    lines = [f"Summary: {tally.files} file(s), {tally.assessed} assessed, "
             f"{len(tally.refused)} refused, {sum(tally.skipped.values())} skipped"]
    if tally.documents is not None:
        lines.append(f"  {tally.documents} document(s) written in {tally.folder}")
    for reason, count in tally.skipped.items():
        lines.append(f"  skipped {count}: {reason}")
    if tally.outcomes:
        width = max(len(o) for _, o in tally.outcomes)
        lines.append(f"  {'question':<14}{'outcome':<{width + 2}}cases")
        for q in tally.questions:
            for (question, outcome), count in sorted(tally.outcomes.items()):
                if question == q:
                    lines.append(f"  {q:<14}{outcome:<{width + 2}}{count}")
    if tally.refused:
        lines.append("Refused files:")
        for path, problems, code in tally.refused:
            lines.append(f"  {path} (exit {code}):")
            lines += [f"    {p}" for p in problems]
    return "\n".join(lines) + "\n"



# ----------------------------------------------------------------------- documents

class Documents:
    """One document per case, written into a folder (`evaluate FOLDER -f FORMAT -o OUT/`).

    A case's document is named after its file: the file's name without its extension, and
    the format's (caseload/2024/A-17.yaml -> OUT/A-17.docx). Its bytes are those that
    `evaluate CASE -f FORMAT -o FILE` writes for the case on the same day. Two cases whose
    documents would have one name (a.yaml in two folders, a.yaml and a.yml, or names that
    differ only in case, one file on many file systems) are refused before anything is
    assessed or written (`check`): a document must never silently take another case's place,
    and a name that depended on which case came first would surprise.

    Each document is written by the safe writer, atomically, as soon as its case is
    assessed: an interruption (Ctrl-C, SIGTERM, SIGHUP) leaves only complete documents, and
    what a killed run left half-written is removed before the first is written. An existing
    document is replaced only with `force`, and only if it is a regular file; no document
    may be a case file or the --summary-csv file."""

    def __init__(self, folder: Path, fmt: formats.OutputFormat, *, force: bool,
                 summary_csv: Path | None = None, timestamp: bool = False,
                 annex: bool = True):
        self.folder, self.format, self.force = Path(folder), fmt, force
        self.summary_csv, self.timestamp, self.annex = summary_csv, timestamp, annex
        self.extension = fmt.extension()

    def target(self, case: Path) -> Path:
        return self.folder / f"{Path(case).stem}{self.extension}"

    def check(self, files: list[Path], *, exists: bool) -> None:
        """Refuse, before any work, two cases of one document name, and (when the folder
        `exists`) a document that may not be written: an input, the summary, an existing
        file without `force`, anything but a regular file."""
        from riskassess.io.writer import check_targets, probe_folder

        seen: dict[str, tuple[str, str]] = {}  # folded name -> (case file, document name)
        for path in files:
            if is_jsonl_name(path):
                raise UsageError(f"{path.as_posix()} is a JSONL caseload: its cases are not "
                                 "written as documents (one file, many cases); assess it "
                                 "with -f text, jsonl or outcomes, or give each case a "
                                 "file of its own")
            name = self.target(path).name
            key = unicodedata.normalize("NFC", name).casefold()
            first = seen.setdefault(key, (path.as_posix(), name))
            if first[0] != path.as_posix():
                same = (f"would both be written to {(self.folder / name).as_posix()}"
                        if first[1] == name else
                        f"would be written to {(self.folder / first[1]).as_posix()} and "
                        f"{(self.folder / name).as_posix()}, names that differ only in case "
                        "(one file on many systems)")
                raise UsageError(f"the documents of {first[0]} and {path.as_posix()} {same}; "
                                 "rename one of the case files, or assess them into "
                                 "different folders")
        csv = self.summary_csv
        if csv is not None and os.path.realpath(csv.parent) == os.path.realpath(self.folder):
            folded = unicodedata.normalize("NFC", csv.name).casefold()
            if folded in seen:  # (found below as well when the folder exists; not before)
                raise UsageError(f"--summary-csv {csv} would be the document of "
                                 f"{seen[folded][0]}; give each output its own")
        if exists:
            check_targets((self.target(p) for p in files), force=self.force, inputs=files,
                          others={"--summary-csv": csv})
            probe_folder(self.folder, f"into --output {self.folder}")

    def write(self, case: Path, outcome: Outcome) -> str:
        """Make and write the document of one assessed case; returns where it went."""
        from riskassess.io.writer import write_output

        when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) \
            if self.timestamp else None
        data = formats.render(self.format, outcome, formats.Options(
            path=case.as_posix(), generated_at=when, annex=self.annex))
        target = self.target(case)
        write_output(target, data.encode("utf-8") if isinstance(data, str) else data,
                     force=self.force, inputs=[p for p in (case, self.summary_csv) if p],
                     clean=False)  # `remove_stale` has cleaned the folder once for all
        return target.as_posix()

    def remove_stale(self, files: list[Path]) -> None:
        """Remove the temporaries a killed run left for these documents, in one reading of
        the folder (io/writer.py `remove_stale`), before any is written."""
        from riskassess.io.writer import remove_stale

        remove_stale(self.folder, {self.target(path).name for path in files})
