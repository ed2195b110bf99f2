"""The service's style sheets, as a browser fetches them from a real server: a strong
ETag made from their bytes, `Cache-Control: no-cache` (kept, revalidated, never stale
after a release) instead of the service's `no-store`, and a 304 with no body when the
browser's copy is current."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from serving import Server

from riskassess.render.templating import TEMPLATES


@pytest.fixture(scope="module")
def client():
    s = Server()
    with httpx.Client(base_url=s.base, timeout=60) as c:
        yield c
    assert s.stop() == 0, s.log()


@pytest.mark.parametrize("name", ["form.css", "report.css"])
def test_etag_and_revalidation(client, name):
    data = (TEMPLATES / name).read_bytes()
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    r = client.get(f"/static/{name}")
    assert r.status_code == 200 and r.content == data
    assert r.headers["etag"] == etag  # strong: no W/
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["content-type"] == "text/css; charset=utf-8"
    for given in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(f"/static/{name}", headers={"if-none-match": given})
        assert again.status_code == 304, given
        assert again.content == b"" and "content-length" not in again.headers
        assert again.headers["etag"] == etag and again.headers["cache-control"] == "no-cache"
        assert "default-src 'none'" in again.headers["content-security-policy"]
    for given in ('"other"', etag[:-2] + '"', etag.strip('"')):  # not this file's tag
        r = client.get(f"/static/{name}", headers={"if-none-match": given})
        assert r.status_code == 200 and r.content == data, given


def test_the_two_sheets_have_their_own_tags_and_the_rest_stays_no_store(client):
    tags = {client.get(f"/static/{n}").headers["etag"] for n in ("form.css", "report.css")}
    assert len(tags) == 2
    assert client.get("/healthz").headers["cache-control"] == "no-store"
    missing = client.get("/static/nope.css", headers={"if-none-match": "*"})
    assert missing.status_code == 404 and missing.headers["cache-control"] == "no-store"
