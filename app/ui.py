"""The browser app (Gradio): ask in Chinese or English, read cited passages.

The UI talks only to `Searcher`; every passage is escaped before display, so a document
containing HTML or markdown shows as text. The named API endpoint `/search` returns the
hits as JSON objects for other clients (`gradio_client`).
"""

from __future__ import annotations

import html
import os
import re
import sys

from .config import Settings
from .search import EmptyQuestion, Hit, SearchResult, Searcher

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SYSTEM_FONTS = ["system-ui", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "sans-serif"]
NO_ANSWER = "没有找到可靠的段落。请换一种说法，或使用文档中的关键词再试。"
CSS = """
.source-card { border: 1px solid #d9dee7; border-radius: 8px; padding: 8px 12px; margin: 6px 0; }
.source-path { color: #4a5568; font-size: 0.9em; }
"""


def inert(text: str) -> str:
    """Text that renders literally inside markdown: no HTML, no markdown syntax."""
    escaped = html.escape(text, quote=False)
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~>])", r"\\\1", escaped)


def citation(hit: Hit) -> str:
    """`《title》heading path，file 第a–b行`, the way a quote is cited in a draft."""
    section = " › ".join(hit.section)
    lines = f"第{hit.line_start}行" if hit.line_start == hit.line_end else f"第{hit.line_start}–{hit.line_end}行"
    return f"《{hit.title}》{section}，{hit.doc} {lines}"


def render_answer(result: SearchResult) -> str:
    """The assistant's chat message: one card per passage with its citation."""
    if not result.hits:
        return NO_ANSWER
    cards = []
    for number, hit in enumerate(result.hits, 1):
        also = ""
        if hit.also_in:
            places = "；".join(f"{a['doc']} 第{a['line_start']}–{a['line_end']}行" for a in hit.also_in)
            also = f"\n\n*也见于：{inert(places)}*"
        cards.append(
            f"**[{number}]** {inert(citation(hit))} · 相关度 {hit.score:.2f}\n\n"
            f"> {inert(hit.text).replace(chr(10), chr(10) + '> ')}{also}"
        )
    return "\n\n---\n\n".join(cards)


def build_app(searcher: Searcher):
    import gradio as gr

    def search(question: str, k: int = 5) -> list[dict]:
        """Hits for `question` as JSON objects (the `/search` API contract)."""
        try:
            return [hit.to_json() for hit in searcher.search(question, int(k)).hits]
        except EmptyQuestion as error:
            raise gr.Error(str(error)) from error

    def respond(question: str, history: list, k: float):
        history = list(history or [])
        if not question or not question.strip():
            return "", history
        try:
            answer = render_answer(searcher.search(question, int(k)))
        except EmptyQuestion as error:
            answer = str(error)
        history += [{"role": "user", "content": question},
                    {"role": "assistant", "content": answer}]
        return "", history

    with gr.Blocks(title="医院工作总结问答") as app:
        gr.Markdown("## 医院工作总结问答\n输入问题（中文、英文或混合），返回带出处的原文段落。")
        with gr.Tab("问答"):
            chatbot = gr.Chatbot(label="对话", height=560, elem_id="chat")
            with gr.Row():
                question = gr.Textbox(
                    placeholder="例如：医院如何推行院务公开？ / how did hospitals handle 院务公开?",
                    show_label=False, scale=8, elem_id="question", autofocus=True,
                )
                ask = gr.Button("提问", variant="primary", scale=1, elem_id="ask")
            k = gr.Slider(1, 10, value=searcher.settings.top_k, step=1, label="段落数")
            question.submit(respond, [question, chatbot, k], [question, chatbot], api_visibility="private")
            ask.click(respond, [question, chatbot, k], [question, chatbot], api_visibility="private")
        gr.api(search, api_name="search")
    return app


def prepare(settings: Settings, log=print) -> Searcher:
    """Convert the model and (re)build the index if needed; returns a warmed-up Searcher."""
    from .index import build, is_stale
    from .model import ensure_model

    ensure_model(settings.model)
    stale, reason = is_stale(settings.seeds, settings.index, settings.model)
    if stale:
        log(f"构建索引（{reason}）…")
        report = build(settings.seeds, settings.index, settings.model)
        log(f"索引就绪：{report.documents} 个文档，{report.chunks} 个段落，用时 {report.seconds:.1f} 秒")
        for skipped in report.skipped:
            log(f"跳过 {skipped['file']}：{skipped['reason']}")
    searcher = Searcher(settings)
    searcher.search("院务公开", 1)  # load the model and the index before the first visitor
    return searcher


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> int:
    import gradio as gr

    searcher = prepare(settings, log=lambda message: print(message, file=sys.stderr, flush=True))
    app = build_app(searcher)
    app.queue(default_concurrency_limit=4).launch(
        server_name=host, server_port=port, show_error=True, footer_links=["api"],
        theme=gr.themes.Soft(font=SYSTEM_FONTS, font_mono=["monospace"]), css=CSS,
    )
    return 0
