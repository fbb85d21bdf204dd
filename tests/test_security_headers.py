"""Security headers on every response (api/headers.py): the real app, its lifespan and database;
Temporal is not needed (the client is lazy), so none runs."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, StreamingResponse
from starlette.routing import Route

from api.headers import SecurityHeaders, client_address, inline_script_hashes
from api.main import create_app
from config import Settings
from tests.api_support import KEYS


@asynccontextmanager
async def app_client(
    tmp_path, peer: str = "127.0.0.1", base_url: str = "http://closeloop.test", **overrides
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'headers.db'}",
        temporal_address="127.0.0.1:1",  # never reached: nothing here needs a workflow
        api_keys=KEYS,
        **overrides,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(peer, 50000))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield http


def directives(r: httpx.Response) -> dict[str, list[str]]:
    policy = r.headers["content-security-policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


def assert_protected(r: httpx.Response, referrer: str = "same-origin") -> dict[str, list[str]]:
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == referrer
    csp = directives(r)
    assert csp["default-src"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["img-src"] == ["'self'", "data:", "blob:"] or "/docs" in str(r.url)
    return csp


async def test_json_routes_and_errors_carry_the_headers(tmp_path):
    async with app_client(tmp_path) as http:
        r = await http.get("/units/D-JJ/tasks", headers={"X-API-Key": "k-D-JJ"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json"), r.text
        assert assert_protected(r)["script-src"] == ["'self'"]
        assert "strict-transport-security" not in r.headers  # plain http
        for r in [
            await http.get("/units/D-JJ/tasks"),  # 401 from the error handler
            await http.get("/no/such/route"),  # 404 from routing
            await http.post("/intake/hotline_12345", content=b"{", headers={"X-API-Key": "k-intake"}),  # 400/422
        ]:
            assert r.status_code >= 400 and r.json()["error"]
            assert_protected(r)


async def test_pages_carry_the_headers(tmp_path):
    async with app_client(tmp_path) as http:
        r = await http.get("/ui/login")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
        csp = assert_protected(r)
        assert csp["script-src"] == ["'self'"]  # the login page has no inline script: none allowed
        assert csp["style-src"] == ["'self'", "'unsafe-inline'"]  # plotly draws with inline styles
        r = await http.get("/ui/static/style.css")
        assert r.status_code == 200 and r.headers["x-content-type-options"] == "nosniff"


async def test_citizen_links_never_leak_their_token_through_referer(tmp_path):
    async with app_client(tmp_path) as http:
        r = await http.get("/citizen/cases/WD-20261124-000001", params={"token": "t" * 20})
        assert r.status_code == 404
        assert_protected(r, referrer="no-referrer")


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "hsts"),
    [
        (["127.0.0.1"], "127.0.0.1", "https", True),  # our proxy terminated TLS
        (["10.0.0.0/8"], "10.1.2.3", "https", True),  # a proxy network
        ([], "127.0.0.1", "https", False),  # no proxy is trusted: anyone could send the header
        (["10.0.0.1"], "127.0.0.1", "https", False),  # not from the trusted proxy
        (["127.0.0.1"], "127.0.0.1", "http", False),  # the proxy says plain http
        (["127.0.0.1"], "127.0.0.1", None, False),
    ],
)
async def test_hsts_only_when_the_browser_used_https(tmp_path, trusted, peer, forwarded, hsts):
    headers = {"X-Forwarded-Proto": forwarded} if forwarded else {}
    async with app_client(tmp_path, peer=peer, trusted_proxies=trusted) as http:
        for path in ("/ui/login", "/citizen/cases/WD-20261124-000001"):
            r = await http.get(path, headers=headers)
            assert ("strict-transport-security" in r.headers) is hsts, (path, r.headers)
            if hsts:
                assert r.headers["strict-transport-security"] == "max-age=31536000"


async def test_hsts_when_the_app_itself_serves_https(tmp_path):
    async with app_client(tmp_path, base_url="https://closeloop.test") as http:
        r = await http.get("/ui/login")
        assert r.headers["strict-transport-security"] == "max-age=31536000"


def test_a_bad_trusted_proxy_fails_at_start():
    with pytest.raises(ValueError, match="not-an-address"):
        create_app(Settings(trusted_proxies=["not-an-address"]))


async def test_swagger_ui_may_load_from_its_cdn_and_run_its_own_inline_script(tmp_path):
    async with app_client(tmp_path, public_docs=True) as http:
        r = await http.get("/docs")
        assert r.status_code == 200, r.text
        csp = assert_protected(r)
        assert "https://cdn.jsdelivr.net" in csp["script-src"] and "https://cdn.jsdelivr.net" in csp["style-src"]
        inline = re.search(r"<script>(.*?)</script>", r.text, re.DOTALL).group(1)
        expected = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"'sha256-{expected}'" in csp["script-src"]
        r = await http.get("/ui/login")  # the CDN is for the docs only
        assert "https://cdn.jsdelivr.net" not in r.headers["content-security-policy"]


# --- the middleware alone -------------------------------------------------------------------------

PAGE = '<html><head><script src="/a.js"></script></head><body><script type="text/javascript">\r\nPlotly.newPlot("c", [1]);\r\n</script><SCRIPT>go()</SCRIPT><script>go()</script></body></html>'  # noqa: E501


def sha(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_inline_scripts_are_hashed_as_browsers_hash_them():
    # CR LF becomes LF in the parser before the browser hashes; scripts with src are not hashed;
    # the same script twice is listed once
    assert inline_script_hashes(PAGE) == [sha('\nPlotly.newPlot("c", [1]);\n'), sha("go()")]


def _mini_app() -> SecurityHeaders:
    async def page(_):
        return HTMLResponse(PAGE)

    async def chunked(_):
        async def parts():
            yield b"<html><body><script>one()"
            yield b"</script></body></html>"

        return StreamingResponse(parts(), media_type="text/html")

    async def stream(_):
        async def parts():
            for n in range(3):
                yield f"{n}\n".encode()

        return StreamingResponse(parts(), media_type="text/plain")

    async def own(_):
        return HTMLResponse("<p>x</p>", headers={"Content-Security-Policy": "default-src 'none'"})

    routes = [Route("/page", page), Route("/chunked", chunked), Route("/stream", stream), Route("/own", own)]
    return SecurityHeaders(Starlette(routes=routes), trusted_proxies=["192.0.2.0/24"])


async def test_the_middleware_on_html_streams_and_its_own_policies():
    transport = httpx.ASGITransport(app=_mini_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        r = await http.get("/page")
        assert r.text == PAGE and int(r.headers["content-length"]) == len(PAGE.encode())
        src = directives(r)["script-src"]
        assert src == ["'self'", *(f"'{h}'" for h in inline_script_hashes(PAGE))] and len(src) == 3
        r = await http.get("/chunked")  # a body in several messages is read whole
        assert r.text.endswith("</html>") and f"'{sha('one()')}'" in directives(r)["script-src"]
        r = await http.get("/stream")
        assert r.text == "0\n1\n2\n" and directives(r)["script-src"] == ["'self'"]
        r = await http.get("/own")  # a route's own policy stands
        assert r.headers["content-security-policy"] == "default-src 'none'" and r.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not a proxy: its header means nothing
        ("192.0.2.10", "198.51.100.1", "198.51.100.1"),
        ("192.0.2.10", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the left hops are the client's to invent
        ("192.0.2.10", "198.51.100.1, 192.0.2.11", "198.51.100.1"),  # two proxies of ours
        ("192.0.2.10", None, "192.0.2.10"),
    ],
)
def test_client_address(peer, forwarded, expected):
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope = {"type": "http", "client": (peer, 1), "headers": headers}
    assert client_address(scope, ["192.0.2.0/24"]) == expected
