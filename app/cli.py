"""Command line: `python -m app [serve|search|chunks|eval]` and `build_index.py`.

User mistakes (an empty question, a missing index, a bad file) print a message and exit
with a non-zero code; they never print a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .config import Settings
from .formats.common import describe

EXIT_USAGE = 2
EXIT_PROBLEM = 1


def _settings(args) -> Settings:
    overrides = {}
    if getattr(args, "index", None):
        overrides["index"] = Path(args.index)
    if getattr(args, "seeds", None):
        overrides["seeds"] = Path(args.seeds)
    return Settings(**overrides)


def _fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors introduced in Chinese (exit code 2 as usual)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"参数错误：{message}\n")


def _json_line(value) -> str:
    """One JSON line; a lone surrogate from the input is written as an escape, not a crash."""
    line = json.dumps(value, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(value)
    return line


# ---------------------------------------------------------------- build_index.py


class _TerminalProgress:
    """A one-line progress bar with rate and ETA; silent when stderr is not a terminal."""

    def __init__(self):
        self.enabled = sys.stderr.isatty()
        self.started: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        began = self.started.setdefault(stage, time.perf_counter())
        elapsed = max(time.perf_counter() - began, 1e-6)
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else 0.0
        filled = int(30 * done / total)
        sys.stderr.write(
            f"\r{stage:<10} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} "
            f"{rate:6.1f}/s ETA {eta:5.0f}s"
        )
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def build_main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="build_index.py", description="构建或更新检索索引")
    parser.add_argument("--seeds", help="文档目录（默认 seeds/）")
    parser.add_argument("--index", help="索引目录（默认 index/）")
    parser.add_argument("--json", action="store_true", help="最后一行输出 JSON 摘要")
    parser.add_argument("--full", action="store_true", help="忽略已有索引，完整重建")
    parser.add_argument("--check", action="store_true", help="只检查索引是否过期；过期时退出码为 1")
    args = parser.parse_args(argv)
    settings = _settings(args)

    from .convert import ensure_model
    from .index import IndexProblem, build, is_stale

    try:
        ensure_model(settings.model)
        if args.check:
            stale, reason = is_stale(settings.seeds, settings.index, settings.model)
            if args.json:
                print(json.dumps({"stale": stale, "reason": reason}, ensure_ascii=False))
            else:
                print(("索引已过期：" if stale else "") + reason)
            return 1 if stale else 0
        report = build(settings.seeds, settings.index, settings.model, full=args.full,
                       progress=_TerminalProgress(), precision=settings.passage_precision)
    except IndexProblem as problem:
        return _fail(str(problem), EXIT_PROBLEM)
    for skipped in report.skipped:
        print(f"跳过 {skipped['file']}：{skipped['reason']}", file=sys.stderr)
    for name, reading in report.readings.items():
        print(f"读取 {name}：{describe(reading)}", file=sys.stderr)
    for line in report.furniture:
        print(f"模板行（{line['documents']} 个文档都有，已从段落中去除）：{line['text']}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        state = "索引无变化" if report.unchanged else f"已生成 {report.generation}"
        print(f"{state}：{report.documents} 个文档，{report.chunks} 个段落，"
              f"新嵌入 {report.embedded_chunks}，复用 {report.reused_chunks}；"
              f"{report.windows} 个句窗，新嵌入 {report.embedded_windows}，"
              f"用时 {report.seconds:.1f} 秒")
    return 0


# ---------------------------------------------------------------- python -m app


def _print_hits(result) -> None:
    from .answer import WEAK_NOTICE

    if not result.hits:
        print("没有找到可靠的段落。请换一种说法再试。")
    elif result.confidence == "weak":
        print(WEAK_NOTICE + "\n")
    for number, hit in enumerate(result.hits, 1):
        path = " › ".join((hit.title,) + hit.section)
        pages = f"{hit.pages} " if hit.page_start else ""
        print(f"[{number}] {path}  ({hit.doc} {pages}第{hit.line_start}–{hit.line_end}行, 相关度 {hit.relevance:.0%})")
        print("    " + hit.text.replace("\n", "\n    "))
        print()


def _read_queries(path: str) -> list[dict]:
    """The `{"id", "query"}` objects of a JSONL file; ValueError names the first bad line."""
    queries = []
    for number, line in enumerate(Path(path).read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            query = json.loads(line)
        except ValueError as error:
            raise ValueError(f"第 {number} 行不是 JSON（{error}）") from error
        if not isinstance(query, dict) or not isinstance(query.get("query"), str):
            raise ValueError(f"第 {number} 行应为 {{\"id\": …, \"query\": \"问题\"}}")
        queries.append(query)
    return queries


def _search(args, settings: Settings) -> int:
    from .query import EmptyQuestion
    from .search import Searcher

    searcher = Searcher(settings)
    if args.queries:
        try:
            queries = _read_queries(args.queries)
        except (OSError, ValueError) as error:
            return _fail(f"无法读取问题文件 {args.queries}：{error}", EXIT_USAGE)
        for query in queries:
            try:
                result = searcher.search(query["query"], args.k)
                confidence, hits = result.confidence, [h.to_json() for h in result.hits]
            except EmptyQuestion:
                confidence, hits = "none", []
            print(_json_line({"id": query.get("id"), "query": query["query"], "confidence": confidence,
                              "hits": hits}), flush=True)
        return 0
    if args.question is None:
        return _fail("请给出问题，或用 --queries FILE 指定问题文件。", EXIT_USAGE)
    try:
        result = searcher.search(args.question, args.k)
    except EmptyQuestion as error:
        return _fail(str(error), EXIT_USAGE)
    if args.json:
        print(json.dumps([h.to_json() for h in result.hits], ensure_ascii=False))
    else:
        _print_hits(result)
    return 0


def _chunks(args, settings: Settings) -> int:
    from .index import load_generation

    generation = load_generation(settings.index)
    for chunk in generation.chunks:
        print(json.dumps(chunk.to_json(), ensure_ascii=False))
    return 0


def _eval(args, settings: Settings) -> int:
    from .evaluate import evaluate, format_table, read_questions
    from .search import SIGNALS, Searcher

    questions = []
    for path in args.queries:
        try:
            questions += read_questions(Path(path), args.half)
        except (OSError, ValueError, KeyError) as error:
            return _fail(f"无法读取问题文件 {path}：{error}", EXIT_USAGE)
    report = evaluate(Searcher(settings), questions, args.signals or SIGNALS)
    print(format_table(report))
    if args.misses:
        for miss in report["misses"]:
            print(json.dumps(miss, ensure_ascii=False))
    if args.json:
        print(json.dumps(report["metrics"]))
    return 0


def _serve(args, settings: Settings) -> int:
    from .ui import serve

    return serve(settings, host=args.host, port=args.port)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m app", description="医院工作总结问答")
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="启动网页应用（默认命令）")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7860)
    serve.add_argument("--index")
    serve.add_argument("--seeds")

    search = commands.add_parser("search", help="检索段落")
    search.add_argument("question", nargs="?")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--json", action="store_true")
    search.add_argument("--queries", help="JSONL 问题文件，每行 {\"id\", \"query\"}")
    search.add_argument("--index")

    chunks = commands.add_parser("chunks", help="列出索引中的全部段落")
    chunks.add_argument("--json", action="store_true")
    chunks.add_argument("--index")

    evaluation = commands.add_parser("eval", help="评测检索质量（hit@1、hit@5、MRR@10）")
    evaluation.add_argument("--queries", nargs="+", required=True, help="JSONL 评测问题文件")
    evaluation.add_argument("--signals", nargs="+", choices=["hybrid", "dense", "lexical"])
    evaluation.add_argument("--half", choices=["all", "tune", "report"], default="all",
                            help="只评测按编号固定划分的一半问题：tune（调参用）或 report（报告用）")
    evaluation.add_argument("--misses", action="store_true", help="列出混合检索未命中的问题")
    evaluation.add_argument("--json", action="store_true", help="最后一行输出 JSON 指标")
    evaluation.add_argument("--index")

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv.insert(0, "serve")
    args = parser.parse_args(argv)
    settings = _settings(args)
    from .index import IndexProblem

    handlers = {"serve": _serve, "search": _search, "chunks": _chunks, "eval": _eval}
    try:
        code = handlers[args.command or "serve"](args, settings)
        sys.stdout.flush()  # a closed pipe shows up here, not after main has returned
        return code
    except IndexProblem as problem:
        return _fail(str(problem), EXIT_PROBLEM)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`… | head`): stop quietly, and keep Python's exit flush quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PROBLEM
