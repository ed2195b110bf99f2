"""A renderer that fails, seen by a real client of a real server (issue: a long free text
once made every PDF fail with a 500, and the form's PDF button with a raw JSON page).

The failure is injected by this test's own launcher of the server (a few lines of Python
that replace the PDF layout and the Word renderer, then start `riskassess serve`), never by
a switch in the tool. The answer must be a problem document for that request only: 422 for
a document the renderer says it cannot make, 500 for a bug; the form's buttons show the
form again with the reason; nothing the failing code said (here a value of the case) reaches
the answer or the log; and the next request is served."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx
from conftest import EXAMPLES, tool_env
from serving import TODAY, Server, form_data, form_post

LAUNCHER = """
import sys
from reportlab.platypus import LayoutError
from riskassess.render import docx, pdf

def layout(doc, annex=True):  # reportlab's own message quotes the case's text
    raise LayoutError("Flowable <Paragraph 'SECRET-FACT'> too large on page 3")

def bug(outcome, options):
    raise ValueError("SECRET-FACT")

pdf.render = layout
docx.render_outcome = bug
from riskassess.cli.fast import main
sys.argv[0] = "riskassess"
main()
"""
YAML = {"content-type": "application/yaml"}


class Failing(Server):
    """`riskassess serve` started through LAUNCHER."""

    def __init__(self):
        cmd = [sys.executable, "-c", LAUNCHER, "serve", "--port", "0", "--today", TODAY]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=tool_env())
        self._start()


def test_a_failing_renderer_is_a_problem_document_for_that_request_only():
    s = Failing()
    try:
        body = (EXAMPLES / "religious-objector.yaml").read_bytes()
        with httpx.Client(base_url=s.base, timeout=120) as c:
            refused = c.post("/v1/assessments?format=pdf", content=body, headers=YAML)
            assert refused.status_code == 422, refused.text[:300]
            assert refused.headers["content-type"] == "application/problem+json"
            doc = refused.json()
            assert doc["type"].endswith(":document-not-made") and doc["exit_code"] == 6
            broken = c.post("/v1/assessments?format=docx", content=body, headers=YAML)
            assert broken.status_code == 500, broken.text[:300]
            assert broken.json()["type"].endswith(":renderer-failed")
            for r in (refused, broken):
                assert "SECRET-FACT" not in r.text
                assert r.headers["x-content-type-options"] == "nosniff"
            # the same case in a format whose renderer works, straight after
            assert c.post("/v1/assessments?format=markdown", content=body,
                          headers=YAML).status_code == 200
            # the form's buttons: the form again, with the reason and every entry kept
            page = c.get("/")
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
            c.csrf = csrf
            fields = [("csrf", csrf), *form_data(EXAMPLES / "religious-objector.yaml")]
            for action in ("pdf", "docx"):
                r = form_post(c, fields + [("action", action)])
                assert r.headers["content-type"].startswith("text/html"), r.text[:300]
                assert "SECRET-FACT" not in r.text
                assert 'value="EX-RELIGIOUS-OBJECTOR"' in r.text  # the entries are kept
        assert "SECRET-FACT" not in s.log()
        assert "Traceback" not in s.log()
    finally:
        assert s.stop() == 0, s.log()[-2000:]
