"""Issue 15's "done when": ``omr serve`` as a real process, driven in headless Chromium.

The desk runs on a free loopback port over a small simulated session; a real
Chromium (Debian's, through its chromedriver) opens the queue, decides a
sheet by keyboard, finds a candidate, files and decides an objection and
cancels an item. Then the CLI shows exactly those acts. Screenshots of each
page go to the test's temporary folder. Skipped where Chromium, its driver or
selenium is missing.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from web_helpers import HTML_NAME, audit, copy_session, make_session, omr, student_of

from omr.workflow.desk import key_history

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
    "--lang=tr",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def desk_process(out: Path, *args: str, scheme: str = "http", context=None, headers=None):
    """``omr serve OUT ARGS`` as a real process on a free port, until the block ends: its URL."""
    port = free_port()
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "omr.cli", "serve", str(out), "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"{scheme}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request = urllib.request.Request(url + "/queue", headers=headers or {})
                with urllib.request.urlopen(request, timeout=5, context=context) as r:
                    assert r.status == 200
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"omr serve did not start:\n{proc.stdout.read()}") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``omr serve`` on a fresh session, as a real process on a free port: (url, OUT)."""
    base = tmp_path_factory.mktemp("served")
    make_session(base / "base")
    out = copy_session(base / "base", base / "S")
    with desk_process(out) as url:
        yield url, out


RAW_TRAVERSALS = [
    "/static/../session.sqlite",
    "/static/../../exam.yaml",
    "/static/./../../roster.csv",
    "/../exam.yaml",
    "/%2e%2e/%2e%2e/exam.yaml",
    "/static/%2e%2e/%2e%2e/roster.csv",
    "/static/..%5c..%5cexam.yaml",
    "//etc/passwd",
    "/static//etc/passwd",
    "/image/scan?id=../../../../etc/passwd",
    "/objections/0/answer.pdf",
]


@pytest.mark.parametrize("target", RAW_TRAVERSALS)
def test_the_served_desk_reads_no_file_outside_the_session(served, target):
    """Sent byte for byte (no client normalises the ``..``), every one is refused."""
    url, _ = served
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("GET", target, skip_accept_encoding=True)
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status in (400, 404), (target, r.status)
    for leak in (b"root:", b"SQLite format", b"courses:", b"student_number,"):
        assert leak not in body, target


def _driver():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    exe, drv = shutil.which("chromium"), shutil.which("chromedriver")
    if exe is None or drv is None:
        pytest.skip("chromium or chromedriver is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = exe
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=drv))


