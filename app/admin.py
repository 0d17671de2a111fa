"""Administration: index status, safe uploads into seeds/, the admin password and its guard.

Uploads are the one place where users write files on the server, so every name is reduced to
a plain file name inside `seeds/`, only summary formats and sizes are accepted, a file is only
kept when it reads as a summary (the same check the index applies), and an existing document is
only replaced when the administrator confirms it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import unicodedata
from pathlib import Path

from .config import Settings
from .documents import MAX_DOCUMENT_BYTES, SUPPORTED_SUFFIXES, SkippedFile, load
from .index import current_name, is_stale, load_manifest

MAX_UPLOAD_BYTES = MAX_DOCUMENT_BYTES
MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 240  # file systems allow 255 bytes a name; a Chinese character takes 3
PASSWORD_VARIABLE = "QA_ADMIN_PASSWORD"


TOKEN_COOKIE = "qa_admin"
TOKEN_LIFETIME = 8 * 3600  # seconds an admin sign-in lasts: a working day
MAX_TOKENS = 1000
FREE_ATTEMPTS = 3  # wrong passwords a client may type before it is slowed down (typos)
MAX_WAIT = 300  # seconds
MAX_CLIENTS = 10_000

log = logging.getLogger(__name__)


class UploadRejected(ValueError):
    """An upload that was not stored; the message says why, in Chinese."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def admin_mode(host: str, password: str | None) -> str:
    """How the admin tab is guarded when serving on `host`: "password" when one is configured
    (QA_ADMIN_PASSWORD, in `Settings.admin_password`), "open" on a loopback address without one
    (one person's own machine), "off" otherwise — an intranet address without a password serves
    no admin tab at all."""
    if password is not None:
        return "password"
    return "open" if is_loopback(host) else "off"


