"""The deployment files: the Containerfile and the systemd unit (deploy/riskassess.service).

No container engine is assumed: what the image does is tested outside one. The
Containerfile's instructions are read and held to what a deployment needs (a pinned base,
a non-root user, no secret in ENV or ARG, a health check without curl, SIGTERM), its COPY
and RUN steps run as written in a fresh folder (offline, from a folder of wheels), and the
service is started with the image's own ENTRYPOINT arguments, its secrets in read-only
files and its cache built by the image's own step, then checked with the image's own
HEALTHCHECK command. The unit is checked by `systemd-analyze verify` where it exists.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from conftest import TOOL, tool_env
from serving import Server

ROOT = Path(__file__).resolve().parent.parent
CONTAINERFILE = ROOT / "Containerfile"
UNIT = ROOT / "deploy" / "riskassess.service"
README = (ROOT / "README.md").read_text(encoding="utf-8")
# the options of `serve` the deployment relies on that other parts of the tool provide
SECRET_OPTIONS = ("--tokens-file", "--secret-file", "--audit-log")


def instructions(path: Path = CONTAINERFILE) -> list[tuple[str, str]]:
    """A Containerfile's instructions as (KEYWORD, arguments): comments dropped, lines
    continued with a backslash joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, args = whole.partition(" ")
        out.append((keyword.upper(), args.strip()))
    assert not pending, "the Containerfile ends inside a continued line"
    return out


def the(keyword: str) -> list[str]:
    return [args for kw, args in instructions() if kw == keyword]


def entrypoint() -> list[str]:
    [args] = the("ENTRYPOINT")
    return json.loads(args)  # the exec form: SIGTERM reaches serve, not a shell


def healthcheck() -> list[str]:
    [args] = the("HEALTHCHECK")
    return json.loads(args[args.index("CMD") + 3:].strip())


def serve_options() -> str:
    done = subprocess.run([*TOOL, "serve", "--help"], capture_output=True, text=True,
                          env=tool_env(COLUMNS="200"), timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def needs_secret_options() -> None:
    """Skip until `serve` has the options the deployment passes (being added beside this
    work); once it has any of them, a missing one is a failure (a renamed option)."""
    known = serve_options()
    missing = [o for o in SECRET_OPTIONS if o not in known]
    if len(missing) == len(SECRET_OPTIONS):
        pytest.skip(f"riskassess serve has no {', '.join(SECRET_OPTIONS)} yet")
    assert not missing, f"the deployment passes options serve does not know: {missing}"


# ------------------------------------------------------------------ the Containerfile


def test_the_base_is_a_slim_python_pinned_by_tag():
    [base] = the("FROM")
    m = re.fullmatch(r"(?:docker\.io/library/)?python:(\d+)\.(\d+)\.(\d+)-slim-(\w+)"
                     r"(@sha256:[0-9a-f]{64})?", base)
    assert m, f"not a slim Python image pinned to an exact release: {base}"
    assert (int(m.group(1)), int(m.group(2))) >= (3, 11)


def test_it_installs_exactly_as_the_readme_does():
    """The README's install and first assessment, as RUN steps (pip's own cache left out
    of the image is the only flag added)."""
    [readme] = [line for line in README.splitlines()
                if line.startswith("python3 -m venv .venv && .venv/bin/pip install . &&")]
    runs = " && ".join(the("RUN")).replace(" --no-cache-dir", "")
    for step in readme.split(" && "):
        assert step in runs, step


def test_it_runs_as_a_user_that_is_not_root():
    users = the("USER")
    assert users, "no USER: the service would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_no_secret_is_given_by_env_or_build_arg():
    for kw in ("ENV", "ARG", "LABEL"):
        for args in the(kw):
            assert not re.search(r"token|secret|password|key", args, re.I), (kw, args)
    args = entrypoint()
    assert "--token" not in args
    assert args[args.index("--tokens-file") + 1].startswith("/run/secrets/")
    assert args[args.index("--secret-file") + 1].startswith("/run/secrets/")


def test_it_exposes_its_port_and_stops_on_sigterm():
    args = entrypoint()
    assert args[:2] == ["riskassess", "serve"]
    assert the("EXPOSE") == [args[args.index("--port") + 1]]
    assert the("STOPSIGNAL") == ["SIGTERM"]


def test_the_cache_is_built_into_the_image_as_the_user_who_reads_it():
    """assess/cache.py trusts only a folder of the user running: the step that fills it
    must run after USER, with RISKASSESS_CACHE_DIR set to an absolute folder."""
    env = " ".join(the("ENV"))
    m = re.search(r"RISKASSESS_CACHE_DIR=(\S+)", env)
    assert m and m.group(1).startswith("/")
    seen = instructions()
    first_user = next(i for i, (kw, _) in enumerate(seen) if kw == "USER")
    warm = [i for i, (kw, args) in enumerate(seen)
            if kw == "RUN" and "riskassess evaluate" in args]
    assert warm and warm[0] > first_user


def test_the_healthcheck_needs_no_curl_and_asks_healthz():
    cmd = healthcheck()
    assert not {"curl", "wget"} & {Path(c).name for c in cmd}
    assert "/healthz" in " ".join(cmd)


def run_healthcheck(url: str) -> subprocess.CompletedProcess:
    """The image's HEALTHCHECK command, with this Python in place of the image's."""
    cmd = healthcheck()
    assert Path(cmd[0]).name.startswith("python")
    return subprocess.run([sys.executable, *cmd[1:]], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "RISKASSESS_HEALTH_URL": url})


