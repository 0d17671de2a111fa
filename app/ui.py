"""The browser app (Gradio): ask, read the sources, quote them into a draft; manage documents.

Chinese first, for hospital office staff writing a new summary with the tool open beside it.
This module lays the page out, one builder per tab, and connects its events to the handlers
of `app/handlers.py`; what is shown comes from `app/render.py`. The named API endpoint
`/search` returns hits as JSON objects.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

import gradio as gr

from . import handlers, service, web
from .admin import PASSWORD_VARIABLE, PasswordGuard, admin_mode, index_status
from .answer import EXPORT_MAX_AGE
from .config import Settings
from .formats import SUPPORTED_SUFFIXES
from .handlers import Admin, Chat
from .render import render_basket, render_status
from .search import Searcher

SYSTEM_FONTS = ["system-ui", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "sans-serif"]
SESSION_LIFETIME = 12 * 3600  # seconds a session's chat, sources and basket are kept after their last change
GRADIO_CACHE_SWEEP = 600  # seconds between sweeps of Gradio's cache (files older than EXPORT_MAX_AGE go)
CSS = """
#viewer { max-height: 640px; overflow-y: auto; font-size: 15px; line-height: 1.7; }
#viewer .ln { display: flex; gap: 10px; }
#viewer .no { color: #94a3b8; min-width: 3em; text-align: right; user-select: none; }
#viewer .hl { background: #fff3bf; }
#viewer .page { color: #64748b; text-align: center; margin: 8px 0; font-size: 90%; }
#viewer .ocr-low { text-decoration: underline wavy #dc2626; }
#viewer .furniture, #viewer .furniture span { color: #94a3b8; text-decoration: line-through; }
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


# ---------------------------------------------------------------- the app

PRIVATE = {"api_visibility": "private"}  # page events are not part of the API (only /search is)


def build_app(searcher: Searcher, edge: web.Edge | None = None):
    """The Gradio app. `edge` is what the HTTP middleware enforces (admin mode, sign-ins); the
    admin handlers check it again themselves."""
    password = searcher.settings.admin_password
    edge = edge or web.Edge(mode="password" if password is not None else "open", guard=PasswordGuard(password))
    chat, admin = Chat(searcher), Admin(searcher, edge)
    with gr.Blocks(title="医院工作总结问答", delete_cache=(GRADIO_CACHE_SWEEP, EXPORT_MAX_AGE)) as app:
        session = SimpleNamespace(topic=gr.State(None, time_to_live=SESSION_LIFETIME),
                                  hits=gr.State([], time_to_live=SESSION_LIFETIME),
                                  basket=gr.State([], time_to_live=SESSION_LIFETIME))
        gr.Markdown("## 医院工作总结问答\n用中文、英文或中英混合提问，返回带出处的原文段落，可一键引用到新文稿。")
        with gr.Tabs() as tabs:
            asking = _chat_tab(searcher)
            with gr.Tab("原文", id="viewer-tab"):
                viewer = gr.HTML("在“问答”页选择一条来源，点“查看原文”。", elem_id="viewer")
            quotes = _basket_tab()
            managing = _admin_tab(searcher.settings, edge)
        _connect_chat(chat, asking, session, viewer, tabs)
        _connect_basket(asking, quotes, session)
        _connect_admin(admin, managing)
        gr.api(chat.search, api_name="search")
    return app


def _chat_tab(searcher: Searcher) -> SimpleNamespace:
    catalogue = searcher.catalogue()
    with gr.Tab("问答", id="chat-tab"), gr.Row():
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
                k = gr.Slider(1, 10, value=searcher.settings.top_k, step=1, label="段落数", elem_id="k")
            sources = gr.Radio([], label="来源（选择一条以引用或查看原文）", elem_id="sources")
            quote = gr.Textbox(label="引文", lines=4, elem_id="quote", buttons=["copy"], interactive=False)
            with gr.Row():
                copy = gr.Button("复制引文", elem_id="copy")
                add = gr.Button("加入引文篮", elem_id="add")
                view = gr.Button("查看原文", elem_id="view")
            gr.HTML('<span id="copy-status" style="color:#16a34a"></span>')
    return SimpleNamespace(chatbot=chatbot, question=question, ask=ask, effective=effective, documents=documents,
                           articles=articles, k=k, sources=sources, quote=quote, copy=copy, add=add, view=view)


def _basket_tab() -> SimpleNamespace:
    with gr.Tab("引文篮", id="basket-tab"):
        view = gr.Markdown(render_basket([]), elem_id="basket")
        chosen = gr.Dropdown([], label="选择一条引文", elem_id="basket-choice")
        with gr.Row():
            up = gr.Button("上移", elem_id="basket-up")
            down = gr.Button("下移", elem_id="basket-down")
            drop = gr.Button("删除", elem_id="basket-remove")
        with gr.Row():
            export_md = gr.DownloadButton("导出 .md", elem_id="export-md")
            export_docx = gr.DownloadButton("导出 .docx", elem_id="export-docx")
    return SimpleNamespace(view=view, chosen=chosen, up=up, down=down, drop=drop, export_md=export_md,
                           export_docx=export_docx)


