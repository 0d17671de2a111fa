"""Starting the app: convert the model, bring the index up to date, and serve first when the
index that exists can already answer.

A restart after a killed rebuild used to build every pending document before listening: with
a 1.4 MB upload pending, the port refused connections for 234 s, although a valid index was on
disk. Now, when only documents differ from the served index (same model, chunking and
tokeniser, so its vectors and terms are right), the app listens at once on that index and the
pending documents are built in the background with the usual atomic switch; the searcher picks
the new generation up between requests and the status panel shows the progress.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from .config import Settings
from .index import IndexProblem, build, is_stale, load_manifest, outdated
from .model import model_identity
from .search import Searcher

log = logging.getLogger(__name__)

#: What each stage of a build reports, for people (the status panel, the rebuild's progress bar).
BUILD_STAGES = {"documents": "读取文档", "embedding": "计算段落向量", "windows": "计算句子向量", "writing": "写入索引"}


@dataclass
class BackgroundBuild:
    """One build running beside the server, and what it reports."""

    stage: str = ""
    done: int = 0
    total: int = 0
    running: bool = False
    outcome: str = ""  # the last build's one-line result, in Chinese
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self, settings: Settings, reason: str) -> None:
        self.running, self.outcome = True, ""
        self._thread = threading.Thread(target=self._run, args=(settings, reason), name="background-build",
                                        daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total

    def _run(self, settings: Settings, reason: str) -> None:
        try:
            report = build(settings.seeds, settings.index, settings.model, progress=self._progress,
                           precision=settings.passage_precision)
            self.outcome = (f"后台构建完成（{reason}）：{report.documents} 个文档，{report.chunks} 个段落，"
                            f"用时 {report.seconds:.0f} 秒")
        except IndexProblem as problem:
            self.outcome = f"后台构建失败：{problem}"
        except Exception:  # noqa: BLE001 - a programming error: logged loudly, the old index keeps serving
            log.exception("background build failed")
            self.outcome = "后台构建失败：内部错误，详见服务器日志；正在使用的索引不受影响。"
        finally:
            self.running = False
        log.warning(self.outcome)

    def describe(self) -> str:
        """A line for the status panel: progress while running, the outcome after."""
        if self.running:
            stage = BUILD_STAGES.get(self.stage, "准备")
            share = f" {self.done}/{self.total}" if self.total else ""
            return f"后台构建中：{stage}{share}（当前仍以旧索引回答）"
        return self.outcome


background = BackgroundBuild()


def _serves_as_is(settings: Settings) -> bool:
    """Whether the index on disk can answer now: one exists and only documents differ."""
    manifest = load_manifest(settings.index)
    return manifest is not None and outdated(manifest, model_identity(settings.model)) is None


def prepare(settings: Settings, say=print) -> Searcher:
    """Convert the model and bring the index up to date — in the background when the index on
    disk can already answer; returns a warmed-up Searcher."""
    from .convert import ensure_model

    ensure_model(settings.model)
    stale, reason = is_stale(settings.seeds, settings.index, settings.model)
    if stale and _serves_as_is(settings):
        say(f"以现有索引启动；后台构建（{reason}）…")
        background.start(settings, reason)
    elif stale:
        say(f"构建索引（{reason}）…")
        report = build(settings.seeds, settings.index, settings.model, precision=settings.passage_precision)
        say(f"索引就绪：{report.documents} 个文档，{report.chunks} 个段落，用时 {report.seconds:.1f} 秒")
        for skipped in report.skipped:
            say(f"跳过 {skipped['file']}：{skipped['reason']}")
    return Searcher(settings).warm()
