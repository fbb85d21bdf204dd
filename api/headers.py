"""安全响应头 — what every response tells the browser, and what a trusted proxy tells us.

Every response (JSON, pages, assets, errors the exception handlers render) gets, unless the route
set its own:

- ``Content-Security-Policy`` (below);
- ``X-Frame-Options: DENY`` (with ``frame-ancestors 'none'``: no page is ever framed, so no
  clickjacking of the action forms);
- ``X-Content-Type-Options: nosniff``;
- ``Referrer-Policy``: ``same-origin`` (links inside the site keep their referrer, other sites get
  none), and ``no-referrer`` under ``/citizen``: the tracking link carries the citizen's token in
  its query string, and it must never travel on in a Referer header;
- ``Strict-Transport-Security: max-age=31536000`` only when the browser's request was https: the
  app's own scheme is https, or the peer is one of ``trusted_proxies`` and says
  ``X-Forwarded-Proto: https``. Never on plain http (browsers ignore it there, and a laptop on
  http://127.0.0.1 must not be pinned). ``includeSubDomains`` is left out: we do not know what
  else lives under the city's domain.

The content security policy
---------------------------

The pages are server-rendered and load everything from this origin (``/ui/static``: the stylesheet
and plotly.js, served from the installed package, never a CDN). Their only inline script is on the
statistics page: plotly's ``Plotly.newPlot(…)`` call for each chart, whose data changes with every
request, and one static ``resize`` listener. So the policy is::

    default-src 'self'; script-src 'self' 'sha256-…' …; style-src 'self' 'unsafe-inline';
    img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none';
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'

- **Scripts: no ``'unsafe-inline'``, no ``'unsafe-eval'``.** For an HTML response this middleware
  reads the body, hashes each inline ``<script>`` it finds (SHA-256 of its text, as browsers hash
  it) and lists exactly those hashes. A script injected into a page (a name or a note that slipped
  past escaping) is not in the list and does not run, while the charts do. Hashes rather than
  nonces because they need no change to the templates or to plotly's output, and the body is
  not modified (its length stays right). plotly.js v4 needs no ``eval`` for bar charts (its
  one ``new Function`` is a guarded fallback for ``globalThis``).
- **Styles: ``'unsafe-inline'``.** plotly.js writes ``<style>`` elements and ``style`` attributes
  when it draws (and ``fig.to_html`` emits a ``style`` attribute on each chart's div); its strict
  mode needs its stylesheet shipped separately, which the Python package does not do. Injected
  CSS cannot run code; it is the accepted trade-off.
- ``img-src data: blob:``: plotly's "download as png" and its icons.
- ``form-action 'self'``: the forms post to this site only; ``base-uri 'none'``: no ``<base>``
  can redirect relative URLs; ``object-src 'none'``: no plugins.

``/docs`` (Swagger UI) loads its script and stylesheet from cdn.jsdelivr.net and its icon from
fastapi.tiangolo.com, and bootstraps with an inline script: its policy adds those hosts (the inline
script is hashed like any other). ``/redoc`` would also need Google Fonts and a ``blob:`` worker;
they are allowed there in case it is turned on again.

Bodies are only read for ``text/html`` responses that carry no policy of their own and are not
compressed, up to ``HTML_MAX`` bytes (a longer page gets the policy without hashes: its inline
scripts would be blocked, the safe failure). JSON and assets stream through untouched. A 500 that
Starlette's outermost error handler renders itself does not pass through here.

Proxies: only ``trusted_proxies`` (addresses or networks) are believed about the scheme
(``X-Forwarded-Proto``) and the client (``X-Forwarded-For``, see ``client_address``). Note that
uvicorn's own ``proxy_headers`` (on by default, trusting 127.0.0.1 or ``FORWARDED_ALLOW_IPS``)
rewrites the scope's client and scheme before this middleware sees them; ``./closeloop api``
does not turn it off.

Why pure ASGI: ``BaseHTTPMiddleware`` runs the app in a separate task and has known problems with
streaming responses, background tasks and context variables; this needs none of that.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTML_MAX = 4 * 1024 * 1024
HSTS = "max-age=31536000"

_COMMON = {
    "default-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
APP_POLICY = {**_COMMON, "script-src": "'self'"}
DOCS_POLICY = {
    **_COMMON,
    "script-src": "'self' https://cdn.jsdelivr.net",
    "style-src": "'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
    "img-src": "'self' data: blob: https://fastapi.tiangolo.com https://cdn.redoc.ly",
    "font-src": "'self' data: https://fonts.gstatic.com",
    "worker-src": "'self' blob:",
}
DOCS_PATHS = ("/docs", "/redoc")

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_SRC = re.compile(r"\ssrc\s*=", re.IGNORECASE)


def policy(directives: dict[str, str], script_hashes: Iterable[str] = ()) -> str:
    parts = dict(directives)
    extra = " ".join(f"'{h}'" for h in script_hashes)
    if extra:
        parts["script-src"] = f"{parts['script-src']} {extra}"
    return "; ".join(f"{k} {v}" for k, v in parts.items())


def inline_script_hashes(html: str) -> list[str]:
    """``sha256-…`` of each inline ``<script>``'s text, as a browser computes it (after the HTML
    parser turned CR LF and CR into LF). Scripts with ``src`` are loaded, not hashed."""
    hashes: list[str] = []
    for m in _SCRIPT.finditer(html):
        if _SRC.search(m.group(1)):
            continue
        text = m.group(2).replace("\r\n", "\n").replace("\r", "\n")
        digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
        if f"sha256-{digest}" not in hashes:
            hashes.append(f"sha256-{digest}")
    return hashes


# --- what a trusted proxy says ------------------------------------------------------------------


@lru_cache(maxsize=32)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``trusted_proxies`` as networks (an address is a /32 or /128); ValueError for a bad entry."""
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies)