class AdminSessions:
    """Admin sign-ins. The password is exchanged once (`POST /admin/login`) for a random token
    that lives in an HttpOnly, SameSite=Strict cookie and expires after a working day. Only a
    digest of each token is kept, so nothing here or in any saved state can be replayed; the
    token never appears in a URL, a component value or a Gradio session (a replayed session hash
    used to carry admin rights)."""

    def __init__(self, lifetime: float = TOKEN_LIFETIME, clock=time.monotonic):
        self.lifetime = lifetime
        self._clock = clock
        self._expiry: dict[str, float] = {}  # sha256 of a token -> when it expires
        self._lock = threading.Lock()

    @staticmethod
    def _digest(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()

    def issue(self) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._expiry = {d: t for d, t in self._expiry.items() if t > now}
            while len(self._expiry) >= MAX_TOKENS:
                self._expiry.pop(next(iter(self._expiry)))
            self._expiry[self._digest(token)] = now + self.lifetime
        return token

    def valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self._lock:
            expires = self._expiry.get(self._digest(token))
        return expires is not None and expires > self._clock()

    def revoke(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._expiry.pop(self._digest(token), None)


def password_ok(given: str | None, expected: str | None) -> bool:
    """True when no password is configured, or `given` is it (compared in constant time)."""
    return expected is None or hmac.compare_digest((given or "").encode(), expected.encode())


class PasswordGuard:
    """Guessing the admin password is slowed down per client: after three wrong passwords, each
    further one makes the client wait twice as long (1 s, 2 s, 4 s … at most 5 minutes) before
    its next attempt is even checked (about 100 guesses a second went through before). Every
    wrong password is logged with the client's address, never the password. An empty password
    is not a guess: it is refused without counting."""

    def __init__(self, password: str | None = None, clock=time.monotonic):
        self._password = password
        self._clock = clock
        self._failures: dict[str, tuple[int, float]] = {}  # client -> (wrong passwords, next attempt at)
        self._lock = threading.Lock()

    def check(self, client: str, given: str | None) -> tuple[bool, str]:
        """(allowed, the Chinese reason when not)."""
        with self._lock:
            count, next_at = self._failures.get(client, (0, 0.0))
            wait = next_at - self._clock()
            if wait > 0:
                return False, f"密码错误次数过多：请 {math.ceil(wait)} 秒后再试。"
            if password_ok(given, self._password):
                self._failures.pop(client, None)
                return True, ""
            if not given:
                return False, "需要管理员密码。"
            count += 1
            delay = min(2.0 ** (count - FREE_ATTEMPTS - 1), MAX_WAIT) if count > FREE_ATTEMPTS else 0.0
            if len(self._failures) >= MAX_CLIENTS and client not in self._failures:
                self._failures.pop(next(iter(self._failures)))
            self._failures[client] = (count, self._clock() + delay)
        log.warning("管理员密码错误：客户端 %s 第 %d 次%s", client, count, f"，需等待 {delay:.0f} 秒" if delay else "")
        return False, "密码错误。"


def safe_name(original: str) -> str:
    """A plain file name for `seeds/`: no folders, no control or reserved characters."""
    name = unicodedata.normalize("NFC", re.split(r"[\\/]", original or "")[-1])
    name = re.sub(r'[\x00-\x1f\x7f<>:"|?*]', "", name).strip().lstrip(".").strip()
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UploadRejected(f"{original}：不支持的文件类型（接受 {'、'.join(SUPPORTED_SUFFIXES)}）")
    stem = re.sub(r"\s+", " ", stem)[:MAX_NAME_CHARS]
    stem = stem.encode("utf-8")[: MAX_NAME_BYTES - len(suffix)].decode("utf-8", "ignore").strip()
    if not stem:
        raise UploadRejected(f"{original}：文件名无效")
    return stem + suffix.lower()


def store_upload(seeds: Path, uploaded: Path, original: str, overwrite: bool = False,
                 readings: Path | None = None) -> str:
    """Copy an uploaded file into `seeds/` under a safe name; returns the name it got. The file
    is read as the build will read it (`readings`: where slow readings are kept for the build)."""
    name = safe_name(original)
    size = uploaded.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise UploadRejected(f"{original}：文件太大（{size / 1048576:.1f} MB，上限 {MAX_UPLOAD_BYTES // 1048576} MB）")
    if size == 0:
        raise UploadRejected(f"{original}：文件是空的")
    target = (seeds / name).resolve()
    if target.parent != seeds.resolve():
        raise UploadRejected(f"{original}：文件名无效")
    if target.exists() and not overwrite:
        raise UploadRejected(f"{name} 已存在：如需替换，请勾选“覆盖同名文件”后再上传")
    try:
        seeds.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".upload-", suffix=target.suffix, dir=seeds)
    except OSError as error:
        raise UploadRejected(f"{name}：无法保存（{error.strerror}）") from error
    os.close(handle)
    try:
        shutil.copyfile(uploaded, temporary)
        load(Path(temporary), seeds, readings)  # hidden while checked: builds never see a half-written file
        os.chmod(temporary, seeds.stat().st_mode & 0o666)  # the folder's read bits, as the seeds have
        os.replace(temporary, target)
    except SkippedFile as unusable:
        raise UploadRejected(f"{original}：{unusable.reason}") from unusable
    except OSError as error:
        raise UploadRejected(f"{name}：无法保存（{error.strerror}）") from error
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return name


def index_status(settings: Settings) -> dict:
    """What an administrator wants to know about the served index."""
    manifest = load_manifest(settings.index)
    stale, reason = is_stale(settings.seeds, settings.index, settings.model)
    if manifest is None:
        return {"generation": None, "documents": 0, "chunks": 0, "model": "", "built": "",
                "stale": True, "reason": reason, "skipped": [], "readings": {}, "furniture": []}
    return {
        "generation": current_name(settings.index), "documents": len(manifest["documents"]),
        "chunks": manifest["chunks"], "model": manifest["model"]["name"], "built": manifest["created"],
        "stale": stale, "reason": reason, "skipped": manifest.get("skipped", []),
        "readings": {d["path"]: d["reading"] for d in manifest["documents"] if d.get("reading")},
        "furniture": manifest.get("furniture", []),
    }
