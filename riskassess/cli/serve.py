"""`riskassess serve`: the HTTP API and the web form (serve/ does the work)."""

from __future__ import annotations

import sys
from pathlib import Path
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
    tokens_file: Annotated[Optional[Path], typer.Option(
        "--tokens-file", show_default=False,
        help="Named tokens, one 'name: token' a line (each at least 16 characters; # "
             "starts a comment): every request but /healthz needs one of them, and the "
             "form's sign-in names its session after the token's name. SIGHUP reads the "
             "file again (a line removed revokes that token and ends its sessions).")] = None,
    secret_file: Annotated[Optional[Path], typer.Option(
        "--secret-file", show_default=False,
        help="A file of at least 32 random bytes, the key of the form's sessions and "
             "CSRF tokens: give the same file to every copy of the service behind one "
             "address. Without it, a key is made at each start.")] = None,
    session_minutes: Annotated[int, typer.Option(
        "--session-minutes", min=1, max=10080,
        help="Minutes a sign-in of the form lasts.")] = 480,
    audit_log: Annotated[Optional[Path], typer.Option(
        "--audit-log", show_default=False,
        help="Append one JSON line per assessment (who, when, case reference, edition, "
             "outcomes, the report's sha256: never a fact), sign-in, sign-out and refused "
             "token to this file (created 0600).")] = None,
    # -- connections and sockets (serve/runner.py)
    tls_cert: Annotated[Optional[Path], typer.Option(
        "--tls-cert", show_default=False,
        help="Serve HTTPS with this certificate chain (a PEM file); needs --tls-key.")] = None,
    tls_key: Annotated[Optional[Path], typer.Option(
        "--tls-key", show_default=False,
        help="The certificate's private key (a PEM file, unencrypted, readable by this "
             "user only).")] = None,
    trusted_proxy: Annotated[Optional[list[str]], typer.Option(
        "--trusted-proxy", show_default=False,
        help="The address (or network, e.g. 10.0.0.0/24) of a reverse proxy in front, "
             "whose X-Forwarded-For and X-Forwarded-Proto are believed; repeatable. "
             "From anyone else they are ignored.")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="Processes serving the one socket (each with its own "
                                 "--max-concurrent).")] = 1,
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
                          today=parse_today(today) if today is not None else None,
                          tokens_file=tokens_file, secret_file=secret_file,
                          session_minutes=session_minutes, audit_log=audit_log,
                          tls_cert=str(tls_cert) if tls_cert is not None else None,
                          tls_key=str(tls_key) if tls_key is not None else None,
                          trusted_proxy=trusted_proxy or [], workers=workers)
    if stopped == signal.SIGINT:
        sys.stderr.write("riskassess serve: interrupted; requests in flight were answered\n")
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    sys.stderr.write("riskassess serve: stopped; requests in flight were answered\n")
