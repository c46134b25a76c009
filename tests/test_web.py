"""The review desk in process: pages, decisions through the workflow layer, and its guards."""

from __future__ import annotations

import base64
import csv
import re
from pathlib import Path

import pytest
from markupsafe import escape
from starlette.testclient import TestClient
from web_helpers import DOUBTS, HTML_NAME, audit, copy_session, make_session, omr, student_of

from omr.store import STORE_NAME, Store
from omr.web.app import create_app

LOCAL = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("web") / "S"
    make_session(root)
    return root


@pytest.fixture
def out(base, tmp_path):
    return copy_session(base, tmp_path / "S")


def client(out: Path, **kw) -> TestClient:
    return TestClient(create_app(out, **kw), base_url=LOCAL, follow_redirects=False)


def token(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]


def results(out: Path) -> bytes:
    return (out / "results.csv").read_bytes()


def result_rows(out: Path) -> dict[tuple[str, str], dict]:
    with (out / "results.csv").open(encoding="utf-8") as fh:
        return {(r["sheet"], r["course"]): r for r in csv.DictReader(fh)}


def store_state(out: Path) -> tuple:
    """Everything an act could change: the audit log, decisions, keys, objections, results."""
    with Store(out / STORE_NAME) as store:
        tables = ("audit", "decisions", "key_versions", "objections", "objection_decisions")
        return tuple(len(store.records(t)) for t in tables), results(out)


# --- queue and sheet --------------------------------------------------------------


def test_the_queue_lists_every_doubt_with_counts_and_filters(out):
    c = client(out)
    page = c.get("/queue").text
    for sheet in DOUBTS:
        assert f"/sheet?id={sheet.replace(':', '%3A')}" in page
    assert "3 satır, 3 kâğıt" in page
    assert "review:faint <b>1</b>" in page
    only = c.get("/queue", params={"reason": "review:faint"}).text
    assert "stack.pdf%3A2" in only and "stack.pdf%3A3" not in only
    by_course = c.get("/queue", params={"course": "ATA101"}).text
    assert "stack.pdf%3A3" in by_course and "stack.pdf%3A2" not in by_course
    # the CLI lists the same queue
    listed = omr("review", "list", out).output
    assert all(sheet in listed for sheet in DOUBTS)


def test_the_sheet_page_masks_the_national_id_until_opened(out):
    c = client(out)
    with Store(out / STORE_NAME) as store:
        nid = store.reads(["stack.pdf:2"])[0].fields["national_id"].text()
    page = c.get("/sheet", params={"id": "stack.pdf:2"}).text
    masked = nid[:3] + "*" * 6 + nid[-2:]
    assert masked in page and nid not in page
    opened = c.get("/sheet", params={"id": "stack.pdf:2", "reveal": "1"}).text
    assert nid in opened
    assert "TUR101 q1" in opened and 'data-key="b"' in opened


def test_a_roster_name_with_html_is_shown_as_text(out):
    c = client(out)
    for url, params in [
        ("/sheet", {"id": "stack.pdf:2"}),
        ("/find", {"student": student_of(out, "stack.pdf:2")}),
    ]:
        page = c.get(url, params=params).text
        assert str(escape(HTML_NAME)) in page
        assert "<script>alert" not in page and "<b>Ayşe</b>" not in page


def test_the_sheet_page_shows_the_numbers_of_the_items_in_doubt(out):
    page = client(out).get("/sheet", params={"id": "stack.pdf:3"}).text
    table = page[page.index("ATA101 q5: erasure-or-answer") :]
    assert re.search(r"<td>C</td><td class=\"num\">0\.\d{3}</td>", table)


def test_the_pictures_are_pngs_of_the_sheet(out):
    c = client(out)
    for kind in ("annotated", "doubt", "scan"):
        r = c.get(f"/image/{kind}", params={"id": "stack.pdf:2"})
        assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n", kind
    assert (out / "review" / "stack.pdf-p2.png").is_file()  # as omr review show writes it
    assert c.get("/image/doubt", params={"id": "stack.pdf:1"}).status_code == 404


