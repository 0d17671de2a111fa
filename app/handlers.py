"""The app's event handlers, at module level so that tests call them directly: the chat and its
sources (`Chat`), the quote basket (plain functions: it lives in the session's state), and the
admin tab (`Admin`, which checks the sign-in cookie itself as well as the HTTP edge does)."""

from __future__ import annotations

import re
from pathlib import Path

import gradio as gr

from . import answer, conversation, web
from .admin import TOKEN_COOKIE, UploadRejected, index_status, store_upload
from .answer import export_basket
from .index import readings_folder
from .query import EmptyQuestion
from .render import inert, render_answer, render_basket, render_document, render_status, source_label
from .search import Searcher
from .service import BUILD_STAGES

MAX_HISTORY = 40  # chat messages kept (and sent back to the server) per session


class Chat:
    """Questions, answers and the sources of the last answer."""

    def __init__(self, searcher: Searcher):
        self.searcher = searcher

    def search(self, question: str, k: int = 5) -> list[dict]:
        """Hits for `question` as JSON objects (the `/search` API contract)."""
        try:
            count = int(k)
        except (TypeError, ValueError, OverflowError) as error:
            raise gr.Error("段落数 k 必须是整数（1–50）。", print_exception=False) from error
        try:
            return [hit.to_json() for hit in self.searcher.search(question or "", count).hits]
        except EmptyQuestion as error:
            raise gr.Error(str(error), print_exception=False) from error

    def respond(self, question, history, k, documents, articles, topic):
        history = list(history or [])[-(MAX_HISTORY - 2):]  # the two new messages make MAX_HISTORY
        if not question or not question.strip():
            return gr.update(), history, gr.update(), gr.update(), [], topic
        query = conversation.effective_query(question, topic)
        is_follow_up = query != question.strip()
        try:
            result = self.searcher.search(query, int(k), documents=documents or (), articles=articles or ())
            reply = render_answer(result)
            effective = f"检索：{inert(result.expanded_query)}" + ("（追问，沿用上一个话题）" if is_follow_up else "")
        except EmptyQuestion as error:
            result, reply, effective = None, str(error), ""
        history += [{"role": "user", "content": inert(question)}, {"role": "assistant", "content": reply}]
        hits = [h.to_json() | {"quote": answer.quote(h)} for h in (result.hits if result else [])]
        choices = [source_label(n, h) for n, h in enumerate(result.hits, 1)] if result else []
        new_topic = topic if is_follow_up else (query if result and result.hits else topic)
        return ("", history, effective, gr.update(choices=choices, value=choices[0] if choices else None),
                hits, new_topic)

    def view_source(self, label, hits):
        hit = _hit_for(label, hits)
        if not hit:
            return "请先在右侧选择一条来源。", gr.update()
        return render_document(self.searcher, hit), gr.update(selected="viewer-tab")

    def refresh_filters(self, documents):
        catalogue = self.searcher.catalogue()
        articles = [a for doc in (documents or catalogue) for a in catalogue.get(doc, [])]
        return gr.update(choices=list(dict.fromkeys(articles)), value=[])


