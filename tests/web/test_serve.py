"""Acting from the email against a real ``tracker serve`` (uvicorn in a subprocess), on
SQLite and PostgreSQL: real reminders and digests captured by aiosmtpd, their links
followed with httpx.

The Lancashire seed on Monday 16 Sep 2024: its publication was due 5 Sep (a nag goes
out) and its extension notice is due 30 Sep (the 14-day reminder goes out), each to the
owner and the sponsor; the weekly digest goes to both at 08:00.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import httpx
import pytest
from conftest import Site
from support.people import LANCS_OWNER, LANCS_SPONSOR
from support.web import SECRET, dump_tables, links, run_sql

from tracker.web.tokens import ACTIONS, Link, Purpose, issue, verify

SENT = "2024-09-16 09:00"
NEW_OWNER = "new.manager@lancashire-opcc.example.org"
SECURITY_HEADERS = {
    "content-security-policy",
    "referrer-policy",
    "x-content-type-options",
}


def check_headers(response: httpx.Response) -> None:
    """Every response carries the security headers, whatever its status."""
    headers = response.headers
    missing = SECURITY_HEADERS - set(headers)
    assert not missing, (response.request.url.path, missing)
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src" not in csp
    assert "unsafe-inline" not in csp
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"


@pytest.fixture
def client() -> httpx.Client:
    return httpx.Client(event_hooks={"response": [check_headers]}, timeout=30)


def reminders_to(site: Site, person: str, kind_label: str) -> list[EmailMessage]:
    return [
        r.message
        for r in site.smtp.messages
        if person in r.rcpt_tos and kind_label in r.subject and "digest" not in r.subject
    ]


def one_reminder(site: Site, person: str, kind_label: str) -> dict[str, str]:
    found = reminders_to(site, person, kind_label)
    assert len(found) == 1, [r.subject for r in site.smtp.messages]
    return links(found[0])


def digest_to(site: Site, person: str) -> EmailMessage:
    found = [
        r.message
        for r in site.smtp.messages
        if person in r.rcpt_tos and r.subject.startswith("Contract d")
    ]
    assert len(found) == 1, [r.subject for r in site.smtp.messages]
    return found[0]


def send_and_digest(site: Site) -> None:
    site.tracker("send", now=SENT)
    site.tracker("digest", now=SENT)


def post(client: httpx.Client, url: str, **form: str) -> httpx.Response:
    return client.post(url, data=form)


def h1(response: httpx.Response) -> str:
    start = response.text.index("<h1")
    start = response.text.index(">", start) + 1
    return response.text[start : response.text.index("</h1>", start)].strip()


def test_get_of_every_link_changes_nothing(site: Site, client: httpx.Client) -> None:
    send_and_digest(site)
    urls = [url for received in site.smtp.messages for url in links(received.message).values()]
    # 4 reminders with 2 links each; 2 digests with their items' links and settings.
    assert len(urls) >= 4 * 2 + 2
    assert all(url.startswith(site.served.base_url) for url in urls)
    before = dump_tables(site.url)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
        assert '<form method="post"' in response.text
        assert "<script" not in response.text
    # HEAD, as some link checkers send, changes nothing either.
    for url in urls[:2]:
        assert client.head(url).status_code == 200
    assert dump_tables(site.url) == before
    # Every request is logged, and no token is (its signature is the credential).
    log = site.served.log_text()
    assert log.count('"GET /act/') >= 8
    for url in urls:
        assert url.rsplit(".", 1)[1] not in log


def test_done_and_snooze_take_effect_once(site: Site, client: httpx.Client) -> None:
    send_and_digest(site)
    publication = one_reminder(site, LANCS_OWNER, "Publication")
    notice = one_reminder(site, LANCS_OWNER, "Extension notice")

    done = post(client, publication["Mark done"], note="Published on the website 5/9")
    assert done.status_code == 200, done.text
    assert h1(done).startswith("Marked done")
    after_done = dump_tables(site.url)
    again = post(client, publication["Mark done"], note="Published on the website 5/9")
    assert "already done" in h1(again) and "Nothing has been changed" in again.text
    assert dump_tables(site.url) == after_done

    page = client.get(notice["Snooze"])
    assert 'name="until"' in page.text and 'value="2024-09-23"' in page.text
    snoozed = post(client, notice["Snooze"], until="2024-09-25", note="Waiting for the board")
    assert snoozed.status_code == 200, snoozed.text
    assert h1(snoozed).startswith("Snoozed")
    after_snooze = dump_tables(site.url)
    again = post(client, notice["Snooze"], until="2024-09-25", note="Waiting for the board")
    assert h1(again).startswith("Already snoozed") and "Nothing has been changed" in again.text
    assert dump_tables(site.url) == after_snooze

    history = run_sql(site.url, "SELECT detail, actor FROM contract_events ORDER BY id")
    assert (
        "LANCS-DRIVE: publication due 5 Sep 2024 done by "
        f"{LANCS_OWNER} from the email of 16 Sep 2024 (Published on the website 5/9)",
        LANCS_OWNER,
    ) in history
    assert any("snoozed until 25 Sep 2024 by " in d and a == LANCS_OWNER for d, a in history)

    # The publication's nags stop; the extension notice's 7-day reminder is held...
    count = len(site.smtp.messages)
    site.tracker("send", now="2024-09-23 09:00")
    assert len(site.smtp.messages) == count
    # ...until the snooze ends, when it comes (to the owner and the sponsor).
    site.tracker("send", now="2024-09-25 09:00")
    new = site.smtp.messages[count:]
    assert {r.rcpt_tos[0] for r in new} == {LANCS_OWNER, LANCS_SPONSOR}
    assert all("Extension notice" in r.subject for r in new)


def _forged(site: Site, notice: dict[str, str], publication: dict[str, str]) -> dict[str, str]:
    """Tokens that must not work, each built from a real one."""
    base = site.served.base_url
    done = notice["Mark done"].rsplit("/", 1)[1]
    flipped = done[:-1] + ("A" if done[-1] != "A" else "B")
    link = verify(SECRET, done, ACTIONS, now=datetime(2024, 9, 16, 9, tzinfo=UTC), valid_days=60)
    old = Link(
        Purpose.DONE,
        link.recipient,
        datetime(2024, 7, 1, 9, tzinfo=UTC),  # 77 days before the server's now
        milestone_id=link.milestone_id,
        due=link.due,
    )
    other_payload = publication["Mark done"].rsplit("/", 1)[1].split(".", 1)[0]
    swapped = other_payload + "." + done.split(".", 1)[1]
    digest = digest_to(site, LANCS_OWNER)
    settings = links(digest)["Digest settings"].rsplit("/", 1)[1]
    return {
        "one character changed": f"{base}/act/{flipped}",
        "truncated": f"{base}/act/{done[:-6]}",
        "expired": f"{base}/act/{issue(SECRET, old)}",
        "another milestone": f"{base}/act/{swapped}",
        "another purpose": f"{base}/act/{settings}",
        "an action as digest settings": f"{base}/digest/{done}",
    }


def test_unusable_links_change_nothing(site: Site, client: httpx.Client) -> None:
    send_and_digest(site)
    notice = one_reminder(site, LANCS_OWNER, "Extension notice")
    publication = one_reminder(site, LANCS_OWNER, "Publication")
    before = dump_tables(site.url)
    for why, url in _forged(site, notice, publication).items():
        for response in (client.get(url), post(client, url, until="2024-09-25", note="x")):
            assert 400 <= response.status_code < 500, (why, response.status_code)
            assert h1(response) == "This link cannot be used", why
            assert "next contract digest" in response.text
        if why == "expired":
            assert response.status_code == 410
    assert dump_tables(site.url) == before

    # Cross-site: a page elsewhere posting a real link's form is refused.
    evil = client.post(
        notice["Mark done"], data={"note": "x"}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403
    assert dump_tables(site.url) == before

    # Handed over: the old owner's real link no longer acts, and the page says who does.
    site.tracker("handover", "--from", LANCS_OWNER, "--to", NEW_OWNER, now="2024-09-16 10:00")
    handed = dump_tables(site.url)
    for response in (client.get(notice["Mark done"]), post(client, notice["Mark done"])):
        assert response.status_code == 403
        assert NEW_OWNER in response.text and LANCS_SPONSOR in response.text
    assert dump_tables(site.url) == handed


def test_one_click_unsubscribe_turns_the_digest_off(site: Site, client: httpx.Client) -> None:
    send_and_digest(site)
    digest = digest_to(site, LANCS_OWNER)
    settings = links(digest)["Digest settings"]
    assert digest["List-Unsubscribe"] == f"<{settings}>"
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for received in site.smtp.messages:
        if "digest" not in received.subject.lower() and "Contract d" not in received.subject:
            assert received.message["List-Unsubscribe"] is None

    page = client.get(settings)
    assert page.status_code == 200 and 'value="weekly" checked' in page.text
    off = client.post(
        settings,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert off.status_code == 200
    assert run_sql(site.url, "SELECT email, digest FROM recipients") == [(LANCS_OWNER, "off")]

    count = len(site.smtp.messages)
    site.tracker("digest", now="2024-09-23 09:00")
    got = {person for r in site.smtp.messages[count:] for person in r.rcpt_tos}
    assert LANCS_SPONSOR in got and LANCS_OWNER not in got

    # The settings form turns it back on.
    back = post(client, settings, frequency="daily")
    assert back.status_code == 200 and h1(back) == "Digest settings saved"
    assert run_sql(site.url, "SELECT digest FROM recipients") == [("daily",)]


def test_every_response_has_the_security_headers(site: Site, client: httpx.Client) -> None:
    base = site.served.base_url
    assert client.get(f"{base}/healthz").text == "ok\n"
    assert client.get(f"{base}/static/site.css").headers["content-type"].startswith("text/css")
    assert client.get(f"{base}/nowhere").status_code == 404
    assert client.post(f"{base}/healthz").status_code == 405
    assert client.get(f"{base}/act/").status_code == 404
