"""Real-browser tests of the public pages: the fixtures.

One real `concord serve` process per store (SQLite, then PostgreSQL) for the whole
module, filled by the real `concord demo` command and, over the HTTP API, by a second
alliance made of hostile text; Debian's Chromium (never a Playwright download) driven
headless through Playwright's sync API, only ever towards 127.0.0.1.

Outside CI a missing browser (or Playwright) skips these tests with one line saying how
to enable them; with CI=true it fails them.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from psycopg import sql

from services.demo import CONFIDENTIAL_TEXT
from tests.conftest import ADMIN_KEY, IN_CI, _postgres_problem, _server_url, free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response, Route

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
#: Flags for Debian's Chromium (headless=True adds --headless=new): no sandbox in
#: containers, and no traffic of its own (updates, sync, QUIC) to anywhere.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
HOW_TO_ENABLE = "apt-get install chromium (or set CONCORD_TEST_CHROMIUM to a Chromium binary)"
LOCAL = "127.0.0.1"
PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}

DEMO_SLUG = "demo-kinship-alliance"
DEMO_NAME = "Demo Kinship Care Alliance"
#: The hostile alliance: markup and a right-to-left override in every field it shows.
XSS_SLUG = "xss-alliance"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
RLO = "\u202e"
XSS_NAME = f"Hostile {HOSTILE} Alliance"
XSS_ORGANISATION = f"Evil {RLO}Org {HOSTILE}"
XSS_ITEM_TITLE = f"Item {HOSTILE}"
XSS_ITEM_TEXT = f"We discussed <b>bold</b> & <i>plans</i> {RLO}dlrow {HOSTILE}"
XSS_DECISION = f"Decided: {HOSTILE}"
XSS_MEETING_TITLE = f"Meeting {HOSTILE}"
#: Enough published minutes for two pages of the minutes index (20 a page).
XSS_MINUTES = 21


#: Where to find the browser, first set wins. CONCORD_TEST_CHROMIUM is the one that may
#: stay exported for the whole suite: `concord` refuses any other unknown CONCORD_ variable.
BROWSER_VARIABLES = ("CONCORD_TEST_CHROMIUM",)


def _configured_browser() -> tuple[str, str] | None:
    for variable in BROWSER_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            return variable, value
    return None


def find_chromium() -> str | None:
    """CONCORD_TEST_CHROMIUM when set and executable, else
    `chromium` on PATH."""
    configured = _configured_browser()
    if configured is not None:
        path = Path(configured[1])
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which("chromium")


@functools.cache
def browser_problem() -> str | None:
    """None when the browser tests can run; otherwise why not."""
    try:
        import playwright.sync_api  # noqa: F401, PLC0415
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if find_chromium() is None:
        configured = _configured_browser()
        where = "on PATH" if configured is None else "at {}={}".format(*configured)
        return f"no Chromium {where}"
    return None


def _without_browser(problem: str) -> str:
    return f"browser tests need Chromium and Playwright: {problem}; to enable them: {HOW_TO_ENABLE}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Outside CI, skip every browser test when there is no browser, as ONE summary line:
    a skip raised here is reported where it is raised (a skip in a fixture or a mark is
    reported at each test), and the session still ends with exit status 0."""
    problem = browser_problem()
    if problem is not None and not IN_CI:
        pytest.skip(_without_browser(problem))


@pytest.fixture(scope="session", autouse=True)
def chromium_path() -> str:
    """The browser; under CI=true its absence fails every test, before any server starts."""
    problem = browser_problem()
    if problem is not None:
        if IN_CI:
            pytest.fail("CI=true: " + _without_browser(problem), pytrace=False)
        pytest.skip(_without_browser(problem))  # (pytest_runtest_setup skipped already)
    path = find_chromium()
    assert path is not None
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    # No proxy from the environment: every request goes straight to 127.0.0.1.
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS, env=env
        )
        try:
            yield chromium
        finally:
            chromium.close()


# ----------------------------------------------------------------------------- the server


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one module, dropped after it (as tests/conftest.py
    does for one test): skipped outside CI when PostgreSQL is unreachable, failed in CI."""
    problem = _postgres_problem()
    if problem is not None:
        message = (
            f"PostgreSQL not reachable at {_server_url()} ({problem}); "
            "set CONCORD_TEST_DATABASE_URL to a server you can create databases on"
        )
        if IN_CI:
            pytest.fail("CI=true: " + message, pytrace=False)
        pytest.skip(message)
    server = _server_url()
    name = f"concord_browser_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(server)._replace(path="/" + name))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@dataclass
class Site:
    """A running `concord serve` and what was put in it."""

    backend: str
    base: str
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    #: What `concord demo` printed (its console spans included).
    demo_output: str = ""
    #: Tenant-admin key of the hostile alliance.
    xss_key: str = ""
    #: Published minutes of the hostile alliance, newest meeting first.
    xss_minutes: list[str] = field(default_factory=list)
    #: Every HTML page fetched by any test: URL -> the HTML as the server sent it.
    fetched: dict[str, str] = field(default_factory=dict)
    #: The environment `concord serve` was started with.
    env: dict[str, str] = field(default_factory=dict)
    #: The demo umbrella (`concord demo --umbrella`): slug -> (expected health, its
    #: tenant-admin key).
    umbrella: dict[str, tuple[str, str]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + path

    def http(self) -> httpx.Client:
        # trust_env=False: no proxy, no .netrc; only this server is ever spoken to.
        return httpx.Client(base_url=self.base, timeout=30, trust_env=False)

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop the server by its pid: SIGTERM (uvicorn shuts down, spans are flushed),
        then SIGKILL if it does not end in time. Safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        """The server's stdout (console spans, banner) and stderr (access log) so far."""
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")