class Admin:
    """Index status, uploads and rebuilds, for a signed-in administrator only."""

    def __init__(self, searcher: Searcher, edge: web.Edge):
        self.searcher = searcher
        self.settings = searcher.settings
        self.edge = edge

    def is_admin(self, request: gr.Request | None) -> bool:
        try:
            cookies = dict(request.cookies) if request is not None else {}
        except (AttributeError, KeyError, TypeError):
            cookies = {}
        return self.edge.is_admin(token=cookies.get(TOKEN_COOKIE) or "")

    def refuse_unless_admin(self, request: gr.Request | None) -> None:
        if not self.is_admin(request):
            raise gr.Error("需要管理员登录。", print_exception=False)

    def enter_admin(self, message, request: gr.Request):
        """After the page signed in at /admin/login: the panel if the cookie is now valid."""
        if not self.is_admin(request):
            return gr.update(), gr.update(visible=False), gr.update(), "", inert(str(message or "密码错误。")[:200])
        return gr.update(visible=False), gr.update(visible=True), render_status(index_status(self.settings)), "", ""

    def leave_admin(self):
        return gr.update(visible=True), gr.update(visible=False), "已退出管理。"

    def upload(self, files, overwrite, request: gr.Request):
        self.refuse_unless_admin(request)
        messages = []
        for file in files or []:
            path = Path(file if isinstance(file, str) else file.name)
            try:
                stored = store_upload(self.settings.seeds, path, path.name, overwrite, readings_folder(self.settings.index))
                messages.append(f"- 已保存：{inert(stored)}")
            except UploadRejected as problem:
                messages.append(f"- 未保存：{inert(str(problem))}")
        return "\n".join(messages) or "请先选择要上传的文件。", render_status(index_status(self.settings))

    def rebuild(self, request: gr.Request, progress=gr.Progress()):  # noqa: B008 - how Gradio injects a progress bar
        self.refuse_unless_admin(request)
        from .index import IndexProblem, build

        def report(stage, done, total):
            progress((done, total), desc=BUILD_STAGES.get(stage, stage))

        try:
            result = build(self.settings.seeds, self.settings.index, self.settings.model, progress=report,
                           embedder=self.searcher.embedder)
        except IndexProblem as problem:
            return f"重建失败：{inert(str(problem))}", render_status(index_status(self.settings))
        _ = self.searcher.generation  # switch to the new generation, its English reading warmed, now
        lines = [f"重建完成：{result.documents} 个文档，{result.chunks} 个段落，新计算 {result.embedded_chunks} 个段落、"
                 f"{result.embedded_windows} 个句子的向量，"
                 f"用时 {result.seconds:.1f} 秒。"]
        for label, names in (("新增", result.added), ("修改", result.changed), ("删除", result.removed)):
            if names:
                lines.append(f"- {label}：{inert('、'.join(names))}")
        lines += [f"- 未能索引 {inert(s['file'])}：{inert(s['reason'])}" for s in result.skipped]
        return "\n".join(lines), render_status(index_status(self.settings))


def pick_source(label, hits):
    hit = _hit_for(label, hits)
    return hit["quote"] if hit else ""


def add_to_basket(label, hits, basket):
    hit = _hit_for(label, hits)
    basket = list(basket or [])
    if hit and all(item["quote"] != hit["quote"] for item in basket):
        basket.append({"quote": hit["quote"], "doc": hit["doc"]})
    return basket_changed(basket)


def move(basket, chosen, step):
    basket = list(basket or [])
    if chosen in _basket_choices(basket):
        i = _basket_choices(basket).index(chosen)
        j = i + step
        if 0 <= j < len(basket):
            basket[i], basket[j] = basket[j], basket[i]
            chosen = _basket_choices(basket)[j]
    return basket_changed(basket, chosen)


def remove(basket, chosen):
    basket = list(basket or [])
    if chosen in _basket_choices(basket):
        del basket[_basket_choices(basket).index(chosen)]
    return basket_changed(basket)


def basket_changed(basket, chosen=None):
    """Re-render the basket and prepare both downloads, so one click saves the file."""
    files = [export_basket(basket, kind) if basket else None for kind in ("md", "docx")]
    return (basket, render_basket(basket), gr.update(choices=_basket_choices(basket), value=chosen),
            *files)



def _hit_for(label: str | None, hits: list[dict]) -> dict | None:
    match = re.match(r"\[(\d+)\]", label or "")
    number = int(match.group(1)) if match else 0
    return hits[number - 1] if 0 < number <= len(hits) else None


def _basket_choices(basket: list[dict]) -> list[str]:
    return [f"{n}. {item['quote'][:40]}…" for n, item in enumerate(basket, 1)]
