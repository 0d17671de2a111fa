"""The HTTP edge of the served app: routes it does not use are closed, and every response
carries headers against framing and content sniffing.

Gradio serves more than this app needs. Its monitoring dashboard (`/monitoring`,
`/monitoring/summary`) shows call counts per handler, uploads included, to anyone, and its deep
links (`/gradio_api/deep_link`) save a session's component values, the admin password field
among them, to a file anyone can then download. The app uses neither, so both answer 404 here,
before Gradio sees the request. The headers keep the admin tab from being framed by another
page (X-Frame-Options, CSP frame-ancestors) and files from being sniffed into another type.
"""

from __future__ import annotations

import re

CLOSED_ROUTE = re.compile(r"^(?:/gradio_api)?/(?:monitoring|deep_link)(?:/.*)?$")
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
NOT_FOUND = "未找到该页面。".encode()


class Hardening:
    """ASGI middleware: 404 for the closed routes, security headers on every HTTP response.
    Pure ASGI (no response buffering), so Gradio's streamed queue responses pass unchanged."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if CLOSED_ROUTE.match(scope.get("path", "")):
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")] + SECURITY_HEADERS})
            await send({"type": "http.response.body", "body": NOT_FOUND})
            return

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
