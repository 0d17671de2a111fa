"""Load (issue 7): 16 clients ask different questions for a minute while the index is rebuilt.

The app runs as staff start it (`python -m app serve`, loopback only) on copies of the seeds
and the index, and is asked through its `/search` API. Five seconds in, new summaries land in
the seeds copy and `build_index.py --full` runs beside the server. Every client stops after a
minute (later only if the rebuild is still running, never after four), so the number of
requests is bounded. The test asserts that every request completed without an error and that
answers move to the new generation once the rebuild is done; latency is reported on stdout and
in bench/results/load.json, never asserted.

    .venv/bin/python -m pytest -s tests/test_load.py
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from app.config import PROJECT_ROOT
from app.evaluate import read_questions

from .test_ui import serving

CLIENTS = 16
SECONDS = 60
LATEST_STOP = 240  # seconds: the bound even if the rebuild were slow
REBUILD_AT = 5
MAX_REQUESTS_PER_CLIENT = 2_000
NEW_QUESTION = "急诊科救护车平均出车时间"  # answered by the new summaries only
NEW_SUMMARIES = {
    f"急诊科总结-{number}.txt": f"急诊科第{number}分院工作总结\n\n一、院前急救\n\n"
    f"第{number}分院全年救护车出车{number}千二百次，平均出车时间缩短到{number}分钟以内，院前急救网络覆盖各乡镇。\n\n"
    f"二、院内抢救\n\n第{number}分院建立胸痛中心和卒中中心绿色通道，抢救成功率达到百分之九十{number}。\n"
    for number in range(1, 7)
}
RESULTS = PROJECT_ROOT / "bench" / "results" / "load.json"


@dataclass
class Request:
    client: int
    question: str
    began: float
    ended: float = 0.0
    docs: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def milliseconds(self) -> float:
        return (self.ended - self.began) * 1000


def ask_until(client: int, url: str, questions: list[str], stop: threading.Event, log: list[Request]) -> None:
    """One staff member: a question, the answer, the next question, until told to stop."""
    from gradio_client import Client

    try:
        # Each staff member its own address, as a reverse proxy in front of the app reports it.
        api = Client(url, verbose=False, analytics_enabled=False, headers={"X-Forwarded-For": f"10.0.0.{client + 1}"})
    except Exception as error:  # noqa: BLE001 - a client that cannot connect is a failed request
        log.append(Request(client, "(connect)", time.time(), time.time(), error=repr(error)))
        return
    for number in range(MAX_REQUESTS_PER_CLIENT):
        if stop.is_set():
            return
        question = NEW_QUESTION if (client + number) % 8 == 0 else questions[(client * 7 + number * CLIENTS) % len(questions)]
        request = Request(client, question, time.time())
        log.append(request)
        try:
            request.docs = [hit["doc"] for hit in api.predict(question, 5, api_name="/search")]
        except Exception as error:  # noqa: BLE001 - every failure is counted, none is raised here
            request.error = repr(error)
        request.ended = time.time()


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1] if len(values) > 1 else values[0]


def test_sixteen_clients_for_a_minute_during_a_rebuild(seed_index, tmp_path):
    shutil.copytree(seed_index.seeds, tmp_path / "seeds")
    shutil.copytree(seed_index.index, tmp_path / "index")
    server_log = tmp_path / "server.log"
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8", "QA_TRUSTED_PROXIES": "127.0.0.1"}
    with serving("--index", str(tmp_path / "index"), "--seeds", str(tmp_path / "seeds"), env=environment,
                 log=server_log) as (url, _):
        questions = [q.query for q in read_questions(PROJECT_ROOT / "bench" / "eval" / "seeds_questions.jsonl")]
        log: list[Request] = []
        stop = threading.Event()
        clients = [threading.Thread(target=ask_until, args=(n, url, questions, stop, log)) for n in range(CLIENTS)]
        began = time.time()
        for client in clients:
            client.start()

        time.sleep(REBUILD_AT)
        for name, text in NEW_SUMMARIES.items():
            (tmp_path / "seeds" / name).write_text(text, "utf-8")
        rebuild_began = time.time()
        rebuild = subprocess.run(
            [sys.executable, "build_index.py", "--seeds", str(tmp_path / "seeds"), "--index", str(tmp_path / "index"),
             "--full", "--json"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=LATEST_STOP)
        rebuild_ended = time.time()
        stop_at = min(max(began + SECONDS, rebuild_ended + 5), began + LATEST_STOP)
        time.sleep(max(0.0, stop_at - time.time()))
        stop.set()
        for client in clients:
            client.join(timeout=120)
        ended = time.time()
        assert not any(client.is_alive() for client in clients), "requests still outstanding"

    summary = json.loads(rebuild.stdout.strip().splitlines()[-1])
    assert rebuild.returncode == 0 and summary["documents"] == 5 + len(NEW_SUMMARIES)
    errors = [r for r in log if r.error]
    unfinished = [r for r in log if not r.ended]
    latencies = sorted(r.milliseconds for r in log if r.ended)
    overlaps = [r.ended and r.began < rebuild_ended and r.ended > rebuild_began for r in log]
    during = [r.milliseconds for r, overlap in zip(log, overlaps) if overlap]
    outside = [r.milliseconds for r, overlap in zip(log, overlaps) if r.ended and not overlap]
    figures = {
        "clients": CLIENTS, "seconds": round(ended - began, 1), "requests": len(log), "errors": len(errors),
        "requests_per_second": round(len(log) / (ended - began), 2),
        "p50_ms": round(percentile(latencies, 0.50)), "p95_ms": round(percentile(latencies, 0.95)),
        "max_ms": round(latencies[-1]), "p95_ms_during_rebuild": round(percentile(during, 0.95)) if during else None,
        "p95_ms_outside_rebuild": round(percentile(outside, 0.95)) if outside else None,
        "requests_during_rebuild": len(during), "rebuild_seconds": round(rebuild_ended - rebuild_began, 1),
        "rebuild_embedded_chunks": summary["embedded_chunks"], "cpu_count": os.cpu_count(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=1) + "\n", "utf-8")
    print("\n" + "\n".join(f"{name:<24} {value}" for name, value in figures.items()))

    assert errors == [] and unfinished == [], (errors + unfinished)[:3]
    assert len(log) >= CLIENTS and {r.client for r in log} == set(range(CLIENTS))
    new_docs = set(NEW_SUMMARIES)
    before = [r for r in log if r.question == NEW_QUESTION and r.ended < rebuild_began]
    after = [r for r in log if r.question == NEW_QUESTION and r.began > rebuild_ended]
    assert before and not any(new_docs & set(r.docs) for r in before)
    assert after and all(r.docs[0] in new_docs for r in after)  # the server switched generation
    assert "Traceback" not in server_log.read_text("utf-8")
