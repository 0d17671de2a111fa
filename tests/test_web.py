"""The HTTP edge (app/web.py): who a client is, and the temporary folder's size cap."""

from __future__ import annotations

import os

from app.web import Edge, trim_temp


def test_a_client_is_its_address_unless_a_trusted_proxy_reports_another():
    edge = Edge(trusted_proxies=frozenset({"127.0.0.1", "10.0.0.2"}))
    forwarded = {"x-forwarded-for": "203.0.113.9, 10.1.2.3, 10.0.0.2"}
    assert edge.client("10.9.9.9", forwarded) == "10.9.9.9"  # not a proxy: its header is not believed
    assert edge.client("127.0.0.1", forwarded) == "10.1.2.3"  # the nearest address no trusted proxy owns
    assert edge.client("127.0.0.1", {}) == "127.0.0.1"
    assert Edge().client("127.0.0.1", forwarded) == "127.0.0.1"


def test_only_a_signed_in_token_is_admin_unless_the_admin_is_open_or_off():
    edge = Edge(mode="password")
    token = edge.sessions.issue()
    assert edge.is_admin(f"theme=dark; qa_admin={token}") and edge.is_admin(token=token)
    assert not edge.is_admin("qa_admin=forged") and not edge.is_admin(None) and not edge.is_admin("qa_admin")
    assert Edge(mode="open").is_admin(None) and not Edge(mode="off").is_admin(f"qa_admin={token}")


def test_the_temporary_folder_is_trimmed_oldest_first_to_its_budget(tmp_path):
    for age, name in enumerate(["new", "middle", "old"]):
        path = tmp_path / name / "f.bin"
        path.parent.mkdir()
        path.write_bytes(b"x" * 1000)
        os.utime(path, (1_000_000 - age * 100, 1_000_000 - age * 100))
    assert trim_temp(tmp_path, 2500)
    assert sorted(p.parent.name for p in tmp_path.rglob("*.bin")) == ["middle", "new"]
    assert trim_temp(tmp_path, 1000) and [p.parent.name for p in tmp_path.rglob("*.bin")] == ["new"]
    assert not trim_temp(tmp_path, -1)