def test_the_healthcheck_passes_on_a_live_service_and_fails_on_a_stopped_one():
    server = Server()
    try:
        assert run_healthcheck(f"{server.base}/healthz").returncode == 0
    finally:
        assert server.stop() == 0
    assert run_healthcheck(f"{server.base}/healthz").returncode != 0


def test_the_healthcheck_speaks_tls_when_told(tmp_path):
    """With --tls-cert, RISKASSESS_HEALTH_URL=https://... (deploy/README.md): the check
    passes on the service's self-signed certificate, and plain http on it fails."""
    if "--tls-cert" not in serve_options():
        pytest.skip("riskassess serve has no --tls-cert yet")
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=riskassess.test"],
                   check=True, capture_output=True, timeout=60)
    key.chmod(0o600)
    proc = subprocess.Popen([*TOOL, "serve", "--port", "0", "--tls-cert", str(cert),
                             "--tls-key", str(key)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=tool_env())
    try:
        base = listening(proc)
        assert base and base.startswith("https://"), "the TLS server did not start"
        assert run_healthcheck(f"{base}/healthz").returncode == 0
        plain = base.replace("https://", "http://")
        assert run_healthcheck(f"{plain}/healthz").returncode != 0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0


@pytest.fixture
def secrets(tmp_path: Path):
    """The tokens and the session secret as a container gets them: read-only files in a
    read-only folder (made writable again for pytest to remove)."""
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / "riskassess-tokens").write_text("ops: a-long-enough-deploy-token-0123\n")
    (folder / "riskassess-secret").write_bytes(os.urandom(32))
    for f in folder.iterdir():
        f.chmod(0o400)
    folder.chmod(0o500)
    yield folder
    folder.chmod(0o700)


@pytest.fixture
def cache(tmp_path: Path):
    """RISKASSESS_CACHE_DIR of the image: empty, private (made writable again at the end,
    for pytest to remove)."""
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    yield folder
    folder.chmod(0o700)


def read_only(cache: Path) -> dict[str, tuple[int, int]]:
    """Make the cache read-only as the image's root file system is (a folder of 0500,
    files of 0400: what the cache still trusts), and note its files, to compare after;
    the comparison is what holds for root, whom modes do not stop."""
    for f in cache.iterdir():
        f.chmod(0o400)
    cache.chmod(0o500)
    return snapshot(cache)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


def container_args(secrets: Path, audit: Path) -> list[str]:
    """The ENTRYPOINT's arguments as they would run here: the secrets and the audit log
    at their places under tmp_path, and loopback on a free port instead of every address
    (a test listens on nothing else)."""
    args = entrypoint()[2:]
    places = {"/run/secrets": str(secrets), str(Path(args[args.index("--audit-log") + 1])
                                                    .parent): str(audit)}
    out = []
    for a in args:
        for old, new in places.items():
            if a.startswith(old + "/"):
                a = new + a[len(old):]
        out.append(a)
    return [*out, "--host", "127.0.0.1", "--port", "0"]


