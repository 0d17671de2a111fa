"""Uploads land only in seeds/, under safe names, never overwriting without confirmation."""

from __future__ import annotations

import os

import pytest

from app.admin import MAX_UPLOAD_BYTES, UploadRejected, password_ok, safe_name, store_upload


@pytest.mark.parametrize("original, expected", [
    ("总结 2024.txt", "总结 2024.txt"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\me\\工会总结.DOCX", "工会总结.docx"),
    ("/abs/path/计划.md", "计划.md"),
    ("..hidden.txt", "hidden.txt"),
    ("a\x00b<c>.txt", "abc.txt"),
])
def test_names_are_reduced_to_a_plain_file_name(original, expected):
    assert safe_name(original) == expected


@pytest.mark.parametrize("original", ["script.py", "manifest.json", "CURRENT", "archive.zip", "x.xls", ".txt", "../.."])
def test_other_types_and_empty_names_are_rejected(original):
    with pytest.raises(UploadRejected):
        safe_name(original)


def test_store_upload_writes_inside_seeds_and_asks_before_overwriting(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    upload = tmp_path / "up.txt"
    upload.write_text("急诊科工作总结", "utf-8")
    assert store_upload(seeds, upload, "../急诊.txt") == "急诊.txt"
    assert (seeds / "急诊.txt").read_text("utf-8") == "急诊科工作总结"
    upload.write_text("新版本", "utf-8")
    with pytest.raises(UploadRejected, match="覆盖同名文件"):
        store_upload(seeds, upload, "急诊.txt")
    assert (seeds / "急诊.txt").read_text("utf-8") == "急诊科工作总结"
    store_upload(seeds, upload, "急诊.txt", overwrite=True)
    assert (seeds / "急诊.txt").read_text("utf-8") == "新版本"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["up.txt", "急诊.txt"]


def test_empty_and_oversized_uploads_are_rejected(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(UploadRejected, match="空"):
        store_upload(tmp_path, empty, "empty.txt")
    big = tmp_path / "big.txt"
    with open(big, "wb") as handle:
        handle.truncate(21 * 1024 * 1024)
    with pytest.raises(UploadRejected, match="太大"):
        store_upload(tmp_path / "seeds", big, "big.txt")


def test_password(monkeypatch):
    assert password_ok(None, None) and password_ok("anything", None)
    assert password_ok("s3cret", "s3cret") and not password_ok("wrong", "s3cret") and not password_ok(None, "s3cret")
    monkeypatch.setenv("QA_ADMIN_PASSWORD", "from-the-environment")
    from app.config import Settings

    settings = Settings()
    assert settings.admin_password == "from-the-environment" and "from-the-environment" not in repr(settings)


def test_uploaded_files_take_the_seeds_read_bits_not_0600(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir(mode=0o755)
    upload = tmp_path / "up.txt"
    upload.write_text("急诊科工作总结", "utf-8")
    store_upload(seeds, upload, "急诊.txt")
    assert (seeds / "急诊.txt").stat().st_mode & 0o777 == 0o644


def test_a_docx_zip_bomb_is_refused_before_it_is_inflated(tmp_path):
    """A .docx just under the 20 MB upload limit holding 1.5 GiB of zeros (finding 6 of issue 17:
    a 1 MB one took the server from 1.0 to 3.1 GB): refused from the zip directory, with no
    growth of the process's memory to speak of."""
    import zipfile

    import psutil
    from docx import Document as WordDocument

    bomb = tmp_path / "炸弹.docx"
    word = WordDocument()
    word.add_paragraph("医院工作总结")
    word.save(bomb)
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as package:
        with package.open("word/media/filler.bin", "w", force_zip64=True) as member:
            block = bytes(16 << 20)
            for _ in range(96):
                member.write(block)
        package.writestr("word/media/photo.bin", os.urandom(18 << 20), compress_type=zipfile.ZIP_STORED)
    assert 19 << 20 < bomb.stat().st_size < MAX_UPLOAD_BYTES
    process = psutil.Process()
    before = process.memory_info().rss
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    with pytest.raises(UploadRejected, match="疑似压缩炸弹"):
        store_upload(seeds, bomb, "炸弹.docx")
    assert process.memory_info().rss - before < 100 << 20
    assert list(seeds.iterdir()) == []


def test_the_password_guard_doubles_the_wait_after_three_wrong_passwords(monkeypatch):
    from app.admin import PasswordGuard

    now = [1000.0]
    guard = PasswordGuard("s3cret", clock=lambda: now[0])
    assert [guard.check("a", "x")[1] for _ in range(3)] == ["密码错误。"] * 3
    assert guard.check("a", "x") == (False, "密码错误。")  # the fourth: wait 1 s
    assert guard.check("a", "s3cret") == (False, "密码错误次数过多：请 1 秒后再试。")
    assert guard.check("b", "s3cret") == (True, "")  # another client is not affected
    now[0] += 1.0
    assert guard.check("a", "y") == (False, "密码错误。")  # the fifth: wait 2 s
    now[0] += 1.5
    assert guard.check("a", "s3cret")[1] == "密码错误次数过多：请 1 秒后再试。"
    now[0] += 0.5
    assert guard.check("a", "s3cret") == (True, "")
    assert guard.check("a", "") == (False, "需要管理员密码。")  # not a guess: never counted
    assert [guard.check("a", "z")[1] for _ in range(3)] == ["密码错误。"] * 3  # success reset the count


def test_an_admin_token_expires_is_revoked_and_only_its_digest_is_kept():
    from app.admin import AdminSessions

    now = [1000.0]
    sessions = AdminSessions(lifetime=60, clock=lambda: now[0])
    token, other = sessions.issue(), sessions.issue()
    assert token != other and sessions.valid(token) and not sessions.valid(token + "x") and not sessions.valid("")
    assert token not in repr(vars(sessions))
    sessions.revoke(other)
    assert not sessions.valid(other) and sessions.valid(token)
    now[0] += 61
    assert not sessions.valid(token)


def test_the_admin_tab_is_guarded_by_a_password_open_on_loopback_and_off_elsewhere():
    from app.admin import admin_mode

    assert [admin_mode(h, None) for h in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "10.0.0.5")] == [
        "open", "open", "open", "off", "off"]
    assert admin_mode("0.0.0.0", "s3cret") == "password"
