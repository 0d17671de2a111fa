"""The HTTP edge of the served app: what reaches Gradio, who may do what, and how much.

Gradio serves more than this app needs, with defaults made for demos. This ASGI middleware
(pure ASGI: no response buffering, so Gradio's streamed queue responses pass unchanged) sits in
front of it and decides, before Gradio parses anything:

- **Closed routes.** The monitoring dashboard (`/monitoring…` showed call counts per handler,
  uploads included) and deep links (`/gradio_api/deep_link` saved a session's component values
  to a file anyone could download) answer 404.
- **Admin sign-in.** `POST /admin/login` exchanges the password, slowed down per client by
  `PasswordGuard`, for a token in an HttpOnly, SameSite=Strict cookie (`AdminSessions`);
  `POST /admin/logout` ends it. Admin event handlers (upload, rebuild) and Gradio's upload route
  are refused with 403 without a valid cookie — a session hash alone, replayed from elsewhere,
  is nothing. Uploads must say their size (Content-Length), are refused above it before a byte
  is written, and the app's own temporary folder is trimmed, oldest first, to a size cap.
- **API bodies.** Event and API calls carry a question or a few settings, never a file: a body
  over 1 MB is refused (413), one that is not a JSON object with a `data` list too (400).
- **A fair share.** Each client (its address; behind a trusted reverse proxy, the address the
  proxy reports) may have a few requests queued or running; more are refused at once with 429
  and a Chinese message instead of queueing behind them (one client once queued 400 long
  searches and made everyone else wait 112 s). The whole queue is bounded too (503).
- **Headers.** Every response forbids framing (X-Frame-Options, CSP frame-ancestors) and
  content sniffing.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from .admin import TOKEN_COOKIE, AdminSessions, PasswordGuard
from .inputs import checked_inputs

CLOSED_ROUTE = re.compile(r"^(?:/gradio_api)?/(?:monitoring|deep_link)(?:/.*)?$")
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
NOT_FOUND = "未找到该页面。"
QUEUED_ROUTE = re.compile(r"^/gradio_api/(?:queue/join|call/(?:v2/)?(?P<call>[^/]+))/?$")
DIRECT_ROUTE = re.compile(r"^/gradio_api/(?:run|api)/(?P<name>[^/]+)/?$")
UPLOAD_ROUTE = re.compile(r"^/gradio_api/upload/?$")
LOGIN_ROUTE = "/admin/login"
LOGOUT_ROUTE = "/admin/logout"
MAX_API_BODY = 1 << 20
MAX_LOGIN_BODY = 4096
PER_CLIENT = 4  # requests one client may have queued or running; a page sends two or three per question
QUEUE_SIZE = 64  # requests waiting in all; concurrency is what two cores serve (four at a time)
MAX_UPLOAD_REQUEST = 5 * 20 * 1048576 + 1048576  # five summaries of 20 MB, and the form around them
TEMP_CAP = 1 << 30  # the app's temporary folder (uploads, exports) is trimmed to this


@dataclass
class Edge:
    """What the middleware enforces for one served app."""

    mode: str = "open"  # "password", "open" (loopback without a password) or "off" (no admin tab)
    sessions: AdminSessions = field(default_factory=AdminSessions)
    guard: PasswordGuard = field(default_factory=PasswordGuard)
    admin_handlers: frozenset[str] = frozenset({"upload", "rebuild"})
    trusted_proxies: frozenset[str] = frozenset()  # addresses whose X-Forwarded-For is believed
    temp: Path | None = None
    per_client: int = PER_CLIENT
    queue_size: int = QUEUE_SIZE
    _direct: Counter = field(default_factory=Counter)  # client -> direct API calls running
    _joining: Counter = field(default_factory=Counter)  # client -> queue joins being accepted

    def client(self, peer: str, headers) -> str:
        """Who a request comes from: the peer address, or behind a trusted proxy the nearest
        address in X-Forwarded-For that is not itself a trusted proxy."""
        if peer in self.trusted_proxies:
            for address in reversed([a.strip() for a in headers.get("x-forwarded-for", "").split(",")]):
                if address and address not in self.trusted_proxies:
                    return address
        return peer

    def is_admin(self, cookie_header: str | None = None, token: str | None = None) -> bool:
        if self.mode == "open":
            return True
        if self.mode == "off":
            return False
        return self.sessions.valid(token if token is not None else _cookie(cookie_header, TOKEN_COOKIE))

    def load(self, blocks, client: str) -> tuple[int, int]:
        """(this client's requests in flight: in Gradio's queue, running, or being accepted
        here; all requests waiting in the queue)."""
        mine = self._joining[client] + self._direct[client]
        queue = getattr(blocks, "_queue", None)
        if queue is None:
            return mine, 0
        pending = [e for q in list(queue.event_queue_per_concurrency_id.values()) for e in list(q.queue)]
        running = [e for job in list(queue.active_jobs) if job for e in job]
        return mine + sum(1 for e in pending + running if self._event_client(e) == client), len(pending)

    def _event_client(self, event) -> str:
        request = getattr(event, "request", None)
        if request is None:
            return ""
        return self.client(request.client.host if request.client else "", request.headers)


class Hardening:
    """ASGI middleware enforcing an `Edge` in front of Gradio's FastAPI app."""

    def __init__(self, app, edge: Edge | None = None):
        self.app = app
        self.edge = edge or Edge()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        edge = self.edge
        path, method = scope.get("path", ""), scope.get("method")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        client = edge.client((scope.get("client") or ("", 0))[0], headers)
        send = _with_headers(send)
        if CLOSED_ROUTE.match(path):
            await _refuse(send, 404, NOT_FOUND)
            return
        if method == "POST" and path in (LOGIN_ROUTE, LOGOUT_ROUTE):
            await self._sign(scope, receive, send, headers, client, path == LOGIN_ROUTE)
            return
        if method == "POST" and UPLOAD_ROUTE.match(path):
            problem = self._upload_problem(headers)
            if problem:
                await _refuse(send, *problem)
                return
            await self.app(scope, receive, send)
            return
        queued, direct = QUEUED_ROUTE.match(path), DIRECT_ROUTE.match(path)
        if method != "POST" or not (queued or direct):
            await self.app(scope, receive, send)
            return
        blocks = _blocks(scope)
        mine, waiting = edge.load(blocks, client)  # before the body is even read: refusing is cheap
        if mine >= edge.per_client:
            await _refuse(send, 429, f"您的请求过多（同时最多 {edge.per_client} 个）：请等上一个问题回答后再问。",
                          [(b"retry-after", b"2")])
            return
        if waiting >= edge.queue_size:
            await _refuse(send, 503, "服务器正忙：请稍后再试。", [(b"retry-after", b"5")])
            return
        counter = edge._direct if direct else edge._joining
        counter[client] += 1
        try:
            body, payload, problem = await _read_json(receive, MAX_API_BODY)
            if not problem and not isinstance(payload.get("data"), list):
                problem = (400, '请求格式错误：需要 {"data": [...]}。')
            fn = _handler(blocks, payload, queued, direct) if not problem else None
            name = getattr(getattr(fn, "fn", None), "__name__", "")
            if not problem and name in edge.admin_handlers and not edge.is_admin(headers.get("cookie")):
                problem = (403, "需要管理员登录。" if edge.mode != "off" else "此服务器未开放管理功能。")
            if not problem and fn is not None:
                body, problem = checked_inputs(scope.get("app"), fn, payload, body, edge.temp)
            if problem:
                await _refuse(send, *problem)
                return
            await self.app(scope, _replay(body, receive), _errors_as_400(send) if direct else send)
        finally:
            counter[client] -= 1
            if counter[client] <= 0:
                del counter[client]

    async def _sign(self, scope, receive, send, headers, client, signing_in: bool) -> None:
        edge = self.edge
        token = _cookie(headers.get("cookie"), TOKEN_COOKIE)
        secure = "; Secure" if scope.get("scheme") == "https" or headers.get("x-forwarded-proto") == "https" else ""
        if not signing_in:
            edge.sessions.revoke(token)
            await _json(send, 200, {"ok": True, "message": "已退出管理。"},
                        [(b"set-cookie", f"{TOKEN_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict{secure}".encode())])
            return
        if edge.mode == "off":
            await _json(send, 403, {"ok": False, "message": "此服务器未开放管理功能。"})
            return
        _, payload, problem = await _read_json(receive, MAX_LOGIN_BODY)
        given = payload.get("password") if not problem else None
        if not isinstance(given, str):
            await _json(send, 400, {"ok": False, "message": "请求格式错误：需要 {\"password\": \"…\"}。"})
            return
        allowed, reason = edge.guard.check(client, given)
        if not allowed:
            await _json(send, 403, {"ok": False, "message": "密码错误。" if reason == "需要管理员密码。" else reason})
            return
        token = edge.sessions.issue()
        cookie = (f"{TOKEN_COOKIE}={token}; Max-Age={int(edge.sessions.lifetime)}; Path=/; HttpOnly; "
                  f"SameSite=Strict{secure}")
        await _json(send, 200, {"ok": True, "message": "已进入管理。"}, [(b"set-cookie", cookie.encode())])

    def _upload_problem(self, headers: dict[str, str]) -> tuple[int, str] | None:
        """Why an upload is refused before its body is read, or None."""
        edge = self.edge
        if not edge.is_admin(headers.get("cookie")):
            return 403, "需要管理员登录后才能上传。" if edge.mode != "off" else "此服务器未开放管理功能。"
        try:
            size = int(headers.get("content-length", ""))
        except ValueError:
            return 411, "上传需要注明大小（Content-Length）。"
        if size > MAX_UPLOAD_REQUEST:
            return 413, f"上传过大（一次最多 {MAX_UPLOAD_REQUEST // 1048576} MB）。"
        if edge.temp is not None and not trim_temp(edge.temp, TEMP_CAP - size):
            return 507, "服务器临时空间不足：请稍后再试。"
        return None