def test_a_decision_goes_through_the_workflow_and_moves_to_the_next_sheet(out, base, tmp_path):
    c = client(out)
    page = c.get("/sheet", params={"id": "stack.pdf:2"}).text
    r = c.post(
        "/sheet/decide",
        data={
            "csrf": token(page),
            "sheet": "stack.pdf:2",
            "field": ["TUR101:1", "sheet"],
            "value": ["B", ""],
            "by": "ayse",
            "why": "B is clear on the scan",
        },
    )
    assert r.status_code == 303
    assert r.headers["location"].startswith("/sheet?id=stack.pdf%3A3&msg=")
    shown = c.get(r.headers["location"]).text
    assert "stack.pdf:2: TUR101 q1: ?B -&gt; B (incelemeden çıktı)" in shown
    lines = audit(out)
    assert [(a["by"], a["command"], a["target"], a["before"], a["after"]) for a in lines] == [
        ("ayse", "omr serve: review set", "stack.pdf:2 TUR101 q1", "?B", "B")
    ]
    assert "stack.pdf:2" not in omr("review", "list", out).output
    # the CLI doing the same on a copy of the session gives the same results
    twin = copy_session(base, tmp_path / "twin")
    result = omr("review", "set", twin, "stack.pdf:2", "TUR101:1", "B", "--by", "a", "--why", "b")
    assert result.exit_code == 0, result.output
    assert [a["command"] for a in audit(twin)] == ["omr review set"]  # the channel is recorded
    assert result_rows(twin) == result_rows(out)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"field": "TUR101:1", "value": "B", "by": "", "why": "clear"}, "say who decides"),
        ({"field": "TUR101:1", "value": "B", "by": "ayse", "why": "  "}, "say why"),
        ({"field": "TUR101:1", "value": "Z", "by": "ayse", "why": "x"}, "not an option"),
        ({"field": "TUR101:99", "value": "B", "by": "ayse", "why": "x"}, "out of range"),
        ({"field": "TUR101:1", "value": "", "by": "ayse", "why": "x"}, "nothing to decide"),
    ],
)
def test_a_bad_decision_is_refused_with_the_reason_and_changes_nothing(out, data, message):
    c = client(out)
    before = store_state(out)
    page = c.get("/sheet", params={"id": "stack.pdf:2"}).text
    r = c.post("/sheet/decide", data={"csrf": token(page), "sheet": "stack.pdf:2", **data})
    assert r.status_code == 303 and r.headers["location"].startswith("/sheet?id=stack.pdf%3A2")
    assert message in c.get(r.headers["location"]).text
    assert store_state(out) == before


# --- the guards -------------------------------------------------------------------


def post_routes(app) -> list[str]:
    paths = []
    for route in app.routes:
        if "POST" in (getattr(route, "methods", None) or ()):
            paths.append(route.path.replace("{number:int}", "1"))
    return paths


def test_every_post_needs_the_form_token_and_changes_nothing_without_it(out):
    app = create_app(out)
    c = TestClient(app, base_url=LOCAL, follow_redirects=False)
    paths = post_routes(app)
    assert {"/sheet/decide", "/objections/add", "/keys/apply", "/keys/preview"} <= set(paths)
    before = store_state(out)
    body = {
        "sheet": "stack.pdf:2",
        "field": "TUR101:1",
        "value": "B",
        "by": "x",
        "why": "y",
        "action": "cancel",
        "course": "TUR101",
        "item": "3",
        "version": "1",
    }
    for path in paths:
        for bad in ({}, {"csrf": "forged"}):
            r = c.post(path, data={**body, **bad})
            assert r.status_code == 403, path
    assert store_state(out) == before


def test_a_post_from_another_site_is_refused_even_with_the_token(out):
    c = client(out)
    good = token(c.get("/sheet", params={"id": "stack.pdf:2"}).text)
    before = store_state(out)
    r = c.post(
        "/sheet/decide",
        data={"csrf": good, "sheet": "stack.pdf:2", "field": "TUR101:1", "value": "B"}
        | {"by": "x", "why": "y"},
        headers={"origin": "http://evil.example"},
    )
    assert r.status_code == 403
    assert store_state(out) == before


