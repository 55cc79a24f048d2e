"""The pages' cases that need no email: a due date moved since the email, a milestone
cancelled or gone, a bad snooze date, a digest settings form. In-process (httpx over
ASGI) on the seeded SQLite database; the real server is in test_serve.py."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from support.cli import Runner, dump, sqlite_db_url
from support.people import LANCS_OWNER
from support.session import session_cookie
from support.web import SECRET

from tracker.domain.dates import parse_now
from tracker.service.app import make_app
from tracker.service.views.contracts import HISTORY_SHOWN
from tracker.web.app import create_app
from tracker.web.auth import SESSION_COOKIE
from tracker.web.tokens import Link, Purpose, issue

SENT = datetime(2024, 9, 2, 8, tzinfo=UTC)
BASE = "http://testserver"


def milestone(db_path: Path, kind: str) -> tuple[int, date]:
    with sqlite3.connect(db_path) as conn:
        found, due = conn.execute(
            "SELECT id, due FROM milestones WHERE kind = ? AND status = 'open'", (kind,)
        ).fetchone()
    return int(found), date.fromisoformat(due)


def act(purpose: Purpose, milestone_id: int, due: date, who: str = LANCS_OWNER) -> str:
    link = Link(purpose, who, SENT, milestone_id=milestone_id, due=due)
    return f"/act/{issue(SECRET, link)}"


@pytest.fixture
async def client(
    seeded: Runner, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> httpx.AsyncClient:
    monkeypatch.setenv("TRACKER_BASE_URL", BASE)
    monkeypatch.setenv("TRACKER_SECRET_KEY", SECRET)
    app = make_app(db=sqlite_db_url(db_path), now=parse_now("2024-09-03 10:00"))
    transport = httpx.ASGITransport(app=create_app(app))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client
    await app.close()


async def test_a_moved_due_date_is_shown_and_acted_on(
    client: httpx.AsyncClient, db_path: Path
) -> None:
    found, due = milestone(db_path, "extension_notice")
    page = await client.get(act(Purpose.DONE, found, date(2024, 9, 1)))
    assert page.status_code == 200
    assert "The due date has moved since the email: it was 1 Sep 2024" in page.text
    assert f"is now {due.day} " in page.text
    done = await client.post(act(Purpose.DONE, found, date(2024, 9, 1)), data={"note": "ok"})
    assert "Marked done" in done.text


async def test_cancelled_or_gone_changes_nothing(
    client: httpx.AsyncClient, seeded: Runner, db_path: Path
) -> None:
    found, due = milestone(db_path, "publication")
    cancel = await asyncio.to_thread(
        seeded, "--now", "2024-09-02", "milestone", "cancel", str(found), "--note", "n/a"
    )
    assert cancel.code == 0, cancel
    before = dump(db_path)
    for response in (
        await client.get(act(Purpose.DONE, found, due)),
        await client.post(act(Purpose.SNOOZE, found, due), data={"until": "2024-09-20"}),
    ):
        assert "This decision is already cancelled" in response.text
    gone = await client.get(act(Purpose.DONE, 999_999, due))
    assert gone.status_code == 410 and "no longer in the tracker" in gone.text
    assert dump(db_path) == before


async def test_a_bad_snooze_date_is_an_error_summary(
    client: httpx.AsyncClient, db_path: Path
) -> None:
    found, due = milestone(db_path, "extension_notice")
    before = dump(db_path)
    for until in ("2024-09-03", "31/2/2025", ""):
        page = await client.post(act(Purpose.SNOOZE, found, due), data={"until": until})
        assert page.status_code == 400, until
        assert "There is a problem" in page.text and 'href="#until"' in page.text
    assert dump(db_path) == before


async def test_digest_settings_form(client: httpx.AsyncClient, db_path: Path) -> None:
    url = f"/digest/{issue(SECRET, Link(Purpose.DIGEST, LANCS_OWNER, SENT))}"
    page = await client.get(url)
    assert page.status_code == 200 and 'value="weekly" checked' in page.text
    bad = await client.post(url, data={"frequency": "hourly"})
    assert bad.status_code == 400 and "Choose how often" in bad.text
    saved = await client.post(url, data={"frequency": "daily"})
    assert "Digest settings saved" in saved.text and 'value="daily" checked' in saved.text
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT email, digest FROM recipients").fetchall() == [
            (LANCS_OWNER, "daily")
        ]


async def test_a_long_change_history_shows_the_latest_and_says_how_many_more(
    client: httpx.AsyncClient, db_path: Path
) -> None:
    with sqlite3.connect(db_path) as conn:
        (cid,) = conn.execute("SELECT id FROM contracts WHERE ref = 'LANCS-DRIVE'").fetchone()
        (before,) = conn.execute(
            "SELECT count(*) FROM contract_events WHERE contract_id = ?", (cid,)
        ).fetchone()
        conn.executemany(
            "INSERT INTO contract_events (contract_id, at, kind, detail) VALUES (?, ?, ?, ?)",
            [
                (cid, f"2024-09-03 09:{n:02d}:00.000000", "edited", f"Change number {n}")
                for n in range(HISTORY_SHOWN)
            ],
        )
    client.cookies.set(SESSION_COOKIE, session_cookie(LANCS_OWNER, SECRET))
    page = await client.get("/contracts/LANCS-DRIVE")
    assert page.status_code == 200
    total = HISTORY_SHOWN + before
    assert f"The latest {HISTORY_SHOWN} of {total} changes, newest first" in page.text
    earlier = "1 earlier change is" if before == 1 else f"{before} earlier changes are"
    assert f"({earlier} not shown)" in page.text
    assert "Change number 0" in page.text and f"Change number {HISTORY_SHOWN - 1}" in page.text
    assert "added" not in page.text.split('id="history"')[1]
