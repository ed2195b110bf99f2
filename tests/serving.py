"""A real `riskassess serve` in a subprocess, on a free loopback port, for the tests."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time

from conftest import TOOL, tool_env

TODAY = "2026-12-01"


class Server:
    """`riskassess serve --port 0 ARGS` started and waited for; its log kept."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, today: str = TODAY):
        cmd = [*TOOL, "serve", "--port", "0", *args]
        if today:
            cmd += ["--today", today]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=tool_env(**(env or {})))
        self._start()

    def _start(self) -> None:
        """Wait for the start line of `self.proc` (a subclass may start it otherwise)."""
        self.lines: list[str] = []
        self._ready = threading.Event()
        self.base = ""
        threading.Thread(target=self._drain, daemon=True).start()
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        if not self._ready.wait(90) or not self.base:
            self.proc.kill()
            raise RuntimeError("the server did not start:\n" + self.log())
        self.port = int(self.base.rsplit(":", 1)[1].rstrip("/"))

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)
            m = re.search(r"listening on (http://\S+?/) ", line)
            if m:
                self.base = m.group(1).rstrip("/")
                self._ready.set()
        self._ready.set()  # it ended

    def log(self) -> str:
        return "".join(self.lines)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def wait_logged(self, text: str, timeout: float = 10) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if text in self.log():
                return True
            time.sleep(0.05)
        return False


def form_post(c, pairs: list[tuple[str, str]]):
    """A form post as a browser sends it (urlencoded, each pair in order)."""
    from urllib.parse import urlencode

    return c.post("/", content=urlencode(pairs).encode(),
                  headers={"content-type": "application/x-www-form-urlencoded"})


def form_data(case) -> list[tuple[str, str]]:
    """What a person entering a case file's facts in the form sends (written from the
    case file, or its data, not from the form's own code)."""
    from riskassess.io.reader import read_yaml_file

    data = case if isinstance(case, dict) else read_yaml_file(case).data
    out = [("case_id", data.get("case_id") or ""),
           ("assessment_date", str(data.get("assessment_date") or ""))]
    for group, facts in data.items():
        if not isinstance(facts, dict):
            continue
        for key, value in facts.items():
            name = f"{group}.{key}"
            if isinstance(value, list):
                out.append((name, "listed"))
                out += [(name + ":item", item) for item in value]
            elif isinstance(value, bool):
                out.append((name, "true" if value else "false"))
            else:
                out.append((name, str(value)))
    return out