def test_state_changing_routes_refuse_get(out):
    c = client(out)
    for path in ("/sheet/decide", "/keys/apply", "/objections/add", "/objections/1/decide"):
        assert c.get(path).status_code == 405, path


def test_a_request_for_another_host_name_is_refused_on_loopback(out):
    c = TestClient(create_app(out), base_url="http://evil.example", follow_redirects=False)
    assert c.get("/queue").status_code == 421
    assert client(out).get("/queue").status_code == 200


TRAVERSALS = [
    "/static/../session.sqlite",
    "/static/%2e%2e/%2e%2e/exam.yaml",
    "/static/..%2f..%2f..%2fexam.yaml",
    "/static/%2fetc%2fpasswd",
    "/static//etc/passwd",
    "/image/scan?id=../../exam.yaml",
    "/image/scan?id=%2Fetc%2Fpasswd",
    "/image/annotated?id=..%2F..%2Fsession.sqlite",
    "/image/..%2f..%2fexam.yaml?id=stack.pdf:2",
    "/sheet?id=../../../etc/passwd",
    "/objections/..%2f..%2fsession.sqlite/answer.pdf",
    "/objections/1/answer.pdf",
]


def refused_without_content(status: int, body: bytes) -> bool:
    leaks = (b"root:", b"SQLite format", b"courses:", b"announcement_date")
    return status in (400, 404, 405) and not any(leak in body for leak in leaks)


@pytest.mark.parametrize("url", TRAVERSALS)
def test_no_request_reads_a_file_outside_the_session(out, url):
    r = client(out).get(url)
    assert refused_without_content(r.status_code, r.content), (r.status_code, r.content[:200])


def test_every_answer_carries_the_safety_headers(out):
    r = client(out).get("/queue")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_beyond_loopback_the_desk_needs_a_password(out):
    result = omr("serve", out, "--host", "0.0.0.0")
    assert result.exit_code == 2
    assert "needs --password" in result.output
    result = omr("serve", out, "--host", "::", "--password", " ")
    assert result.exit_code == 2 and "not empty" in result.output
    result = omr("serve", out, "--certfile", out / "results.csv")
    assert result.exit_code == 2 and "--certfile and --keyfile go together" in result.output


def test_with_a_password_every_request_is_checked(out):
    c = TestClient(
        create_app(out, password="s3cret", loopback=False),
        base_url="http://desk.example",
        follow_redirects=False,
    )
    before = store_state(out)
    assert c.get("/queue", headers={"accept": "text/html"}).headers["location"] == "/login"
    for url in ("/queue", "/sheet?id=stack.pdf:2", "/image/scan?id=stack.pdf:2", "/audit"):
        assert c.get(url).status_code == 401, url
    assert c.post("/sheet/decide", data={"csrf": "x"}).status_code == 401
    wrong = base64.b64encode(b"x:wrong").decode()
    assert c.get("/queue", headers={"authorization": f"Basic {wrong}"}).status_code == 401
    right = base64.b64encode(b"x:s3cret").decode()
    assert c.get("/queue", headers={"authorization": f"Basic {right}"}).status_code == 200
    login = c.get("/login").text
    assert c.post("/login", data={"csrf": token(login), "password": "no"}).status_code == 401
    r = c.post("/login", data={"csrf": token(login), "password": "s3cret"})
    assert r.status_code == 303 and "httponly" in r.headers["set-cookie"].lower()
    assert c.get("/queue").status_code == 200  # the sign-in cookie
    assert store_state(out) == before


# --- find, objections, keys, audit ------------------------------------------------------


def test_find_a_candidate_shows_their_sheet_scores_and_history(out):
    c = client(out)
    student = student_of(out, "stack.pdf:5")
    page = c.get("/find", params={"student": student}).text
    assert "stack.pdf:5" in page
    rows = [r for k, r in result_rows(out).items() if k[0] == "stack.pdf:5"]
    assert rows and all(r["score"] and f">{r['score']}<" in page for r in rows)
    missing = c.get("/find", params={"student": "0000000000"})
    assert missing.status_code == 404 and "no sheet was read" in missing.text