def app_kwargs(edge: Edge | None = None) -> dict:
    """What Gradio's FastAPI app is created with: the middleware above."""
    from starlette.middleware import Middleware

    return {"middleware": [Middleware(Hardening, edge=edge)]}


def trim_temp(folder: Path, budget: int) -> bool:
    """Remove the oldest files under `folder` until what remains fits in `budget` bytes;
    False when even an empty folder would not leave that much room."""
    if budget < 0:
        return False
    files = []
    for path in folder.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                info = path.stat()
                files.append((info.st_mtime, info.st_size, path))
        except OSError:
            continue
    total = sum(size for _, size, _ in files)
    for _, size, path in sorted(files):
        if total <= budget:
            break
        try:
            path.unlink()
            total -= size
        except OSError:
            continue
    return total <= budget


def _blocks(scope):
    app = scope.get("app")
    return app.get_blocks() if app is not None and hasattr(app, "get_blocks") else None


def _handler(blocks, payload: dict, queued, direct):
    """The event handler (Gradio BlockFunction) a request calls, or None when there is none."""
    name = (queued and queued.group("call")) or (direct and direct.group("name"))
    fns = getattr(blocks, "fns", {}) if blocks is not None else {}
    if name:
        return next((f for f in fns.values() if getattr(f, "api_name", None) == name), None)
    index = payload.get("fn_index")
    return fns.get(index) if isinstance(index, int) else None


