"""The app in a real browser: Debian's Chromium driven by Playwright, as staff would use it.

Screenshots are saved in tests/screenshots/ (git-ignored) so a person can look at them.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT

from .test_ui import serving

CHROMIUM = "/usr/bin/chromium"
SHOTS = PROJECT_ROOT / "tests" / "screenshots"
PASSWORD = "test-admin-口令"
NEW_SUMMARY = ("急诊科年度工作总结\n\n一、院前急救\n\n"
               "全年救护车出车一千二百次，平均出车时间缩短到三分钟以内，院前急救网络覆盖全县各乡镇。\n")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make test installs it)")


@pytest.fixture(scope="module")
def app_url(seed_index, tmp_path_factory):
    """The app on a copy of the seeds and of their index, with an admin password."""
    work = tmp_path_factory.mktemp("browser")
    shutil.copytree(seed_index.seeds, work / "seeds")
    shutil.copytree(seed_index.index, work / "index")
    with serving("--index", str(work / "index"), "--seeds", str(work / "seeds"),
                 env={**os.environ, "QA_ADMIN_PASSWORD": PASSWORD, "PYTHONIOENCODING": "utf-8"}) as (url, _):
        yield url, work


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 950}, accept_downloads=True, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url[0].rstrip("/"))
    page = context.new_page()
    page.goto(app_url[0])
    page.wait_for_selector("#question textarea", timeout=60_000)
    yield page
    context.close()


def open_app(browser, url: str):
    """A fresh Chinese-locale browser context on the app, once its question box is there."""
    context = browser.new_context(viewport={"width": 1400, "height": 950}, locale="zh-CN")
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#question textarea", timeout=60_000)
    return context, page


def built_and_served(work: Path, model_dir, embedder):
    """Index work/seeds into work/index, then serve the app on it; yields its URL."""
    from app.index import build

    build(work / "seeds", work / "index", model_dir, embedder=embedder)
    with serving("--index", str(work / "index"), "--seeds", str(work / "seeds")) as (url, _):
        yield url


def ask(page, question: str, typed: bool = True):
    box = page.locator("#question textarea")
    box.click()
    if typed:
        box.press_sequentially(question, delay=5)
    else:
        page.keyboard.insert_text(question)  # how an IME commits composed CJK text
    count = page.locator("#chat .message-row").count()
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#chat .message-row').length >= n + 2", arg=count, timeout=60_000)
    page.wait_for_timeout(500)
    return page.locator("#chat .message-row").last.inner_text()


def test_chinese_question_by_enter_shows_cited_answer(page):
    began = time.perf_counter()
    reply = ask(page, "医院怎样让职工了解每月的开支情况？", typed=False)
    seconds = time.perf_counter() - began
    page.screenshot(path=str(SHOTS / "01-answer.png"))
    assert "回答" in reply and "[1]" in reply
    assert "院务公开" in reply and "001_824a9c74254aab94.txt" in reply and "行" in reply
    print(f"time to first answer in the browser: {seconds:.2f} s")


def test_open_source_copy_quote_basket_and_docx(page):
    ask(page, "how did hospitals handle 院务公开?")
    first = page.locator("#sources label").first
    first.click()
    quote = page.locator("#quote textarea")
    page.wait_for_function("() => document.querySelector('#quote textarea').value.startsWith('“')")
    assert "第" in quote.input_value() and ".txt" in quote.input_value()

    page.locator("#copy").click()
    page.wait_for_timeout(300)
    assert page.evaluate("navigator.clipboard.readText()") == quote.input_value()

    page.locator("#view").click()
    page.wait_for_selector("#viewer .hl", timeout=10_000)
    page.wait_for_timeout(600)
    page.screenshot(path=str(SHOTS / "02-source-viewer.png"))
    assert "院务公开" in page.locator("#viewer .hl").first.inner_text() or page.locator("#viewer .hl").count() > 0

    page.get_by_role("tab", name="问答").click()
    page.locator("#add").click()
    page.locator("#sources label").nth(1).click()
    page.wait_for_timeout(300)
    page.locator("#add").click()
    page.get_by_role("tab", name="引文篮").click()
    page.wait_for_timeout(500)
    assert page.locator("#basket li").count() == 2
    page.screenshot(path=str(SHOTS / "03-basket.png"))
    with page.expect_download() as download:
        page.locator("#export-docx").click()
    saved = Path(download.value.path())
    from docx import Document as WordDocument

    paragraphs = [p.text for p in WordDocument(saved).paragraphs]
    assert paragraphs[0] == "引文" and len(paragraphs) == 3 and paragraphs[1].startswith("“")


def test_follow_up_reuses_topic_and_nonsense_gets_a_plain_refusal(page):
    ask(page, "医院如何推行院务公开")
    ask(page, "那护理方面呢？")
    assert "追问" in page.locator("#effective").inner_text()
    reply = ask(page, "明天的天气预报怎么样")
    page.screenshot(path=str(SHOTS / "04-follow-up-and-refusal.png"))
    assert "没有找到可靠的段落" in reply


def test_a_question_about_something_never_mentioned_shows_passages_as_no_answer(page):
    reply = ask(page, "what interest rate did we get on that Israeli government loan?")
    page.screenshot(path=str(SHOTS / "04b-never-mentioned.png"))
    assert "interest rate → —" in page.locator("#effective").inner_text()
    assert reply.startswith("未找到直接回答") and "相关度 42%" in reply  # half its probability: plainly no answer


def test_admin_uploads_a_summary_and_finds_it_after_rebuild(page, app_url):
    sent = []  # every request the page makes: the password may only travel to /admin/login
    page.on("request", lambda request: sent.append((request.url, request.post_data_buffer or b"")))
    page.get_by_role("tab", name="管理").click()
    page.locator("#admin-password input").fill("wrong")
    page.locator("#admin-unlock").click()
    page.wait_for_function("() => document.querySelector('#admin-note')?.innerText.includes('密码错误')", timeout=10_000)
    assert not page.locator("#rebuild").is_visible()
    page.locator("#admin-password input").fill(PASSWORD)
    page.locator("#admin-unlock").click()
    page.wait_for_selector("#rebuild", state="visible")
    assert page.locator("#admin-password input").count() == 0 or not page.locator("#admin-password").is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "qa_admin")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # page scripts cannot read the token
    carrying = {url.split("?")[0].rsplit("/", 2)[-2:][-1] for url, body in sent if PASSWORD.encode() in body}
    assert carrying == {"login"}, carrying
    assert not any(cookie["value"].encode() in body or cookie["value"] in url for url, body in sent)
    upload = app_url[1] / "急诊科总结.txt"
    page.locator("#upload input[type=file]").set_input_files(
        files=[{"name": "急诊科总结.txt", "mimeType": "text/plain", "buffer": NEW_SUMMARY.encode()}])
    page.wait_for_timeout(1000)
    page.locator("#save-upload").click()
    page.wait_for_function("() => document.querySelector('#admin-log').innerText.includes('已保存')", timeout=20_000)
    assert (app_url[1] / "seeds" / "急诊科总结.txt").read_text("utf-8") == NEW_SUMMARY
    assert not upload.exists()
    page.locator("#rebuild").click()
    page.wait_for_function("() => document.querySelector('#admin-log').innerText.includes('重建完成')", timeout=120_000)
    page.screenshot(path=str(SHOTS / "05-admin-rebuilt.png"))
    page.get_by_role("tab", name="问答").click()
    reply = ask(page, "救护车平均出车时间")
    assert "急诊科总结.txt" in reply
    page.get_by_role("tab", name="管理").click()
    page.locator("#admin-logout").click()
    page.wait_for_selector("#admin-password input", state="visible")
    assert not page.locator("#rebuild").is_visible()
    assert not any(c["name"] == "qa_admin" for c in page.context.cookies())


@pytest.fixture(scope="module")
def injected_app_url(seed_index, tmp_path_factory, model_dir, embedder):
    """The app on the seeds plus a document full of HTML, script and markdown."""
    from .test_reliability import INJECTION_DOCUMENT

    work = tmp_path_factory.mktemp("injected")
    shutil.copytree(seed_index.seeds, work / "seeds")
    shutil.copytree(seed_index.index, work / "index")
    (work / "seeds" / "网页粘贴.md").write_text(INJECTION_DOCUMENT, "utf-8")
    yield from built_and_served(work, model_dir, embedder)


def test_html_in_documents_and_questions_shows_as_text_and_never_runs(browser, injected_app_url):
    context, page = open_app(browser, injected_app_url)
    reply = ask(page, "拦截跨站脚本攻击", typed=False)
    page.locator("#chat details summary").first.click()  # open the first source card
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "06-injection-answer.png"))
    assert "网页粘贴.md" in reply and "<svg/onload=window.__pwned=3>" in reply
    card = page.locator("#chat details").first.inner_text()
    assert "<svg/onload=window.__pwned=3>" in card and "**粗体** [链接](javascript:alert(1))" in card
    assert "`代码` $$x^2$$ | 表格 | ---" in card
    question = "<img src=x onerror=window.__pwned=4>跨站脚本攻击 **加粗**"
    ask(page, question, typed=False)
    assert page.locator("#chat .message-row").nth(-2).inner_text().strip() == question

    page.locator("#sources label").first.click()
    page.locator("#view").click()
    page.wait_for_selector("#viewer .hl", timeout=10_000)
    page.wait_for_timeout(600)
    page.screenshot(path=str(SHOTS / "07-injection-source.png"))
    source = page.locator("#viewer").inner_text()
    assert "<script>window.__pwned=1</script>" in source and '<img src=x onerror="window.__pwned=2">' in source
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#chat img, #chat svg[onload], #viewer img, #viewer script").count() == 0
    context.close()


@pytest.fixture(scope="module")
def scanned_app_url(tmp_path_factory, model_dir, embedder):
    """The app on the unseen rehabilitation summary as a scanned, image-only PDF (OCR)."""
    from app import ocr

    from .making import SOURCE, scan_pages

    if not ocr.available():
        pytest.skip("rapidocr is not installed")
    work = tmp_path_factory.mktemp("scanned")
    (work / "seeds").mkdir()
    pages = [image for image, _ in scan_pages(SOURCE)]
    pages[0].save(work / "seeds" / "康复科总结扫描件.pdf", save_all=True, append_images=pages[1:], resolution=200)
    yield from built_and_served(work, model_dir, embedder)


def test_a_scanned_pdf_is_cited_by_page_and_shown_beside_its_page_picture(browser, scanned_app_url):
    context, page = open_app(browser, scanned_app_url)
    reply = ask(page, "居家康复随访了多少患者？")
    assert "643" in reply and "第1页" in reply  # the answer is on the first page
    page.locator("#sources label").first.click()
    quote = page.locator("#quote textarea")
    page.wait_for_function("() => document.querySelector('#quote textarea').value.startsWith('“')")
    assert "康复科总结扫描件.pdf 第" in quote.input_value() and "页" in quote.input_value()
    page.locator("#view").click()
    page.wait_for_selector("#viewer .hl", timeout=10_000)
    page.wait_for_selector("#viewer .pages img", timeout=10_000)
    page.wait_for_timeout(600)
    page.screenshot(path=str(SHOTS / "07-scanned-pdf-viewer.png"))
    assert page.locator("#viewer .page").count() == 2  # "— 第1页 —", "— 第2页 —"
    assert page.evaluate("document.querySelector('#viewer .pages img').naturalWidth") == 760
    context.close()


@pytest.fixture(scope="module")
def furnished_app_url(tmp_path_factory, model_dir, embedder):
    """The app on three summaries saved from one template site (tests/data/furniture)."""
    from .test_furniture import corpus

    work = tmp_path_factory.mktemp("furnished")
    corpus(work / "seeds")
    yield from built_and_served(work, model_dir, embedder)


def test_site_furniture_is_in_no_passage_and_struck_out_in_the_source(browser, furnished_app_url):
    from .test_furniture import BANNER, FOOTER

    context, page = open_app(browser, furnished_app_url)
    reply = ask(page, "停电应急演练搞了几次？")
    assert "[1] 《后勤保障部2024年工作总结》一、主要工作，logistics_2024.md" in reply  # the title is no banner
    assert BANNER not in reply and FOOTER not in reply
    page.locator("#sources label").first.click()
    page.locator("#view").click()
    page.wait_for_selector("#viewer .hl", timeout=10_000)
    page.wait_for_timeout(600)
    assert "全年组织停电应急演练2次" in page.locator("#viewer").inner_text()
    struck = page.locator("#viewer .furniture")
    assert struck.count() == 2 and BANNER in struck.first.inner_text()
    assert page.evaluate("getComputedStyle(document.querySelector('#viewer .furniture')).textDecorationLine") == "line-through"
    page.screenshot(path=str(SHOTS / "08-furniture-struck-out.png"))
    context.close()