def test_a_person_clears_a_sheet_answers_an_objection_and_cancels_an_item(served, tmp_path):
    url, out = served
    driver = _driver()
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    def wait_for(css: str, text: str = ""):
        # a page still loading replaces its elements: look again until one holds the text
        WebDriverWait(driver, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
            lambda d: any(text in e.text for e in d.find_elements(By.CSS_SELECTOR, css))
        )
        return driver.find_element(By.CSS_SELECTOR, css)

    def shot(name: str) -> None:
        driver.save_screenshot(str(tmp_path / f"{name}.png"))

    def keys(*typed) -> None:
        driver.switch_to.active_element.send_keys(*typed)

    try:
        # the queue, then the first sheet by keyboard, decided by keyboard
        driver.get(url + "/queue")
        assert wait_for("#queue-count").text == "3 satır, 3 kâğıt"
        shot("queue")
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ENTER)
        wait_for("h1", "stack.pdf:2")
        WebDriverWait(driver, 30).until(
            lambda d: d.execute_script(
                "const i = document.getElementById('page-img'); return i.complete && "
                "i.naturalWidth > 0"
            )
        )
        shot("sheet")
        # the roster name holding markup is text in the page, and no script of it ran
        assert driver.find_element(By.ID, "name").text.startswith(HTML_NAME)
        assert not driver.find_elements(By.CSS_SELECTOR, "#name b, #name script")
        driver.find_element(By.TAG_NAME, "body").send_keys("b")  # TUR101 q1 -> B
        assert driver.find_element(By.CSS_SELECTOR, ".decide-field .value").get_attribute(
            "value"
        ) == ("B")
        keys("ayse")  # the focus moved to the name
        keys(Keys.TAB, "B is clear on the scan", Keys.ENTER)
        assert "stack.pdf:2: TUR101 q1: ?B -> B" in wait_for("#flash").text
        assert "stack.pdf:3" in driver.find_element(By.TAG_NAME, "h1").text  # the next sheet

        # find a candidate
        student = student_of(out, "stack.pdf:5")
        driver.get(url + "/find")
        driver.find_element(By.ID, "student").send_keys(student, Keys.ENTER)
        wait_for(".candidate-sheet h2", "stack.pdf:5")
        shot("find")

        # file an objection (the window is shown) and decide it
        driver.get(url + "/objections")
        assert "son gün 2026-11-18" in wait_for("#windows").text
        form = driver.find_element(By.ID, "objection-add")
        form.find_element(By.NAME, "student").send_keys(student)
        Select(form.find_element(By.NAME, "course")).select_by_value("TUR101")
        date = form.find_element(By.NAME, "date")
        driver.execute_script("arguments[0].value = '2026-11-16'", date)
        form.find_element(By.NAME, "item").send_keys("7")
        form.find_element(By.NAME, "text").send_keys("B and D are both right")
        form.find_element(By.NAME, "by").send_keys("ofis")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        assert "İtiraz 1 kaydedildi: süresinde" in wait_for("#flash").text
        decide = driver.find_element(By.ID, "decide-1")
        decide.find_element(By.CSS_SELECTOR, "input[value=accept]").click()
        Select(decide.find_element(By.NAME, "change")).select_by_value("also")
        decide.find_element(By.NAME, "option").send_keys("D")
        decide.find_element(By.NAME, "by").send_keys("hoca")
        decide.find_element(By.NAME, "why").send_keys("D is right too")
        decide.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        assert "kabul edildi" in wait_for("#flash").text
        pdf = driver.find_element(By.CSS_SELECTOR, "#objection-1 a.pdf").get_attribute("href")
        with urllib.request.urlopen(pdf, timeout=30) as r:
            assert r.read(5) == b"%PDF-"
        shot("objections")

        # cancel an item: whose score moves is shown first, then applied
        driver.get(url + "/keys")
        form = wait_for("#key-change")
        Select(form.find_element(By.NAME, "action")).select_by_value("cancel")
        Select(form.find_element(By.NAME, "course")).select_by_value("TUR101")
        form.find_element(By.NAME, "item").send_keys("3")
        form.find_element(By.NAME, "by").send_keys("hoca")
        form.find_element(By.NAME, "why").send_keys("two right options printed")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        moves = wait_for("#moves").text
        previewed = sorted(
            tuple(td.text for td in row.find_elements(By.TAG_NAME, "td"))
            for row in driver.find_elements(By.CSS_SELECTOR, "#changes tbody tr")
        )
        assert previewed and moves.startswith(f"{len(previewed)} sonuç")
        assert len(key_history(out)) == 2  # nothing applied yet
        shot("key-preview")
        driver.find_element(By.ID, "apply").click()
        assert "Anahtar v3: TUR101 item 3" in wait_for("#flash").text
        shot("keys")
        driver.get(url + "/audit")
        wait_for("#audit")
        shot("audit")
    except Exception:
        shot("failed")
        raise
    finally:
        driver.quit()

    # the CLI shows exactly those acts
    queue = omr("review", "list", out).output
    assert "stack.pdf:2" not in queue and "stack.pdf:3" in queue and "stack.pdf:4" in queue
    history = omr("key", "history", out).output.splitlines()
    assert [line.split("  ")[2:4] for line in history] == [
        ["exam.yaml", "omr run"],
        ["hoca", "omr serve: objection decide 1"],
        ["hoca", "omr serve: key cancel"],
    ]
    assert [(a["by"], a["command"], a["target"]) for a in audit(out)] == [
        ("ayse", "omr serve: review set", "stack.pdf:2 TUR101 q1"),
        ("ofis", "omr serve: objection add", "objection 1"),
        ("hoca", "omr serve: objection decide 1", "key TUR101 item 7"),
        ("hoca", "omr serve: objection decide 1", "objection 1"),
        ("hoca", "omr serve: key cancel", "key TUR101 item 3"),
    ]
    diff = omr("key", "diff", out).output
    applied = sorted(
        (p[0], p[5].strip("(;"), p[1], p[2], p[4])
        for p in (line.split() for line in diff.splitlines() if line.startswith("  "))
    )
    assert applied == previewed
    for name in ("queue", "sheet", "find", "objections", "key-preview", "keys", "audit"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000, name


def test_over_tls_with_a_password_every_request_is_checked(served, tmp_path):
    """Beyond loopback a desk wants a password and TLS: both, served for real (on loopback)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed (needed to make a test certificate)")
    _, out = served
    cert, key, secret = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "desk.pw"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    secret.write_text("s3cret\n", encoding="utf-8")
    context = ssl.create_default_context(cafile=str(cert))
    signed = {"authorization": "Basic " + base64.b64encode(b"desk:s3cret").decode()}
    args = ("--password-file", str(secret), "--certfile", str(cert), "--keyfile", str(key))
    with desk_process(out, *args, scheme="https", context=context, headers=signed) as url:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "/audit", timeout=10, context=context)
        refused.value.close()
        assert refused.value.code == 401
        request = urllib.request.Request(url + "/login")
        with urllib.request.urlopen(request, timeout=10, context=context) as r:
            page = r.read().decode()
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        form = urllib.parse.urlencode({"csrf": token, "password": "s3cret"}).encode()

        class Keep(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **kw):
                return None  # keep the 303 and its cookie

        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), Keep)
        with pytest.raises(urllib.error.HTTPError) as moved:
            opener.open(urllib.request.Request(url + "/login", data=form), timeout=10)
        moved.value.close()
        assert moved.value.code == 303
        cookie = moved.value.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        # plain http to the same port gets no page
        with pytest.raises((OSError, http.client.HTTPException)):
            urllib.request.urlopen(url.replace("https:", "http:") + "/queue", timeout=10)