def check_served(server: Server, cache: Path, before: dict, audit: Path) -> None:
    """Healthy by the image's own check, the tokens file in force, an assessment in the
    audit trail, stopped by SIGTERM with exit 0, and nothing written into the cache."""
    token = {"authorization": "Bearer a-long-enough-deploy-token-0123"}
    with httpx.Client(base_url=server.base, timeout=60) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/v1/rulesets").status_code == 401
        assert client.get("/v1/rulesets", headers=token).status_code == 200
        case = (ROOT / "examples" / "religious-objector.yaml").read_bytes()
        done = client.post("/v1/assessments", content=case,
                           headers={**token, "content-type": "application/yaml"})
        assert done.status_code == 200
    assert run_healthcheck(f"{server.base}/healthz").returncode == 0
    assert server.stop() == 0  # STOPSIGNAL
    [trail] = audit.iterdir()
    assert trail.read_text(encoding="utf-8").count("\n") >= 1
    assert snapshot(cache) == before, "the service wrote into the image's cache"


def test_served_with_the_images_arguments_secrets_and_cache(tmp_path, secrets, cache):
    """As the container runs it: the image's ENTRYPOINT arguments, the secrets from
    read-only files, the cache filled by the image's own step and never written after."""
    needs_secret_options()
    warm = next(a for a in the("RUN") if "riskassess evaluate" in a)
    example = re.search(r"evaluate (\S+)", warm).group(1)
    done = subprocess.run([*TOOL, "evaluate", str(ROOT / example)], capture_output=True,
                          env=tool_env(RISKASSESS_CACHE_DIR=str(cache)), timeout=300)
    assert done.returncode == 0 and any(cache.glob("*.pickle"))
    before = read_only(cache)
    audit = tmp_path / "log"
    audit.mkdir(mode=0o700)
    server = Server(*container_args(secrets, audit),
                    env={"RISKASSESS_CACHE_DIR": str(cache)})
    check_served(server, cache, before, audit)


# ------------------------------------------------- the install steps, outside a container


def copy_step(args: str, src: Path, work: Path) -> None:
    """COPY SRC... DEST, relative to the build context and WORKDIR."""
    *sources, dest = [a for a in shlex.split(args) if not a.startswith("--")]
    target = work / dest
    for s in sources:
        if (src / s).is_dir():
            shutil.copytree(src / s, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / s, target / Path(s).name)