def _concord() -> str:
    return str(Path(sys.executable).with_name("concord"))


def _environment(data_dir: Path, database_url: str | None, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CONCORD_") and k.lower() not in PROXY_VARIABLES
    }
    env |= {
        "CONCORD_DATA_DIR": str(data_dir),
        "CONCORD_ADMIN_KEY": ADMIN_KEY,
        "CONCORD_OTEL_EXPORTER": "console",
        "CONCORD_HOST": LOCAL,
        "CONCORD_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    if database_url is not None:
        env["CONCORD_DATABASE_URL"] = database_url
    return env


def _run_demo(env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [_concord(), "demo"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"concord demo failed:\n{output}"
    assert f"created {DEMO_SLUG}: 6 members" in done.stdout, done.stdout[:2000]
    return output


@contextmanager
def _served(backend: str, env: dict[str, str], workdir: Path) -> Iterator[Site]:
    stdout, stderr = workdir / "serve.stdout", workdir / "serve.stderr"
    base = f"http://{LOCAL}:{env['CONCORD_PORT']}"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [_concord(), "serve"], env=env, cwd=workdir, stdout=out, stderr=err
        )
    site = Site(backend=backend, base=base, process=process, stdout=stdout, stderr=stderr)
    try:
        deadline = time.monotonic() + 60
        with site.http() as client:
            while True:
                if not site.running():
                    pytest.fail(f"concord serve exited at start-up:\n{site.output()[-4000:]}")
                try:
                    if client.get("/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"concord serve did not answer /health:\n{site.output()[-4000:]}")
                time.sleep(0.1)
        yield site
    finally:
        site.stop()


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return dict(response.json())


def seed_hostile_alliance(site: Site) -> None:
    """Over the HTTP API, as a tenant admin would: an alliance whose name, member
    organisation, meetings and minutes are hostile markup; 21 sets of minutes published
    (the newest with a confidential item holding the demo's canary text), and one meeting
    ahead."""
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with site.http() as client:
        onboarded = _ok(
            client.post(
                "/v1/tenants",
                json={
                    "slug": XSS_SLUG,
                    "name": XSS_NAME,
                    "region": "Kent",
                    "template": "family-justice",
                },
                headers=admin,
            ),
            201,
        )
        site.xss_key = onboarded["admin_key"]["secret"]
        tenant = {"Authorization": f"Bearer {site.xss_key}"}
        api = f"/v1/tenants/{XSS_SLUG}"

        def post(path: str, body: dict[str, Any] | None = None, status: int = 200) -> Any:
            return _ok(client.post(api + path, json=body, headers=tenant), status)

        application = post(
            "/applications",
            {
                "name": XSS_ORGANISATION,
                "organisation_kind": "charity",
                "region": "Kent",
                "request_text": f"We ask to join. {HOSTILE}",
            },
            201,
        )
        decided = post(
            f"/applications/{application['application_id']}/decide",
            {
                "by_body": "steering-group",
                "outcome": "admit",
                "decision_ref": "Steering group, first meeting",
            },
        )
        member = decided["member_id"]
        now = datetime.now(UTC).replace(microsecond=0)
        published: list[str] = []
        for days_ago in range(1, XSS_MINUTES + 1):
            newest = days_ago == 1
            meeting = post(
                "/meetings",
                {
                    "body": "full-membership",
                    "title": XSS_MEETING_TITLE if newest else f"Meeting {days_ago} days ago",
                    "starts_at": (now - timedelta(days=days_ago)).isoformat(),
                    "format": "virtual",
                    "agenda": [HOSTILE] if newest else ["Updates"],
                },
                201,
            )
            post(f"/meetings/{meeting['meeting_id']}/hold", {"attendance": [{"member_id": member}]})
            items: list[dict[str, Any]] = [
                {"title": "Updates", "text": f"Routine updates, {days_ago} days ago."}
            ]
            if newest:
                items = [
                    {"title": XSS_ITEM_TITLE, "text": XSS_ITEM_TEXT, "decisions": [XSS_DECISION]},
                    {"title": "Case discussion", "text": CONFIDENTIAL_TEXT, "confidential": True},
                ]
            minutes = post("/minutes", {"meeting_id": meeting["meeting_id"], "items": items}, 201)
            post(f"/minutes/{minutes['minutes_id']}/approve", {"by_body": "full-membership"})
            post(f"/minutes/{minutes['minutes_id']}/publish")
            published.append(minutes["minutes_id"])
        post(
            "/meetings",
            {
                "body": "full-membership",
                "title": XSS_MEETING_TITLE,
                "starts_at": (now + timedelta(days=30)).isoformat(),
                "format": "in-person",
                "location": f"Hall {RLO}{HOSTILE}",
                "agenda": [HOSTILE],
            },
            201,
        )
    site.xss_minutes = published


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """`concord demo`, then `concord serve` on a free port, then the hostile alliance over
    HTTP: one server per store for the module, stopped by its pid at the end."""
    backend = str(request.param)
    workdir = tmp_path_factory.mktemp(f"browser-{backend}")
    with ExitStack() as stack:
        database_url = stack.enter_context(throwaway_database()) if backend == "postgres" else None
        env = _environment(workdir / "var", database_url, free_port())
        demo_output = _run_demo(env, workdir)
        site = stack.enter_context(_served(backend, env, workdir))
        site.demo_output = demo_output
        seed_hostile_alliance(site)
        yield site


def _run_umbrella(env: dict[str, str], cwd: Path) -> dict[str, tuple[str, str]]:
    """`concord demo --umbrella`: slug -> (the health it should have, its admin key)."""
    done = subprocess.run(
        [_concord(), "demo", "--umbrella"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"concord demo --umbrella failed:\n{done.stdout}{done.stderr}"
    found: dict[str, tuple[str, str]] = {}
    slug = expected = ""
    for line in done.stdout.splitlines():
        if line.startswith("created "):
            slug, _, rest = line.removeprefix("created ").partition(" (")
            expected = rest.partition(")")[0]
        elif "tenant-admin key (shown once): " in line and slug:
            found[slug] = (expected, line.rpartition(": ")[2].strip())
    assert len(found) >= 3, done.stdout[:2000]
    return found


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def umbrella_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """`concord demo --umbrella`, then `concord serve` on a free port: the national
    dashboard's alliances, one server per store for the module, stopped by its pid."""
    backend = str(request.param)
    workdir = tmp_path_factory.mktemp(f"umbrella-{backend}")
    with ExitStack() as stack:
        database_url = stack.enter_context(throwaway_database()) if backend == "postgres" else None
        env = _environment(workdir / "var", database_url, free_port())
        umbrella = _run_umbrella(env, workdir)
        site = stack.enter_context(_served(backend, env, workdir))
        site.env = env
        site.umbrella = umbrella
        yield site


# ----------------------------------------------------------------------------- the browser


class Tab:
    """One browser tab on the site: it records every HTML page it loads (for the leak
    check), every dialog (none may open), every console error and every attempt to reach
    anything but 127.0.0.1 (refused)."""

    def __init__(self, site: Site, context: BrowserContext):
        self.site = site
        self.context = context
        self.dialogs: list[str] = []
        #: (url, text) of each console error since the last navigation.
        self.console_errors: list[tuple[str, str]] = []
        self.off_host: list[str] = []
        context.route("**/*", self._guard)
        self.page: Page = context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("console", self._console)

    def _guard(self, route: Route) -> None:
        if urlsplit(route.request.url).hostname == LOCAL:
            route.continue_()
        else:
            self.off_host.append(route.request.url)
            route.abort()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        # The browser asks for /favicon.ico on its own; the site has none (a 404).
        url = message.location.get("url", "")
        if message.type == "error" and not url.endswith("/favicon.ico"):
            self.console_errors.append((url, message.text))

    def _record(self, response: Response | None, url: str) -> Response:
        assert response is not None, f"no response for {url}"
        if "text/html" in response.headers.get("content-type", ""):
            self.site.fetched[response.url] = response.text()
        assert not self.off_host, f"requests beyond {LOCAL}: {self.off_host}"
        return response

    def open(self, path: str) -> Response:
        url = self.site.url(path)
        self.console_errors.clear()
        return self._record(self.page.goto(url, wait_until="load"), url)

    def follow(self, click: Callable[[], None]) -> Response:
        """Do what `click` does (click a link) and return the navigation's response."""
        self.console_errors.clear()
        with self.page.expect_response(lambda r: r.request.is_navigation_request()) as info:
            click()
        self.page.wait_for_load_state("load")
        return self._record(info.value, self.page.url)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.site.backend}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def tab(site: Site, browser: Browser) -> Iterator[Tab]:
    assert site.running(), "the server was stopped (the leak check runs last)"
    context = browser.new_context(java_script_enabled=True, service_workers="block")
    try:
        yield Tab(site, context)
    finally:
        context.close()
