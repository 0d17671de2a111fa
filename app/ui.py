"""The browser app (Gradio): ask, read the sources, quote them into a draft; manage documents.

Chinese first, for hospital office staff writing a new summary with the tool open beside it.
The app talks to `Searcher` (search), `answer` (extractive answer, citations) and `admin`
(uploads, status); every passage is escaped before display, so a document containing HTML or
markdown shows as text. The named API endpoint `/search` returns hits as JSON objects.
"""

from __future__ import annotations

import html
import os
import re
import sys
from pathlib import Path

import gradio as gr

from . import answer, conversation, service, web
from .admin import PASSWORD_VARIABLE, TOKEN_COOKIE, UploadRejected, admin_mode, admin_password, index_status, store_upload
from .answer import EXPORT_MAX_AGE, WEAK_NOTICE, export_basket
from .config import Settings
from .query import EmptyQuestion
from .search import Hit, Searcher, SearchResult

SYSTEM_FONTS = ["system-ui", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "sans-serif"]
NO_ANSWER = "没有找到可靠的段落。请换一种说法，或使用文档中的关键词（例如“院务公开”“护理质量”）再试。"
SESSION_CAPACITY = 2000  # browser sessions whose state is kept (~100 KB each); the oldest go first (QA_SESSION_CAPACITY)
SESSION_LIFETIME = 12 * 3600  # seconds a session's chat, sources and basket are kept after their last change
MAX_HISTORY = 40  # chat messages kept (and sent back to the server) per session
GRADIO_CACHE_SWEEP = 600  # seconds between sweeps of Gradio's cache (files older than EXPORT_MAX_AGE go)
CSS = """
#viewer { max-height: 640px; overflow-y: auto; font-size: 15px; line-height: 1.7; }
#viewer .ln { display: flex; gap: 10px; }
#viewer .no { color: #94a3b8; min-width: 3em; text-align: right; user-select: none; }
#viewer .hl { background: #fff3bf; }
#viewer .outline { font-size: 13px; border-right: 1px solid #e2e8f0; padding-right: 8px; }
#viewer .outline a { color: #334155; text-decoration: none; display: block; }
#effective { color: #64748b; font-size: 13px; }
mark { background: #ffe08a; padding: 0 1px; }
"""
COPY_JS = """(quote) => {
  const done = () => { const t = document.getElementById('copy-status'); if (t) t.textContent = '已复制'; };
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(quote).then(done); }
  else { const a = document.createElement('textarea'); a.value = quote; document.body.appendChild(a);
         a.select(); document.execCommand('copy'); a.remove(); done(); }
  return quote;
}"""
# The password goes to /admin/login, never into a component value or a Gradio session; the
# handler after it only learns the outcome (the HttpOnly cookie it set, and its message).
LOGIN_JS = """async (password) => {
  try {
    const reply = await fetch(new URL('admin/login', document.baseURI), {method: 'POST', credentials: 'same-origin',
      headers: {'content-type': 'application/json'}, body: JSON.stringify({password: password || ''})});
    return (await reply.json()).message;
  } catch (error) { return '无法连接服务器，请稍后再试。'; }
}"""
LOGOUT_JS = """async () => {
  try { await fetch(new URL('admin/logout', document.baseURI), {method: 'POST', credentials: 'same-origin'}); }
  catch (error) {}
  return [];
}"""
SCROLL_JS = "() => { setTimeout(() => document.querySelector('#viewer .hl')?.scrollIntoView({block: 'center'}), 300); }"


# ---------------------------------------------------------------- rendering


def inert(text: str) -> str:
    """Text that renders literally inside markdown: no HTML, no markdown syntax."""
    escaped = html.escape(text, quote=False)
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~>])", r"\\\1", escaped)