def listening(proc: subprocess.Popen, wait: float = 120) -> str | None:
    """The address a server says it listens on, or None (it ended, or said nothing in
    time); its standard error is read on in a thread so that it never blocks."""
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            m = re.search(r"listening on (https?://\S+?)/ ", line)
            if m and not found:
                found.append(m.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    ready.wait(wait)
    return found[0] if found else None


@pytest.mark.slow
def test_the_images_install_steps_run_offline(tmp_path, secrets, cache):
    """The Containerfile's COPY steps and its RUN steps that use the venv, run as written
    in a fresh folder; pip offline, from RISKASSESS_WHEELHOUSE (a folder made once with
    `pip wheel -w DIR . hatchling`): a test reaches no network. Then the service of that
    fresh install answers /healthz without writing into the cache it built."""
    wheels = os.environ.get("RISKASSESS_WHEELHOUSE")
    if not wheels or not Path(wheels).is_dir():
        pytest.skip("the install needs the dependencies' wheels offline: make a folder with "
                    "`pip wheel -w DIR . hatchling` and set RISKASSESS_WHEELHOUSE=DIR")
    work = tmp_path / "opt-riskassess"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=wheels, PIP_CONFIG_FILE=os.devnull,
               RISKASSESS_CACHE_DIR=str(cache), PATH=f"{work}/.venv/bin:{env['PATH']}")
    ran = 0
    for kw, args in instructions():
        if kw == "COPY":
            copy_step(args, ROOT, work)
        elif kw == "RUN" and ".venv" in args:
            done = subprocess.run(["sh", "-c", args], cwd=work, env=env, capture_output=True,
                                  text=True, timeout=600)
            assert done.returncode == 0, f"RUN {args}\n{done.stdout}\n{done.stderr}"
            ran += 1
    assert ran >= 2  # the install and the first assessment
    assert any(cache.glob("*.pickle")) and any(cache.glob("checked-*"))
    before = read_only(cache)
    fresh = [str(work / ".venv" / "bin" / "python"), "-P", "-m", "riskassess"]
    known = subprocess.run([*fresh, "serve", "--help"], capture_output=True, text=True,
                           env={**env, "COLUMNS": "200"}, timeout=120).stdout
    if all(o in known for o in SECRET_OPTIONS):
        args = container_args(secrets, tmp_path)
    else:  # before serve has them: the install alone is what this test can show
        args = ["--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen([*fresh, "serve", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)
    try:
        base = listening(proc)
        assert base, "the fresh install's server did not start"
        assert httpx.get(f"{base}/healthz", timeout=30).status_code == 200
        assert run_healthcheck(f"{base}/healthz").returncode == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    assert snapshot(cache) == before


# ------------------------------------------------------------------ the systemd unit


def unit() -> dict[str, list[str]]:
    """The unit's settings: name -> values (a setting may be given several times)."""
    out: dict[str, list[str]] = {}
    text = UNIT.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            name, _, value = line.partition("=")
            out.setdefault(name.strip(), []).append(" ".join(value.split()))
    return out


def test_the_unit_confines_the_service():
    u = unit()
    assert u.get("DynamicUser") == ["yes"] or u.get("User", ["root"]) != ["root"]
    for name, value in (("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                        ("PrivateTmp", "yes"), ("NoNewPrivileges", "yes"),
                        ("Restart", "on-failure")):
        assert u.get(name) == [value], name
    assert u.get("KillSignal", ["SIGTERM"]) == ["SIGTERM"]  # systemd's default
    assert u["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert "LogsDirectory" in u or "StateDirectory" in u
    assert int(u["TimeoutStopSec"][0]) > 30  # above serve's --timeout: in flight answered


def test_the_unit_gives_the_secrets_as_credentials():
    u = unit()
    creds = dict(v.split(":", 1) for v in u["LoadCredential"])
    assert {"riskassess-tokens", "riskassess-secret"} <= creds.keys()
    [start] = u["ExecStart"]
    args = shlex.split(start)
    assert args[args.index("--tokens-file") + 1] == "%d/riskassess-tokens"
    assert args[args.index("--secret-file") + 1] == "%d/riskassess-secret"
    assert "--token" not in args and not any("TOKEN" in e for e in u.get("Environment", []))
    cache = next(e for e in u["Environment"] if e.startswith("RISKASSESS_CACHE_DIR="))
    assert cache == "RISKASSESS_CACHE_DIR=%C/" + u["CacheDirectory"][0]
    assert args[args.index("--audit-log") + 1].startswith("%L/" + u["LogsDirectory"][0] + "/")


def test_the_unit_passes_systemd_analyze_verify(tmp_path):
    """`systemd-analyze verify` prints nothing (an unknown setting is only a warning, so
    the output is checked, not just the exit code). ExecStart's program must exist: the
    unit's path is replaced by this machine's tool."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("no systemd-analyze on this machine")
    tool = shutil.which("riskassess", path=str(Path(sys.executable).parent))
    assert tool
    [start] = unit()["ExecStart"]
    program = start.split()[0]
    copy = tmp_path / UNIT.name
    copy.write_text(UNIT.read_text(encoding="utf-8").replace(program, tool),
                    encoding="utf-8")
    done = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), \
        done.stdout + done.stderr
    bad = tmp_path / "bad.service"  # the check itself: a misspelt setting is reported
    bad.write_text(copy.read_text().replace("ProtectSystem=", "ProtectSytem="))
    done = subprocess.run([analyze, "verify", str(bad)], capture_output=True, text=True,
                          timeout=120)
    assert "ProtectSytem" in done.stdout + done.stderr


def test_the_unit_and_the_image_pass_options_serve_knows():
    needs_secret_options()
    known = serve_options()
    [start] = unit()["ExecStart"]
    for args in (shlex.split(start)[2:], entrypoint()[2:]):
        for option in (a for a in args if a.startswith("--")):
            assert option in known, option
