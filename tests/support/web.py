"""``tracker serve`` as a real subprocess (uvicorn on 127.0.0.1, a free port) for tests
that follow links from captured emails with an HTTP client or a browser.

:func:`serving` starts ``python -m tracker --db URL serve --host 127.0.0.1 --port P``
with the environment it is given (``TRACKER_BASE_URL`` and ``TRACKER_SECRET_KEY`` must be
the ones the emails were sent with, or their links do not verify), waits until
``/healthz`` answers 200, and stops the server afterwards; on a failed start the
server's own output is in the error.

:func:`html_of` and :func:`links_in` read a captured email the way its recipient's mail
client shows it: the HTML part, and its links by their visible text ("Mark done").
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

from support.processes import tracker_argv
from support.smtp import free_port

#: The browser scenario: the demo's Lancashire seed imported as of its decision date,
#: 2 Sep 2024, and mail sent on Monday 16 Sep 2024, when LANCS-DRIVE's extension notice
#: (due 30 Sep) is two weeks away: a reminder to its owner and its sponsor.
SCENARIO_IMPORTED = "2024-09-02"
SCENARIO_DIGEST_AT = "2024-09-16 08:00"
SCENARIO_SEND_AT = "2024-09-16 09:00"
#: A secret for tests only (``serve`` refuses to start without one).
TEST_SECRET_KEY = "test-secret-key-for-the-browser-tests-only-0123456789"
STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class WebServer:
    """A running ``tracker serve``: where it listens and its output file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def base_url_for(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def healthz(url: str) -> int | None:
    """The status of ``GET url/healthz``, or None when nothing answers yet."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def _wait_healthy(server: WebServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(
                f"tracker serve exited with {server.process.returncode}:\n{server.output()}"
            )
        if healthz(server.url) == 200:
            return
        time.sleep(0.1)
    raise AssertionError(f"tracker serve not healthy after {timeout}s:\n{server.output()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


@contextmanager
def serving(
    db_url: str,
    *,
    env: Mapping[str, str],
    cwd: Path,
    port: int | None = None,
    timeout: float = STARTUP_TIMEOUT,
) -> Iterator[WebServer]:
    """``tracker serve`` on ``port`` (a free one by default) until the block ends."""
    port = port or free_port()
    log = cwd / f"serve-{port}.log"
    argv = tracker_argv(db_url, "serve", "--host", "127.0.0.1", "--port", str(port))
    with log.open("wb") as sink:
        process = subprocess.Popen(
            argv, env=dict(env), cwd=cwd, stdout=sink, stderr=subprocess.STDOUT
        )
    server = WebServer(url=base_url_for(port), process=process, log=log)
    try:
        _wait_healthy(server, timeout)
        yield server
    finally:
        _stop(process)


def html_of(message: EmailMessage) -> str:
    """The text/html part of a captured message."""
    part = message.get_body(preferencelist=("html",))
    assert part is not None, f"no HTML part in {message['Subject']!r}"
    content: str = part.get_content()
    return content


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href, self._text = dict(attrs).get("href"), []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((" ".join("".join(self._text).split()), self._href))
            self._href = None


def links_in(html: str) -> list[tuple[str, str]]:
    """Every ``<a href>`` of an HTML document as (visible text, href), in order."""
    parser = _Links()
    parser.feed(html)
    return parser.links


def link_named(html: str, text: str) -> str:
    """The href of the one link whose visible text is ``text`` (fails on none or several)."""
    hrefs = [href for label, href in links_in(html) if label == text]
    assert len(hrefs) == 1, f"expected one {text!r} link, found {links_in(html)}"
    return hrefs[0]
