"""Uploads land only in seeds/, under safe names, never overwriting without confirmation."""

from __future__ import annotations

import pytest

from app.admin import UploadRejected, password_ok, safe_name, store_upload


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


@pytest.mark.parametrize("original", ["script.py", "manifest.json", "CURRENT", "archive.zip", "x.doc", ".txt", "../.."])
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
    monkeypatch.delenv("QA_ADMIN_PASSWORD", raising=False)
    assert password_ok(None)
    monkeypatch.setenv("QA_ADMIN_PASSWORD", "s3cret")
    assert password_ok("s3cret") and not password_ok("wrong") and not password_ok(None)
