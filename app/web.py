"""The HTTP edge of the served app: routes it does not use are closed, API requests are
checked before Gradio parses them, and every response carries headers against framing and
content sniffing.

Gradio serves more than this app needs. Its monitoring dashboard (`/monitoring`,
`/monitoring/summary`) shows call counts per handler, uploads included, to anyone, and its deep
links (`/gradio_api/deep_link`) save a session's component values, the admin password field
among them, to a file anyone can then download. The app uses neither, so both answer 404 here,
before Gradio sees the request. The headers keep the admin tab from being framed by another
page (X-Frame-Options, CSP frame-ancestors) and files from being sniffed into another type.

Event and API calls (`/gradio_api/queue/join`, `/gradio_api/call/…`, `/gradio_api/run/…`) carry
a question or a few settings, never a file (uploads have their own route): a body over 1 MB is
refused (a 30 MB value used to be accepted and kept in memory), and one that is not a JSON
object with a `data` list is refused with a Chinese message (`{}` raised a KeyError inside
Gradio, with a traceback in the log).
"""

from __future__ import annotations

import json
import re

CLOSED_ROUTE = re.compile(r"^(?:/gradio_api)?/(?:monitoring|deep_link)(?:/.*)?$")
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
NOT_FOUND = "未找到该页面。".encode()
API_ROUTE = re.compile(r"^/gradio_api/(?:queue/join|call/[^/]+|run/[^/]+)/?$")
MAX_API_BODY = 1 << 20


class Hardening:
    """ASGI middleware: 404 for the closed routes, security headers on every HTTP response.
    Pure ASGI (no response buffering), so Gradio's streamed queue responses pass unchanged."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if CLOSED_ROUTE.match(path):
            await _refuse(send, 404, NOT_FOUND)
            return
        if scope.get("method") == "POST" and API_ROUTE.match(path):
            body, problem = await _read_api_body(receive)
            if problem:
                await _refuse(send, *problem)
                return
            receive = _replay(body, receive)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def app_kwargs() -> dict:
    """What Gradio's FastAPI app is created with: the middleware above."""
    from starlette.middleware import Middleware

    return {"middleware": [Middleware(Hardening)]}


async def _refuse(send, status: int, message: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")] + SECURITY_HEADERS})
    await send({"type": "http.response.body", "body": message})


async def _read_api_body(receive) -> tuple[bytes, tuple[int, bytes] | None]:
    """The whole request body, or why it is refused: too large, or not {"data": [...]}."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", (400, "请求中断。".encode())
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_API_BODY:
            return b"", (413, f"请求过大（上限 {MAX_API_BODY // 1024} KB）。".encode())
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    try:
        payload = json.loads(body)
    except ValueError:
        return b"", (400, "请求格式错误：需要 JSON。".encode())
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        return b"", (400, '请求格式错误：需要 {"data": [...]}。'.encode())
    return body, None


def _replay(body: bytes, receive):
    """A `receive` that hands the already-read body to the app once, then the client's own
    messages (its disconnect)."""
    sent = False

    async def replayed():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