def check_proxies(proxies: Iterable[str]) -> None:
    """ValueError naming a ``trusted_proxies`` entry that is neither an address nor a network."""
    for p in proxies:
        try:
            _networks((p,))
        except ValueError as err:
            raise ValueError(f"trusted_proxies: {p!r} is not an IP address or network") from err


def _trusted(host: str, proxies: tuple[str, ...]) -> bool:
    if not proxies or not host:
        return False
    try:
        address = ipaddress.ip_address(host.strip().strip("[]"))
    except ValueError:
        return False
    return any(address in net for net in _networks(proxies))


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else ""


def from_trusted_proxy(scope: Scope, proxies: Iterable[str]) -> bool:
    """Whether the peer of this request is one of ``trusted_proxies``."""
    return _trusted(_peer(scope), tuple(proxies))


def is_https(scope: Scope, proxies: Iterable[str]) -> bool:
    """https as the browser sees it: the app's own scheme, or a trusted proxy's X-Forwarded-Proto."""
    if scope.get("scheme") == "https":
        return True
    if not from_trusted_proxy(scope, proxies):
        return False
    proto = Headers(scope=scope).get("x-forwarded-proto", "")
    return proto.split(",")[0].strip().lower() == "https"


def client_address(scope: Scope, proxies: Iterable[str]) -> str:
    """The client's address: the peer's, or — when the peer is a trusted proxy — the nearest
    X-Forwarded-For hop that is not itself a trusted proxy (hops further left are whatever the
    client chose to send, so they are never believed)."""
    proxies = tuple(proxies)
    peer = _peer(scope)
    if not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for v in Headers(scope=scope).getlist("x-forwarded-for") for h in v.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


# --- the middleware ------------------------------------------------------------------------------


class SecurityHeaders:
    """Pure ASGI middleware adding the headers above to every HTTP response."""

    def __init__(self, app: ASGIApp, trusted_proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.proxies = tuple(trusted_proxies)
        check_proxies(self.proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        directives = DOCS_POLICY if path.startswith(DOCS_PATHS) else APP_POLICY
        fixed = {
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer" if path.startswith("/citizen") else "same-origin",
        }
        if is_https(scope, self.proxies):
            fixed["Strict-Transport-Security"] = HSTS
        start: Message | None = None  # held back while an HTML body is read
        chunks: list[bytes] = []
        size = 0

        def headers_of(message: Message, hashes: Iterable[str] = ()) -> Message:
            message.setdefault("headers", [])  # optional in ASGI
            headers = MutableHeaders(scope=message)
            for name, value in fixed.items():
                headers.setdefault(name, value)
            headers.setdefault("Content-Security-Policy", policy(directives, hashes))
            return message

        async def flush(hashes: Iterable[str] = ()) -> None:
            nonlocal start
            assert start is not None
            await send(headers_of(start, hashes))
            start = None
            if chunks:
                await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})
                chunks.clear()

        async def send_with_headers(message: Message) -> None:
            nonlocal start, size
            if message["type"] == "http.response.start":
                headers = Headers(raw=message.get("headers", []))
                html = headers.get("content-type", "").lower().startswith("text/html")
                if html and "content-security-policy" not in headers and "content-encoding" not in headers:
                    start = message
                    return
                await send(headers_of(message))
                return
            if start is None:
                await send(message)
                return
            if message["type"] != "http.response.body":  # e.g. pathsend: no body to read
                await flush()
                await send(message)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if message.get("more_body", False):
                if size > HTML_MAX:
                    await flush()
                return
            body = b"".join(chunks)
            charset = Headers(raw=start.get("headers", [])).get("content-type", "")
            encoding = charset.partition("charset=")[2].split(";")[0].strip() or "utf-8"
            try:
                text = body.decode(encoding, errors="replace")
            except LookupError:
                text = body.decode("utf-8", errors="replace")
            chunks.clear()
            await send(headers_of(start, inline_script_hashes(text)))
            start = None
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, send_with_headers)
