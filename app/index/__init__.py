"""The index: chunks, their embeddings and vector indexes, and their BM25 terms, built in generations.

Layout of an index folder:

    index/CURRENT                 name of the generation being served (a pointer file)
    index/gen-<time>-<id>/        one complete, immutable generation
        manifest.json             documents, model identity, chunking version, file checksums
        chunks.jsonl              one chunk a line (hit-shaped, plus its text key)
        vectors.npy, dense.faiss  embeddings and the vector index over them
        windows.npy, windows.faiss  sentence windows of the chunks (chunk row, start, end) and
                                  their vector index (vectors plus two columns of bias, below)
        lexical_*.json/npz        the BM25 index
    index/cache/<model>/          embeddings by text hash, shared by every generation
    index/.lock                   held by the build that is running

A build writes a whole new generation beside the served one and switches by renaming a new
CURRENT over the old one, after everything is flushed; a build killed at any moment leaves
the previous generation serving. Only chunks and windows whose text is new are embedded.

Window vectors carry two more columns: how close the window is on average to the probe
questions (app/data/probe_questions.txt) in English and in Chinese. Some sentences are close to
every question of a language (e5's "hubs": a sentence with Latin names or numbers to English
questions, say); a search subtracts a share of that closeness by extending the question vector
with `window_query`, so the vector index ranks by the corrected score, exactly, at any scale.

The package, in build order: `files` (durable writes, checksums, the problems a user can act
on), `cache` (embeddings by text hash), `dense` (the vector indexes written and read back, the
windows' bias columns), `generation` (a built generation loaded and verified, its manifest),
`build` (scan, reuse, embed, write, switch). Searching is `app/stores.py`'s job.
"""

from .build import BuildReport, build, build_lock, is_stale
from .cache import EmbeddingCache, cache_folder, readings_folder
from .dense import dense_index, probe_questions, window_probes, with_bias
from .files import IndexCorrupt, IndexLocked, IndexMissing, IndexNoSpace, IndexProblem, text_key
from .generation import Generation, current_name, incompatibility, load_generation, load_manifest, outdated

__all__ = [
    "BuildReport", "EmbeddingCache", "Generation", "IndexCorrupt", "IndexLocked", "IndexMissing", "IndexNoSpace",
    "IndexProblem", "build", "build_lock", "cache_folder", "current_name", "dense_index", "incompatibility",
    "is_stale", "load_generation", "load_manifest", "outdated", "probe_questions", "readings_folder", "text_key",
    "window_probes",
    "with_bias",
]