def _errors_as_400(send):
    """Gradio answers a direct API call whose handler raised gr.Error (a blank question) with 500;
    that is the client's mistake, and says so: 400 (internal errors carry no message and stay 500)."""
    start = None

    async def sending(message):
        nonlocal start
        if message["type"] == "http.response.start" and message.get("status") == 500:
            start = message
            return
        if start is not None and message["type"] == "http.response.body":
            try:
                known = json.loads(message.get("body", b"") or b"{}").get("error") is not None
            except (ValueError, AttributeError):
                known = False
            await send({**start, "status": 400 if known else 500})
            start = None
        await send(message)

    return sending


def _cookie(header: str | None, name: str) -> str | None:
    if not header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # noqa: BLE001 - a malformed Cookie header is no cookie
        return None
    return jar[name].value if name in jar else None


def _with_headers(send):
    async def send_with_headers(message):
        if message["type"] == "http.response.start":
            present = {name.lower() for name, _ in message.get("headers", [])}
            extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
            message = {**message, "headers": list(message.get("headers", [])) + extra}
        await send(message)

    return send_with_headers


async def _refuse(send, status: int, message: str, headers: list | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")] + (headers or [])})
    await send({"type": "http.response.body", "body": message.encode()})


async def _json(send, status: int, payload: dict, headers: list | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"cache-control", b"no-store")] + (headers or [])})
    await send({"type": "http.response.body", "body": json.dumps(payload, ensure_ascii=False).encode()})


async def _read_json(receive, limit: int) -> tuple[bytes, dict, tuple[int, str] | None]:
    """The whole request body and its JSON object, or why it is refused: too large, not JSON."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", {}, (400, "请求中断。")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", {}, (413, f"请求过大（上限 {max(limit // 1024, 1)} KB）。")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    try:
        payload = json.loads(body)
    except ValueError:
        return b"", {}, (400, "请求格式错误：需要 JSON。")
    if not isinstance(payload, dict):
        return b"", {}, (400, "请求格式错误：需要 JSON 对象。")
    return body, payload, None


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