def highlighted(text: str, terms: list[str]) -> str:
    """Passage text as inert HTML, the matched terms wrapped in <mark>."""
    parts, position = [], 0
    for start, end in answer.highlight_spans(text, terms):
        parts += [html.escape(text[position:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        position = end
    parts.append(html.escape(text[position:]))
    return "".join(parts).replace("\n", "<br>")


def source_label(number: int, hit: Hit) -> str:
    return f"[{number}] {answer.citation(hit)}"


def render_answer(result: SearchResult) -> str:
    """The assistant's message: extractive answer with [n] markers, then one card per source."""
    if not result.hits:
        return NO_ANSWER
    if result.confidence == "weak":
        lines = [f"**{WEAK_NOTICE}**", ""]
    else:
        sentences = answer.extract(result)
        lines = ["**回答**（摘自原文）：", "".join(f"{inert(s.text)} **[{s.source}]** " for s in sentences), ""]
    for number, hit in enumerate(result.hits, 1):
        also = ""
        if hit.also_in:
            places = "；".join(f"{a['doc']} 第{a['line_start']}–{a['line_end']}行" for a in hit.also_in)
            also = f"<br><em>也见于：{html.escape(places)}</em>"
        # One line of raw HTML: markdown leaves it alone, so only HTML escaping applies.
        lines.append(
            f"<details><summary><b>[{number}]</b> {html.escape(answer.citation(hit))} · 相关度 {hit.relevance:.0%}"
            f"</summary><blockquote>{highlighted(hit.text, answer.matched_terms(result, hit))}{also}"
            "</blockquote></details>"
        )
    return "\n".join(lines)


def render_document(searcher: Searcher, hit: dict) -> str:
    """The whole source document, passage highlighted, outline beside it (inert HTML)."""
    try:
        document, chunks = searcher.open_document(hit["doc"])
    except (KeyError, OSError) as error:
        return f"<p>无法打开文档：{html.escape(str(error))}</p>"
    outline, seen = [], set()
    for chunk in chunks:
        if chunk.section and chunk.section not in seen:
            seen.add(chunk.section)
            indent = 12 * (len(chunk.section) - 1)
            outline.append(f'<a href="#L{chunk.line_start}" style="padding-left:{indent}px">'
                           f"{html.escape(chunk.section[-1])}</a>")
    rows = []
    for number, line in enumerate(document.text.splitlines(), 1):
        mark = " hl" if hit["line_start"] <= number <= hit["line_end"] else ""
        rows.append(f'<div class="ln{mark}" id="L{number}"><span class="no">{number}</span>'
                    f"<span>{html.escape(line) or '&nbsp;'}</span></div>")
    return (f"<h4>{html.escape(hit['title'])} · {html.escape(hit['doc'])}</h4>"
            '<div style="display:flex;gap:16px"><div class="outline" style="flex:1">'
            + "".join(outline) + '</div><div style="flex:3">' + "".join(rows) + "</div></div>")


def render_basket(basket: list[dict]) -> str:
    if not basket:
        return "引文篮是空的。在“问答”页选中一条来源，点“加入引文篮”。"
    return "\n\n".join(f"{number}. {inert(item['quote'])}" for number, item in enumerate(basket, 1))


def render_status(status: dict) -> str:
    state = "需要重建" if status["stale"] else "最新"
    skipped = "".join(f"\n- {inert(s['file'])}：{inert(s['reason'])}" for s in status["skipped"])
    building = service.background.describe()
    return (f"**索引状态**：{state}（{inert(status['reason'])}）\n\n"
            f"- 文档：{status['documents']}　段落：{status['chunks']}\n- 模型：{inert(status['model'])}\n"
            f"- 上次构建：{inert(status['built'] or '从未')}\n- 版本：{inert(status['generation'] or '无')}"
            + (f"\n\n**未能索引的文件**：{skipped}" if skipped else "")
            + (f"\n\n**{inert(building)}**" if building else ""))


# ---------------------------------------------------------------- the app


def build_app(searcher: Searcher, edge: web.Edge | None = None):
    """The Gradio app. `edge` is what the HTTP middleware enforces (admin mode, sign-ins); the
    admin handlers check it again themselves."""
    settings = searcher.settings
    edge = edge or web.Edge(mode="password" if admin_password() is not None else "open")

    def search(question: str, k: int = 5) -> list[dict]:
        """Hits for `question` as JSON objects (the `/search` API contract)."""
        try:
            count = int(k)
        except (TypeError, ValueError, OverflowError) as error:
            raise gr.Error("段落数 k 必须是整数（1–50）。", print_exception=False) from error
        try:
            return [hit.to_json() for hit in searcher.search(question or "", count).hits]
        except EmptyQuestion as error:
            raise gr.Error(str(error), print_exception=False) from error

    def respond(question, history, k, documents, articles, topic):
        history = list(history or [])[-(MAX_HISTORY - 2):]  # the two new messages make MAX_HISTORY
        if not question or not question.strip():
            return gr.update(), history, gr.update(), gr.update(), [], topic
        query = conversation.effective_query(question, topic)
        is_follow_up = query != question.strip()
        try:
            result = searcher.search(query, int(k), documents=documents or (), articles=articles or ())
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

    def pick_source(label, hits):
        hit = _hit_for(label, hits)
        return hit["quote"] if hit else ""

    def add_to_basket(label, hits, basket):
        hit = _hit_for(label, hits)
        basket = list(basket or [])
        if hit and all(item["quote"] != hit["quote"] for item in basket):
            basket.append({"quote": hit["quote"], "doc": hit["doc"]})
        return basket_changed(basket)

    def view_source(label, hits):
        hit = _hit_for(label, hits)
        if not hit:
            return "请先在右侧选择一条来源。", gr.update()
        return render_document(searcher, hit), gr.update(selected="viewer-tab")

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

    def refresh_filters(documents):
        catalogue = searcher.catalogue()
        articles = [a for doc in (documents or catalogue) for a in catalogue.get(doc, [])]
        return gr.update(choices=list(dict.fromkeys(articles)), value=[])

    def is_admin(request: gr.Request | None) -> bool:
        try:
            cookies = dict(request.cookies) if request is not None else {}
        except (AttributeError, KeyError, TypeError):
            cookies = {}
        return edge.is_admin(token=cookies.get(TOKEN_COOKIE) or "")

    def refuse_unless_admin(request: gr.Request | None) -> None:
        if not is_admin(request):
            raise gr.Error("需要管理员登录。", print_exception=False)

    def enter_admin(message, request: gr.Request):
        """After the page signed in at /admin/login: the panel if the cookie is now valid."""
        if not is_admin(request):
            return gr.update(), gr.update(visible=False), gr.update(), "", inert(str(message or "密码错误。")[:200])
        return gr.update(visible=False), gr.update(visible=True), render_status(index_status(settings)), "", ""

    def leave_admin():
        return gr.update(visible=True), gr.update(visible=False), "已退出管理。"

    def upload(files, overwrite, request: gr.Request):
        refuse_unless_admin(request)
        messages = []
        for file in files or []:
            path = Path(file if isinstance(file, str) else file.name)
            try:
                messages.append(f"- 已保存：{inert(store_upload(settings.seeds, path, path.name, overwrite))}")
            except UploadRejected as problem:
                messages.append(f"- 未保存：{inert(str(problem))}")
        return "\n".join(messages) or "请先选择要上传的文件。", render_status(index_status(settings))

    def rebuild(request: gr.Request, progress=gr.Progress()):  # noqa: B008 - how Gradio injects a progress bar
        refuse_unless_admin(request)
        from .index import IndexProblem, build

        stages = {"documents": "读取文档", "embedding": "计算段落向量", "windows": "计算句子向量",
                  "writing": "写入索引"}

        def report(stage, done, total):
            progress((done, total), desc=stages.get(stage, stage))

        try:
            result = build(settings.seeds, settings.index, settings.model, progress=report,
                           embedder=searcher.embedder)
        except IndexProblem as problem:
            return f"重建失败：{inert(str(problem))}", render_status(index_status(settings))
        _ = searcher.generation  # switch to the new generation now, not on the next question
        lines = [f"重建完成：{result.documents} 个文档，{result.chunks} 个段落，新计算 {result.embedded_chunks} 个段落、"
                 f"{result.embedded_windows} 个句子的向量，"
                 f"用时 {result.seconds:.1f} 秒。"]
        for label, names in (("新增", result.added), ("修改", result.changed), ("删除", result.removed)):
            if names:
                lines.append(f"- {label}：{inert('、'.join(names))}")
        lines += [f"- 未能索引 {inert(s['file'])}：{inert(s['reason'])}" for s in result.skipped]
        return "\n".join(lines), render_status(index_status(settings))

    catalogue = searcher.catalogue()
    with gr.Blocks(title="医院工作总结问答", delete_cache=(GRADIO_CACHE_SWEEP, EXPORT_MAX_AGE)) as app:
        topic = gr.State(None, time_to_live=SESSION_LIFETIME)
        hits_state = gr.State([], time_to_live=SESSION_LIFETIME)
        basket = gr.State([], time_to_live=SESSION_LIFETIME)
        gr.Markdown("## 医院工作总结问答\n用中文、英文或中英混合提问，返回带出处的原文段落，可一键引用到新文稿。")
        with gr.Tabs() as tabs:
            with gr.Tab("问答", id="chat-tab"):
                with gr.Row():
                    with gr.Column(scale=3):
                        # No LaTeX: "$$…$$" in a summary is text like any other.
                        chatbot = gr.Chatbot(label="对话", height=560, elem_id="chat", allow_tags=False,
                                             buttons=["copy"], latex_delimiters=[])
                        with gr.Row():
                            question = gr.Textbox(
                                label="问题", placeholder="例如：医院如何推行院务公开？ / how did hospitals handle 院务公开?",
                                show_label=False, scale=8, elem_id="question", autofocus=True, max_length=2000,
                            )
                            ask = gr.Button("提问", variant="primary", scale=1, elem_id="ask")
                        effective = gr.Markdown(elem_id="effective")
                    with gr.Column(scale=2):
                        with gr.Accordion("筛选", open=False):
                            documents = gr.Dropdown(list(catalogue), multiselect=True, label="文档", elem_id="filter-docs")
                            articles = gr.Dropdown([a for arts in catalogue.values() for a in arts], multiselect=True,
                                                   label="篇目", elem_id="filter-articles")
                            k = gr.Slider(1, 10, value=settings.top_k, step=1, label="段落数", elem_id="k")
                        sources = gr.Radio([], label="来源（选择一条以引用或查看原文）", elem_id="sources")
                        quote = gr.Textbox(label="引文", lines=4, elem_id="quote", buttons=["copy"], interactive=False)
                        with gr.Row():
                            copy = gr.Button("复制引文", elem_id="copy")
                            add = gr.Button("加入引文篮", elem_id="add")
                            view = gr.Button("查看原文", elem_id="view")
                        gr.HTML('<span id="copy-status" style="color:#16a34a"></span>')
            with gr.Tab("原文", id="viewer-tab"):
                viewer = gr.HTML("在“问答”页选择一条来源，点“查看原文”。", elem_id="viewer")
            with gr.Tab("引文篮", id="basket-tab"):
                basket_view = gr.Markdown(render_basket([]), elem_id="basket")
                chosen = gr.Dropdown([], label="选择一条引文", elem_id="basket-choice")
                with gr.Row():
                    up = gr.Button("上移", elem_id="basket-up")
                    down = gr.Button("下移", elem_id="basket-down")
                    drop = gr.Button("删除", elem_id="basket-remove")
                with gr.Row():
                    export_md = gr.DownloadButton("导出 .md", elem_id="export-md")
                    export_docx = gr.DownloadButton("导出 .docx", elem_id="export-docx")
            with gr.Tab("管理", id="admin-tab", visible=edge.mode != "off"):
                locked = edge.mode == "password"
                with gr.Row(visible=locked) as login_row:
                    secret = gr.Textbox(type="password", label="管理员密码", elem_id="admin-password")
                    enter = gr.Button("进入管理", elem_id="admin-unlock")
                login_note = gr.Markdown(elem_id="admin-note", visible=locked)
                with gr.Column(visible=not locked) as panel:
                    status = gr.Markdown(render_status(index_status(settings)) if not locked else "", elem_id="status")
                    leave = gr.Button("退出管理", size="sm", elem_id="admin-logout", visible=locked)
                    files = gr.File(file_count="multiple", file_types=[".txt", ".md", ".docx"],
                                    label="上传工作总结（.txt / .md / .docx，单个不超过 20 MB）", elem_id="upload")
                    overwrite = gr.Checkbox(label="覆盖同名文件", value=False, elem_id="overwrite")
                    with gr.Row():
                        save = gr.Button("上传到文档库", elem_id="save-upload")
                        rebuild_button = gr.Button("重建索引", variant="primary", elem_id="rebuild")
                    admin_log = gr.Markdown(elem_id="admin-log")

        private = {"api_visibility": "private"}
        for trigger in (question.submit, ask.click):
            trigger(respond, [question, chatbot, k, documents, articles, topic],
                    [question, chatbot, effective, sources, hits_state, topic], **private)
        sources.change(pick_source, [sources, hits_state], quote, **private)
        copy.click(None, quote, quote, js=COPY_JS, **private)
        basket_outputs = [basket, basket_view, chosen, export_md, export_docx]
        add.click(add_to_basket, [sources, hits_state, basket], basket_outputs, **private)
        view.click(view_source, [sources, hits_state], [viewer, tabs], **private).then(None, js=SCROLL_JS)
        documents.change(refresh_filters, documents, articles, **private)
        up.click(lambda b, c: move(b, c, -1), [basket, chosen], basket_outputs, **private)
        down.click(lambda b, c: move(b, c, 1), [basket, chosen], basket_outputs, **private)
        drop.click(remove, [basket, chosen], basket_outputs, **private)
        for trigger in (enter.click, secret.submit):
            trigger(enter_admin, secret, [login_row, panel, status, secret, login_note], js=LOGIN_JS, **private)
        leave.click(leave_admin, None, [login_row, panel, login_note], js=LOGOUT_JS, **private)
        save.click(upload, [files, overwrite], [admin_log, status], concurrency_id="admin", **private)
        rebuild_button.click(rebuild, None, [admin_log, status], concurrency_id="admin",
                             concurrency_limit=1, **private)
        gr.api(search, api_name="search")
    return app


def _hit_for(label: str | None, hits: list[dict]) -> dict | None:
    match = re.match(r"\[(\d+)\]", label or "")
    number = int(match.group(1)) if match else 0
    return hits[number - 1] if 0 < number <= len(hits) else None


def _basket_choices(basket: list[dict]) -> list[str]:
    return [f"{n}. {item['quote'][:40]}…" for n, item in enumerate(basket, 1)]


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> int:
    """Serve the app. Without QA_ADMIN_PASSWORD the admin tab is only served on loopback.
    Gradio keeps uploads and exports in the app's own temporary folder (QA_TEMP_DIR, else
    `.cache/tmp` beside the index), trimmed by age and size; error details other than the
    app's own Chinese messages (which could name server paths) are not sent to clients."""
    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    mode = admin_mode(host)
    if mode == "off":
        say(f"未设置管理员密码（环境变量 {PASSWORD_VARIABLE}）：在 {host} 上只提供问答，不开放“管理”页面。")
    temp = Path(os.environ.get("QA_TEMP_DIR") or settings.index.parent / ".cache" / "tmp")
    temp.mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(temp)  # read when the app below is created
    proxies = frozenset(a.strip() for a in os.environ.get("QA_TRUSTED_PROXIES", "").split(",") if a.strip())
    edge = web.Edge(mode=mode, trusted_proxies=proxies, temp=temp)
    searcher = service.prepare(settings, say=say)
    app = build_app(searcher, edge)
    app.queue(default_concurrency_limit=4, max_size=web.QUEUE_SIZE).launch(
        server_name=host, server_port=port, show_error=False, footer_links=["api"],
        max_file_size="20mb", theme=gr.themes.Soft(font=SYSTEM_FONTS, font_mono=["monospace"]), css=CSS,
        enable_monitoring=False, app_kwargs=web.app_kwargs(edge),
        state_session_capacity=int(os.environ.get("QA_SESSION_CAPACITY") or SESSION_CAPACITY),
    )
    return 0