def test_an_objection_is_filed_with_its_window_decided_and_answered(out):
    c = client(out)
    page = c.get("/objections").text
    assert "son gün 2026-11-18 (3 iş günü)" in page  # exam Sat 2026-11-14: Mon, Tue, Wed
    student = student_of(out, "stack.pdf:5")
    form = {"csrf": token(page), "student": student, "course": "TUR101", "kind": "question"}
    r = c.post("/objections/add", data=form | {"date": "2026-11-16", "item": "7"} | _said())
    assert "İtiraz 1 kaydedildi: süresinde" in c.get(r.headers["location"]).text
    r = c.post("/objections/add", data=form | {"date": "2026-12-01", "item": "8"} | _said())
    assert "reddedildi" in c.get(r.headers["location"]).text
    r = c.post(
        "/objections/1/decide",
        data={"csrf": token(page), "decision": "accept", "change": "also", "option": "D"}
        | {"by": "hoca", "why": "D is right too"},
    )
    assert "İtiraz 1: kabul edildi; key v2" in c.get(r.headers["location"]).text
    pdf = c.get("/objections/1/answer.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert c.get("/objections/2/answer.pdf").status_code == 404  # refused: no answer
    listed = omr("objection", "list", out).output
    assert "accepted" in listed and "refused-late" in listed


def _said() -> dict:
    return {"text": "two options are right", "by": "ofis"}


def test_a_key_change_is_previewed_then_applied_with_the_same_changes(out):
    c = client(out)
    page = c.get("/keys").text
    assert "v1" in page
    before = store_state(out)
    form = {"csrf": token(page), "action": "cancel", "course": "TUR101", "item": "3"}
    preview = c.post("/keys/preview", data=form | {"by": "hoca", "why": "two right options"})
    assert preview.status_code == 200
    assert store_state(out) == before  # a preview records nothing
    moved = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td>TUR101</td>", preview.text)
    assert moved
    apply = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', preview.text))
    r = c.post("/keys/apply", data=apply)
    assert "Anahtar v2: TUR101 item 3" in c.get(r.headers["location"]).text
    diff = omr("key", "diff", out).output
    assert sorted(moved) == sorted(re.findall(r"  (\d+)  TUR101  \S+ -> \S+  \(([^;]+);", diff))
    assert "v2" in omr("key", "history", out).output
    # applying the same preview again is refused: the key moved on
    before = store_state(out)
    r = c.post("/keys/apply", data=apply)
    assert "yeniden önizleyin" in c.get(r.headers["location"]).text
    assert store_state(out) == before


def test_the_audit_page_lists_every_act(out):
    omr("review", "set", out, "stack.pdf:4", "group", "B", "--by", "ayse", "--why", "B coded")
    page = client(out).get("/audit").text
    assert "stack.pdf:4 group" in page and "B coded" in page


def test_the_desk_speaks_english_when_asked(out):
    page = client(out, lang="en").get("/queue").text
    assert "Review queue" in page and "3 line(s), 3 sheet(s)" in page
    assert '<html lang="en">' in page


def test_an_objection_on_a_void_sheet_is_answered_too(out):
    """A sheet with no booklet group has no key: the answer says so instead of failing."""
    c = client(out)
    page = c.get("/objections").text
    form = {"csrf": token(page), "student": student_of(out, "stack.pdf:1"), "course": "TUR101"}
    c.post(
        "/objections/add",
        data=form | {"kind": "question", "date": "2026-11-16"} | _said() | {"item": "2"},
    )
    r = c.post(
        "/objections/1/decide",
        data={"csrf": token(page), "decision": "reject", "by": "hoca", "why": "void: no group"},
    )
    assert "reddedildi" in c.get(r.headers["location"]).text
    assert c.get("/objections/1/answer.pdf").content[:5] == b"%PDF-"


def test_find_shows_the_decisions_and_key_versions_that_moved_the_score(out):
    sheet = "stack.pdf:2"
    omr("review", "set", out, sheet, "TUR101:1", "B", "--by", "ayse", "--why", "B clear")
    omr("key", "cancel", out, "TUR101", 3, "--by", "hoca", "--why", "two right options")
    moved = [line for line in omr("key", "diff", out).output.splitlines() if sheet in line]
    page = client(out).get("/find", params={"student": student_of(out, sheet)}).text
    history = page[page.index("Kararlar") :]
    assert "<td>TUR101 q1</td><td>B</td><td>B clear</td>" in history
    old, new = moved[0].split()[2], moved[0].split()[4]
    assert f'<td>v2</td><td>hoca</td><td>TUR101</td><td class="num">{old}</td>' in history
    assert f'<td class="num">{new}</td><td>two right options</td>' in history


def test_a_port_in_use_is_a_clear_message(out):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = omr("serve", out, "--port", port)
    assert result.exit_code == 2
    assert f"--port {port}: cannot listen on 127.0.0.1:{port}" in result.output


def test_a_page_that_was_not_read_can_be_voided_from_the_desk(out):
    import dataclasses

    from omr.workflow.desk import rescore

    with Store(out / STORE_NAME) as store:
        read = store.reads(["stack.pdf:6"])[0]
        gone = dataclasses.replace(read, problem="blank-page", message="nothing on it", fields={})
        store.save(gone, store.fingerprints()["stack.pdf:6"])
    rescore(out)
    c = client(out)
    page = c.get("/sheet", params={"id": "stack.pdf:6"}).text
    assert page.count('name="field"') == 1 and 'value="sheet"' in page
    assert c.get("/image/annotated", params={"id": "stack.pdf:6"}).status_code == 200
    r = c.post(
        "/sheet/decide",
        data={"csrf": token(page), "sheet": "stack.pdf:6", "field": "sheet", "value": "void"}
        | {"by": "ayse", "why": "blank page"},
    )
    assert "incelemeden çıktı" in c.get(r.headers["location"]).text
    assert {r["status"] for k, r in result_rows(out).items() if k[0] == "stack.pdf:6"} == {
        "void:decided"
    }


def test_an_accepted_result_objection_corrects_that_sheet_only(out):
    c = client(out)
    page = c.get("/objections").text
    student = student_of(out, "stack.pdf:5")
    before = result_rows(out)
    c.post(
        "/objections/add",
        data={"csrf": token(page), "student": student, "course": "TUR101", "kind": "result"}
        | {"date": "2026-11-23"}
        | _said(),
    )
    answers = before[("stack.pdf:5", "TUR101")]["answers"]
    other = next(o for o in "ABCDE" if o != answers[0])
    r = c.post(
        "/objections/1/decide",
        data={"csrf": token(page), "decision": "accept", "change": "sets"}
        | {"sets": f"TUR101:1={other}", "by": "ofis", "why": "q1 misread"},
    )
    assert "kabul edildi" in c.get(r.headers["location"]).text
    after = result_rows(out)
    assert after[("stack.pdf:5", "TUR101")]["answers"][0] == other
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {("stack.pdf:5", "TUR101")}


def test_a_browser_may_choose_its_language(out):
    c = client(out)
    page = c.get("/sheet", params={"id": "stack.pdf:2"}).text
    assert '<html lang="tr">' in page and 'name="next" value="/sheet?id=stack.pdf%3A2"' in page
    r = c.post("/lang", data={"csrf": token(page), "lang": "en", "next": "/sheet?id=stack.pdf%3A2"})
    assert r.status_code == 303 and r.headers["location"] == "/sheet?id=stack.pdf%3A2"
    english = c.get(r.headers["location"]).text
    assert '<html lang="en">' in english and "Save and go to the next sheet" in english
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        r = c.post("/lang", data={"csrf": token(page), "lang": "tr", "next": elsewhere})
        assert r.headers["location"] == "/queue"
    assert c.post("/lang", data={"lang": "tr"}).status_code == 403
    assert '<html lang="en">' in client(out, lang="en").get("/queue").text