def _admin_tab(settings: Settings, edge: web.Edge) -> SimpleNamespace:
    with gr.Tab("管理", id="admin-tab", visible=edge.mode != "off"):
        locked = edge.mode == "password"
        with gr.Row(visible=locked) as login_row:
            secret = gr.Textbox(type="password", label="管理员密码", elem_id="admin-password")
            enter = gr.Button("进入管理", elem_id="admin-unlock")
        login_note = gr.Markdown(elem_id="admin-note", visible=locked)
        with gr.Column(visible=not locked) as panel:
            status = gr.Markdown(render_status(index_status(settings)) if not locked else "", elem_id="status")
            leave = gr.Button("退出管理", size="sm", elem_id="admin-logout", visible=locked)
            files = gr.File(file_count="multiple", file_types=list(SUPPORTED_SUFFIXES),
                            label="上传工作总结（文本、Word/WPS、PDF、扫描图片、网页，单个不超过 20 MB）", elem_id="upload")
            overwrite = gr.Checkbox(label="覆盖同名文件", value=False, elem_id="overwrite")
            with gr.Row():
                save = gr.Button("上传到文档库", elem_id="save-upload")
                rebuild = gr.Button("重建索引", variant="primary", elem_id="rebuild")
            log = gr.Markdown(elem_id="admin-log")
    return SimpleNamespace(login_row=login_row, secret=secret, enter=enter, login_note=login_note, panel=panel,
                           status=status, leave=leave, files=files, overwrite=overwrite, save=save, rebuild=rebuild,
                           log=log)


def _connect_chat(chat: Chat, tab: SimpleNamespace, session: SimpleNamespace, viewer, tabs) -> None:
    for trigger in (tab.question.submit, tab.ask.click):
        trigger(chat.respond, [tab.question, tab.chatbot, tab.k, tab.documents, tab.articles, session.topic],
                [tab.question, tab.chatbot, tab.effective, tab.sources, session.hits, session.topic], **PRIVATE)
    tab.sources.change(handlers.pick_source, [tab.sources, session.hits], tab.quote, **PRIVATE)
    tab.copy.click(None, tab.quote, tab.quote, js=COPY_JS, **PRIVATE)
    tab.view.click(chat.view_source, [tab.sources, session.hits], [viewer, tabs], **PRIVATE).then(None, js=SCROLL_JS)
    tab.documents.change(chat.refresh_filters, tab.documents, tab.articles, **PRIVATE)


def _connect_basket(chat_tab: SimpleNamespace, tab: SimpleNamespace, session: SimpleNamespace) -> None:
    outputs = [session.basket, tab.view, tab.chosen, tab.export_md, tab.export_docx]
    chat_tab.add.click(handlers.add_to_basket, [chat_tab.sources, session.hits, session.basket], outputs, **PRIVATE)
    tab.up.click(lambda b, c: handlers.move(b, c, -1), [session.basket, tab.chosen], outputs, **PRIVATE)
    tab.down.click(lambda b, c: handlers.move(b, c, 1), [session.basket, tab.chosen], outputs, **PRIVATE)
    tab.drop.click(handlers.remove, [session.basket, tab.chosen], outputs, **PRIVATE)


def _connect_admin(admin: Admin, tab: SimpleNamespace) -> None:
    for trigger in (tab.enter.click, tab.secret.submit):
        trigger(admin.enter_admin, tab.secret, [tab.login_row, tab.panel, tab.status, tab.secret, tab.login_note],
                js=LOGIN_JS, **PRIVATE)
    tab.leave.click(admin.leave_admin, None, [tab.login_row, tab.panel, tab.login_note], js=LOGOUT_JS, **PRIVATE)
    tab.save.click(admin.upload, [tab.files, tab.overwrite], [tab.log, tab.status], concurrency_id="admin", **PRIVATE)
    tab.rebuild.click(admin.rebuild, None, [tab.log, tab.status], concurrency_id="admin", concurrency_limit=1,
                      **PRIVATE)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> int:
    """Serve the app. Without an admin password the admin tab is only served on loopback.
    Gradio keeps uploads and exports in the app's own temporary folder (`Settings.temp_folder`),
    trimmed by age and size; browser sessions are capped (`Settings.session_capacity`, ~100 KB
    each, the oldest go first); error details other than the app's own Chinese messages (which
    could name server paths) are not sent to clients."""
    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    mode = admin_mode(host, settings.admin_password)
    if mode == "off":
        say(f"未设置管理员密码（环境变量 {PASSWORD_VARIABLE}）：在 {host} 上只提供问答，不开放“管理”页面。")
    temp = settings.temp_folder
    temp.mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(temp)  # Gradio reads its folder from here when the app is created
    edge = web.Edge(mode=mode, guard=PasswordGuard(settings.admin_password), trusted_proxies=settings.trusted_proxies,
                    temp=temp)
    searcher = service.prepare(settings, say=say)
    app = build_app(searcher, edge)
    app.queue(default_concurrency_limit=4, max_size=web.QUEUE_SIZE).launch(
        server_name=host, server_port=port, show_error=False, footer_links=["api"],
        max_file_size="20mb", theme=gr.themes.Soft(font=SYSTEM_FONTS, font_mono=["monospace"]), css=CSS,
        enable_monitoring=False, app_kwargs=web.app_kwargs(edge),
        state_session_capacity=settings.session_capacity,
    )
    return 0
