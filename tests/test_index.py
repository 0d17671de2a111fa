"""Index generations: round trip, incremental rebuilds, atomic switch, lock, integrity."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from app.config import PROJECT_ROOT, Settings
from app.index import (
    IndexCorrupt,
    IndexLocked,
    IndexMissing,
    build,
    build_lock,
    current_name,
    is_stale,
    load_generation,
    outdated,
)
from app.model import model_identity, passage_precision
from app.search import Searcher
from app.stores import window_query

from .conftest import SEEDS

NEW_SUMMARY = """急诊科年度工作总结

一、院前急救

全年救护车出车一千二百次，平均出车时间缩短到三分钟以内，院前急救网络覆盖全县各乡镇。
"""


def test_round_trip_reloads_exactly_what_was_built(seed_index):
    generation = load_generation(seed_index.index)
    rows = [json.loads(line) for line in (generation.folder / "chunks.jsonl").read_text("utf-8").splitlines()]
    assert [c.to_json() for c in generation.chunks] == [
        {k: r[k] for k in ("doc", "title", "section", "text", "start", "end", "line_start", "line_end", "page_start", "page_end")}
        for r in rows
    ]
    vectors = np.load(generation.folder / "vectors.npy")
    assert generation.dense.ntotal == len(generation.chunks) == vectors.shape[0]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    manifest = generation.manifest
    assert manifest["model"]["dimension"] == 384 and len(manifest["documents"]) == 5
    # every vector of the index comes from one arithmetic, recorded, with a cache of its own
    precision = manifest["model"]["precision"]
    assert precision == passage_precision() and precision in ("f32", "bf16")
    assert [p.name for p in (seed_index.index / "cache").iterdir()] == [
        manifest["model"]["fingerprint"] + ("" if precision == "f32" else "-bf16")]
    assert {d["encoding"] for d in manifest["documents"]} == {"utf-8"}
    assert sum(d["chunks"] for d in manifest["documents"]) == len(generation.chunks)


def test_windows_carry_their_bias_and_the_question_vector_subtracts_it(seed_index, embedder):
    generation = load_generation(seed_index.index)
    assert generation.manifest["window_index"] == {"type": "IndexFlatIP", "exact": True, "windows": 689, "min_chars": 40}
    assert generation.windows.ntotal == len(generation.window_chunk) == 689 and generation.windows.d == 386
    assert sorted(set(generation.window_chunk.tolist())) == list(range(len(generation.chunks)))
    stored = generation.windows.reconstruct_n(0, generation.windows.ntotal)
    assert np.allclose(np.linalg.norm(stored[:, :384], axis=1), 1.0, atol=1e-4)
    assert 0.65 < stored[:, 384:].min() and stored[:, 384:].max() < 0.9  # mean cosines to the probes
    query = embedder.encode_queries(["放射科一年检查了多少病人？"])
    cosines = stored[:, :384] @ query[0]
    assert np.allclose(window_query(query, 1.0, 0.5) @ stored.T, cosines - 0.5 * stored[:, 385], atol=1e-5)
    assert np.allclose(window_query(query, 0.0, 0.5) @ stored.T, cosines - 0.5 * stored[:, 384], atol=1e-5)
    assert np.allclose(window_query(query, 0.25, 1.0) @ stored.T,
                       cosines - 0.75 * stored[:, 384] - 0.25 * stored[:, 385], atol=1e-5)


def test_incremental_rebuilds_embed_only_what_changed(corpus, tmp_path, model_dir, embedder):
    index = tmp_path / "index"
    first = build(corpus, index, model_dir, embedder=embedder)
    assert first.embedded_chunks == first.chunks > 150 and first.reused_chunks == 0
    assert first.embedded_windows == first.windows == 689 and first.reused_windows == 0

    again = build(corpus, index, model_dir, embedder=embedder)
    assert (again.embedded_chunks, again.unchanged, again.generation) == (0, True, first.generation)

    (corpus / "急诊 总结.txt").write_text(NEW_SUMMARY, "utf-8")
    added = build(corpus, index, model_dir, embedder=embedder)
    assert added.added == ["急诊 总结.txt"] and added.embedded_chunks == 1
    assert added.chunks == first.chunks + 1 and added.reused_chunks == first.chunks
    assert (added.windows, added.embedded_windows, added.reused_windows) == (690, 1, 689)
    searcher = Searcher(Settings(seeds=corpus, index=index, model=model_dir), embedder=embedder)
    assert searcher.search("救护车出车", 1).hits[0].doc == "急诊 总结.txt"

    seed = corpus / "001_824a9c74254aab94.txt"
    seed.write_text(seed.read_text("utf-8").replace("我们坚持院务公开制度", "我们始终坚持院务公开制度"), "utf-8")
    changed = build(corpus, index, model_dir, embedder=embedder)
    assert changed.changed == ["001_824a9c74254aab94.txt"] and changed.embedded_chunks == 1
    assert changed.embedded_windows == 1

    (corpus / "急诊 总结.txt").unlink()
    removed = build(corpus, index, model_dir, embedder=embedder)
    assert removed.removed == ["急诊 总结.txt"] and removed.embedded_chunks == 0
    assert all(h.doc != "急诊 总结.txt" for h in searcher.search("救护车出车", 5).hits)


def test_staleness_is_reported(corpus, tmp_path, model_dir, embedder):
    index = tmp_path / "index"
    assert is_stale(corpus, index, model_dir) == (True, "索引不存在")
    build(corpus, index, model_dir, embedder=embedder)
    assert is_stale(corpus, index, model_dir) == (False, "索引是最新的")
    (corpus / "new.md").write_text(NEW_SUMMARY, "utf-8")
    assert is_stale(corpus, index, model_dir) == (True, "新增文档：new.md")


def test_an_edited_stop_word_list_makes_the_index_stale_without_a_version_bump(seed_index, tmp_path, monkeypatch):
    """Terms are cached by the tokeniser's identity: a stop word added to app/data without raising
    LEXICAL_VERSION must not leave an index searched with terms cut by the old list."""
    from app import lexical

    data = tmp_path / "data"
    shutil.copytree(lexical.DATA, data)
    assert is_stale(SEEDS, seed_index.index, seed_index.model) == (False, "索引是最新的")
    with (data / "stopwords_en.txt").open("a", encoding="utf-8") as words:
        words.write("hers\n")
    monkeypatch.setattr(lexical, "DATA", data)
    lexical.lexical_identity.cache_clear()
    try:
        assert lexical.lexical_identity().split(":")[0] == str(lexical.LEXICAL_VERSION)
        assert is_stale(SEEDS, seed_index.index, seed_index.model) == (True, "词项切分规则已更新")
    finally:
        monkeypatch.undo()
        lexical.lexical_identity.cache_clear()
    assert is_stale(SEEDS, seed_index.index, seed_index.model) == (False, "索引是最新的")


def test_a_tokeniser_change_makes_the_index_stale_and_the_rebuild_redoes_only_terms(
        seed_index, tmp_path, model_dir, embedder):
    """An index built by an older tokeniser (folding, Latin parts, translations) must not be
    searched with new query terms: it is stale, and rebuilding reuses every vector."""
    index = tmp_path / "index"
    shutil.copytree(seed_index.index, index)
    manifest_path = index / current_name(index) / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["lexical_version"] = 1
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    assert is_stale(SEEDS, index, model_dir) == (True, "词项切分规则已更新")
    report = build(SEEDS, index, model_dir, embedder=embedder)
    assert not report.unchanged and report.embedded_chunks == 0 and report.embedded_windows == 0
    assert is_stale(SEEDS, index, model_dir) == (False, "索引是最新的")


def test_a_changed_english_table_makes_the_index_stale_but_it_serves(seed_index, tmp_path, model_dir, embedder):
    """The curated English terms (app/data/hospital_en.tsv) or CC-CEDICT changed: the table an
    index carries still answers consistently, so it serves while a rebuild embeds nothing."""
    index = tmp_path / "index"
    shutil.copytree(seed_index.index, index)
    manifest_path = index / current_name(index) / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["translations"] = "0" * 16
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    assert is_stale(SEEDS, index, model_dir) == (True, "英文检索词表已更新")
    assert outdated(manifest, model_identity(model_dir)) is None
    report = build(SEEDS, index, model_dir, embedder=embedder)
    assert not report.unchanged and report.embedded_chunks == 0 and report.embedded_windows == 0
    assert is_stale(SEEDS, index, model_dir) == (False, "索引是最新的")


def test_second_build_refuses_while_one_holds_the_lock(corpus, tmp_path, model_dir, embedder):
    index = tmp_path / "index"
    with build_lock(index):
        with pytest.raises(IndexLocked, match="另一个索引构建正在进行"):
            build(corpus, index, model_dir, embedder=embedder)


def test_missing_and_corrupt_indexes_are_reported_with_a_fix(seed_index, tmp_path):
    with pytest.raises(IndexMissing, match="build_index.py"):
        load_generation(tmp_path / "nothing")
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(seed_index.index, copy)
    vectors = copy / current_name(copy) / "dense.faiss"
    data = bytearray(vectors.read_bytes())
    data[len(data) // 2] ^= 0xFF
    vectors.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="--full"):
        load_generation(copy)


def test_build_killed_mid_embedding_leaves_the_old_generation_serving(corpus, tmp_path, model_dir, embedder):
    index = tmp_path / "index"
    first = build(corpus, index, model_dir, embedder=embedder)
    shards_before = len(list((index / "cache").rglob("shard-*.npz")))
    for number in range(100):  # ~200 new chunks: more than one cache shard of embeddings
        (corpus / f"extra-{number}.txt").write_text(
            f"第{number}份总结\n\n" + "".join(f"第{number}号医院第{i}项工作取得进展，群众满意度提高。" for i in range(30)),
            "utf-8",
        )
    process = subprocess.Popen(
        [sys.executable, "build_index.py", "--seeds", str(corpus), "--index", str(index)],
        cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list((index / "cache").rglob("shard-*.npz"))) == shards_before:
        time.sleep(0.1)  # wait until it is really embedding (its first shard is saved)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert current_name(index) == first.generation
    searcher = Searcher(Settings(seeds=corpus, index=index, model=model_dir), embedder=embedder)
    assert searcher.search("院务公开", 1).hits
    finished = build(corpus, index, model_dir, embedder=embedder)
    assert finished.generation != first.generation and finished.reused_chunks > first.chunks
    assert not list(index.glob("*.tmp"))


def test_docx_is_indexed_and_broken_files_are_reported(corpus, tmp_path, model_dir, embedder):
    from .test_documents import WORD_SUMMARY, make_docx

    make_docx(corpus / "急诊科.docx", WORD_SUMMARY)
    (corpus / "损坏.docx").write_bytes(b"PK\x03\x04truncated")
    (corpus / "扫描件.pdf").write_bytes(b"%PDF-1.4")
    before = {p.name: p.read_bytes() for p in corpus.iterdir()}
    report = build(corpus, tmp_path / "index", model_dir, embedder=embedder)
    assert "急诊科.docx" in report.added and report.documents == 6
    assert sorted(s["file"] for s in report.skipped) == ["扫描件.pdf", "损坏.docx"]
    assert {p.name: p.read_bytes() for p in corpus.iterdir()} == before  # seeds/ untouched
    searcher = Searcher(Settings(seeds=corpus, index=tmp_path / "index", model=model_dir), embedder=embedder)
    hit = searcher.search("胸痛中心绿色通道", 1).hits[0]
    assert hit.doc == "急诊科.docx" and hit.section == ("急诊科年度工作总结", "二、院内抢救")


def test_search_keeps_answering_during_a_rebuild_and_then_sees_it(corpus, tmp_path, model_dir, embedder):
    import threading

    index = tmp_path / "index"
    build(corpus, index, model_dir, embedder=embedder)
    searcher = Searcher(Settings(seeds=corpus, index=index, model=model_dir), embedder=embedder)
    for number in range(20):
        (corpus / f"new-{number}.txt").write_text(
            f"第{number}份急诊总结\n\n" + "".join(f"急诊科第{i}次演练救护车调度，出车时间缩短。" for i in range(25)), "utf-8")
    errors = []
    builder = threading.Thread(target=lambda: build(corpus, index, model_dir, embedder=embedder))
    builder.start()
    answered = 0
    while builder.is_alive():
        try:
            answered += bool(searcher.search("院务公开制度", 3).hits)
        except Exception as error:  # noqa: BLE001 - any failure during the rebuild is the finding
            errors.append(error)
    builder.join()
    assert errors == [] and answered > 0
    assert searcher.search("急诊科演练救护车调度", 1).hits[0].doc.startswith("new-")


def test_only_new_text_is_tokenised_for_the_lexical_index(corpus, tmp_path, model_dir, embedder, monkeypatch):
    from app import lexical

    index = tmp_path / "index"
    build(corpus, index, model_dir, embedder=embedder)
    tokenised = []
    original = lexical.terms
    monkeypatch.setattr(lexical, "terms", lambda text: tokenised.append(text) or original(text))
    (corpus / "急诊.txt").write_text(NEW_SUMMARY, "utf-8")
    build(corpus, index, model_dir, embedder=embedder)
    assert len(tokenised) == 1 and "救护车出车一千二百次" in tokenised[0]


def test_seed_scale_index_is_exact_and_says_so(seed_index):
    assert load_generation(seed_index.index).manifest["dense_index"] == {"type": "IndexFlatIP", "exact": True}


def test_above_the_exact_limit_an_ivf_index_is_chosen_and_its_recall_recorded(
        corpus, tmp_path, model_dir, embedder, seed_index, monkeypatch):
    """The switch to approximate search, exercised on the seeds by lowering the limit: the
    manifest records the IVF parameters and the recall measured against exact search, and
    the answers stay those of the exact index."""
    import app.index.dense

    monkeypatch.setattr(app.index.dense, "EXACT_SEARCH_UP_TO", 100)
    index_dir = tmp_path / "index"
    build(corpus, index_dir, model_dir, embedder=embedder)
    generation = load_generation(index_dir)
    info = generation.manifest["dense_index"]
    assert info["type"] == "IndexIVFFlat" and info["exact"] is False
    assert info["lists"] == int(4 * np.sqrt(len(generation.chunks)))
    assert info["recall_at_10"] >= 0.995 and info["recall_probes"] == 60
    assert 1 <= info["nprobe"] <= info["lists"]
    assert type(generation.dense).__name__ == "IndexIVFFlat" and generation.dense.nprobe == info["nprobe"]
    approximate = Searcher(Settings(seeds=corpus, index=index_dir, model=model_dir), embedder=embedder)
    exact = Searcher(seed_index, embedder=embedder)
    for question in ("how did hospitals handle 院务公开?", "结核病防治项目县的病人如何治疗", "工会为职工做了哪些实事"):
        assert [h.text for h in approximate.search(question, 3).hits] == [h.text for h in exact.search(question, 3).hits]
        doc = exact.search(question, 3).hits[-1].doc  # filters pass into the inverted file's search too
        assert [h.text for h in approximate.search(question, 3, documents=[doc]).hits] == \
            [h.text for h in exact.search(question, 3, documents=[doc]).hits]
