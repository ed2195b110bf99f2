"""`riskassess serve`: the HTTP API and the web form (serve/ does the work)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from riskassess.cli.options import (
    RulesDir,
    parse_today,
)
from riskassess.errors import ExitCode


def serve(
    host: Annotated[str, typer.Option(
        "--host", help="The address to listen on. Anything but a loopback address needs "
                       "--token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                      help="The port (0: any free one).")] = 8765,
    rules_dir: RulesDir = None,
    token: Annotated[Optional[str], typer.Option(
        "--token", envvar="RISKASSESS_TOKEN", show_default=False,
        help="Require this bearer token (at least 16 characters) on every request but "
             "/healthz and /readyz; the form asks for it once. Better given in the "
             "environment variable RISKASSESS_TOKEN, which other users cannot list.")] = None,
    allow_host: Annotated[Optional[list[str]], typer.Option(
        "--allow-host", show_default=False,
        help="Another name the Host header may give (the name clients use for this "
             "machine); repeatable. The address listened on is always allowed.")] = None,
    max_concurrent: Annotated[int, typer.Option(
        "--max-concurrent", min=1, help="Assessments at once; beyond, they wait their "
                                        "turn (see --max-queue).")] = 16,
    max_queue: Annotated[int, typer.Option(
        "--max-queue", min=0, help="Assessments that may wait for one of the "
                                   "--max-concurrent slots, in arrival order and never past "
                                   "--timeout; beyond, 503 with Retry-After (0: refuse at "
                                   "once when every slot is taken).")] = 256,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=0.1, help="Seconds a request may take, its body's upload "
                                   "included.")] = 30.0,
    open_form: Annotated[bool, typer.Option(
        "--open", help="Open the form in this machine's web browser.")] = False,
    today: Annotated[Optional[str], typer.Option("--today", hidden=True)] = None,
) -> None:
    """Serve the HTTP API (/v1, described at /openapi.json) and the web form (/) on the
    encoded rule sets. Stops on Ctrl-C or SIGTERM, after answering what is in flight.

    Nothing is stored, and nothing is logged but the client address, method, path,
    status and time.

    Example: riskassess serve   (then open http://127.0.0.1:8765/)"""
    import signal

    from riskassess.serve.runner import serve as run_service

    stopped = run_service(host=host, port=port, rules_dir=rules_dir, token=token,
                          allow_host=allow_host or [], max_concurrent=max_concurrent,
                          max_queue=max_queue,
                          timeout=timeout, open_form=open_form,
                          today=parse_today(today) if today is not None else None)
    if stopped == signal.SIGINT:
        sys.stderr.write("riskassess serve: interrupted; requests in flight were answered\n")
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    sys.stderr.write("riskassess serve: stopped; requests in flight were answered\n")
