"""My decisions (``/``) and the contract page (``/contracts/{ref}``) against a real
``tracker serve`` on SQLite and PostgreSQL, signed in with a session cookie.

Two contracts: the Lancashire seed, and a copy (``LANCS-TWO``) with another owner and
watcher but the same sponsor, so the sponsor sees two owners' contracts and each
watcher one. Served as of Monday 16 Sep 2024, 10:00: the seed's publication is
overdue (due 5 Sep) and its extension notice due in 14 days (30 Sep).
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from support.cli import LANCS, LANCS_SEED
from support.people import LANCS_OWNER, LANCS_SPONSOR
from support.session import form_token, signed_in
from support.web import IMPORTED, Site, dump_tables, run_sql

TWO = "LANCS-TWO"
OTHER_OWNER = "other.owner@lancashire-opcc.example.org"
WATCHER = "chief.executive@lancashire-opcc.example.org"  # watches LANCS-DRIVE only
TWO_WATCHER = "two.watcher@lancashire-opcc.example.org"  # watches LANCS-TWO only
STRANGER = "nobody@lancashire-opcc.example.org"
SENT = "2024-09-16 09:00"
_ITEM = re.compile(
    r'<li class="card[^"]*" id="m(\d+)">.*?<h3 class="card-title">([^<]+)</h3>', re.S
)


@pytest.fixture
def two(site: Site, tmp_path: Path) -> Site:
    """The site with the second contract imported."""
    text = LANCS_SEED.read_text(encoding="utf-8")
    text = text.replace("ref: LANCS-DRIVE", f"ref: {TWO}")
    text = text.replace(f"owner: {LANCS_OWNER}", f"owner: {OTHER_OWNER}")
    text = text.replace(f"watchers: [{WATCHER}]", f"watchers: [{TWO_WATCHER}]")
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    site.tracker("import", str(path), now=IMPORTED)
    return site


def items(html: str) -> list[tuple[str, str]]:
    """(ref, heading) of each decision on the home page, in order."""
    refs = re.findall(r'<p class="card-caption"><a href="/contracts/([^"]+)">', html)
    headings = [h for _, h in _ITEM.findall(html)]
    return list(zip(refs, headings, strict=True))


def home(site: Site, person: str) -> tuple[httpx.Client, httpx.Response]:
    client = signed_in(site.served.base_url, person)
    page = client.get("/")
    assert page.status_code == 200, page.text
    return client, page


def section(html: str, heading: str) -> str:
    """The part of the page from the h2 starting with ``heading`` to the next h2."""
    start = html.index(f">{heading}")
    end = html.find("<h2", start)
    return html[start : end if end > 0 else None]


def test_home_lists_exactly_the_viewers_decisions_overdue_first(two: Site) -> None:
    _, page = home(two, LANCS_OWNER)
    html = page.text
    mine = items(html)
    assert mine and {ref for ref, _ in mine} == {LANCS}
    overdue = section(html, "Overdue")
    upcoming = section(html, "Due in the next 8 weeks")
    assert (
        "Publication" in overdue and "5 Sep 2024" in overdue and "Extension notice" not in overdue
    )
    assert "Extension notice" in upcoming and "30 Sep 2024" in upcoming
    assert [h.split(":")[0] for _, h in mine][:2] == ["Publication", "Extension notice"]
    assert "Staffing at risk" in html

    # The sponsor of both sees both contracts' decisions, by due date then ref.
    _, page = home(two, LANCS_SPONSOR)
    theirs = items(page.text)
    assert {ref for ref, _ in theirs} == {LANCS, TWO}
    assert len(theirs) == 2 * len(mine)
    assert [h for _, h in theirs][:2] == [mine[0][1], mine[0][1]]
    # Each watcher sees only the contract they watch; a stranger sees none.
    assert {ref for ref, _ in items(home(two, TWO_WATCHER)[1].text)} == {TWO}
    assert {ref for ref, _ in items(home(two, WATCHER)[1].text)} == {LANCS}
    assert items(home(two, STRANGER)[1].text) == []


def test_not_signed_in_goes_to_sign_in(site: Site) -> None:
    client = httpx.Client(base_url=site.served.base_url, timeout=10)
    for path in ("/", f"/contracts/{LANCS}"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in?next=")


def _form(html: str, milestone_id: str, action: str) -> dict[str, str]:
    return {
        "csrftoken": form_token(html),
        "milestone": milestone_id,
        "back": "/",
        **({"until": "2024-09-25"} if action == "snooze" else {}),
    }


def _id_of(html: str, kind_label: str) -> str:
    return next(mid for mid, heading in _ITEM.findall(html) if heading.startswith(kind_label))


def test_done_and_snooze_from_home_take_effect_once(two: Site) -> None:
    two.tracker("send", now=SENT)  # the publication nag and the 14-day notice go out
    client, page = home(two, LANCS_OWNER)
    publication = _id_of(page.text, "Publication")
    notice = _id_of(page.text, "Extension notice")
    done_url = f"/contracts/{LANCS}/milestones/publication/done"
    snooze_url = f"/contracts/{LANCS}/milestones/extension_notice/snooze"

    done = client.post(done_url, data=_form(page.text, publication, "done"))
    assert done.status_code == 303 and done.headers["location"] == "/"
    shown = client.get("/").text
    assert "Marked done" in shown and f'id="m{publication}"' not in shown
    after_done = dump_tables(two.url)
    again = client.post(done_url, data=_form(page.text, publication, "done"))
    assert again.status_code == 303
    assert "Already done" in (told := client.get("/").text) and "Nothing has been changed" in told
    assert dump_tables(two.url) == after_done

    snoozed = client.post(snooze_url, data=_form(page.text, notice, "snooze"))
    assert snoozed.status_code == 303
    shown = client.get("/").text
    assert "Snoozed until 25 Sep 2024" in shown and "Reminders snoozed until 25 Sep 2024" in shown
    after_snooze = dump_tables(two.url)
    client.post(snooze_url, data=_form(page.text, notice, "snooze"))
    told = client.get("/").text
    assert "Already snoozed until 25 Sep 2024" in told and "Nothing has been changed" in told
    assert dump_tables(two.url) == after_snooze

    history = run_sql(two.url, "SELECT detail, actor FROM contract_events ORDER BY id")
    assert (
        f"{LANCS}: publication due 5 Sep 2024 done by {LANCS_OWNER} on the web",
        LANCS_OWNER,
    ) in history
    assert any(
        "snoozed until 25 Sep 2024 by " in d and d.endswith("on the web") and a == LANCS_OWNER
        for d, a in history
    )
    # The contract page shows both in its history, with who and when.
    contract = client.get(f"/contracts/{LANCS}").text
    assert f"done by {LANCS_OWNER} on the web" in contract and "16 Sep 2024 10:" in contract

    # The publication's nags stop; the extension notice's 7-day reminder is held...
    count = len(two.smtp.messages)
    two.tracker("send", now="2024-09-23 09:00")
    assert [r.subject for r in two.smtp.messages[count:] if LANCS_OWNER in r.rcpt_tos] == []
    # ...until the snooze ends, when it comes.
    two.tracker("send", now="2024-09-25 09:00")
    new = [r for r in two.smtp.messages[count:] if LANCS_OWNER in r.rcpt_tos]
    assert new and all("Extension notice" in r.subject for r in new)


def test_a_bad_snooze_date_is_refused_and_changes_nothing(site: Site) -> None:
    client, page = home(site, LANCS_OWNER)
    notice = _id_of(page.text, "Extension notice")
    before = dump_tables(site.url)
    url = f"/contracts/{LANCS}/milestones/extension_notice/snooze"
    for until in ("2024-09-16", "31/02/2025", ""):
        data = {**_form(page.text, notice, "snooze"), "until": until}
        assert client.post(url, data=data).status_code == 303
        told = client.get("/").text
        assert "Nothing has been changed" in told and "snooze date" in told
    assert dump_tables(site.url) == before


def test_a_watcher_of_one_contract_gets_404_for_the_other(two: Site) -> None:
    client, _ = home(two, WATCHER)
    missing = client.get("/contracts/NO-SUCH-REF")
    other = client.get(f"/contracts/{TWO}")
    assert other.status_code == missing.status_code == 404
    assert other.text == missing.text
    assert client.get(f"/contracts/{LANCS}").status_code == 200
    # An action on the other contract, with a real milestone id of it, is the same 404.
    _, other_page = home(two, OTHER_OWNER)  # owns LANCS-TWO only
    theirs = [mid for mid, _ in _ITEM.findall(other_page.text)]
    assert theirs
    token = form_token(client.get("/").text)
    before = dump_tables(two.url)
    for mid in theirs:
        for action in ("done", "snooze"):
            data = {"csrftoken": token, "milestone": mid, "until": "2024-09-25"}
            kind_of = {"done": "publication", "snooze": "extension_notice"}[action]
            refused = client.post(f"/contracts/{TWO}/milestones/{kind_of}/{action}", data=data)
            assert refused.status_code == 404 and refused.text == missing.text
            # Nor can a milestone of another contract be reached through one's own ref.
            mixed = client.post(f"/contracts/{LANCS}/milestones/{kind_of}/{action}", data=data)
            assert mixed.status_code == 404 and mixed.text == missing.text
    assert dump_tables(two.url) == before


def test_admins_see_and_act_on_every_contract(two: Site, tmp_path: Path) -> None:
    from support.web import serve_port, start_serve, web_env

    admin = "ops@lancashire-opcc.example.org"
    port = serve_port()
    env = web_env({**two.served.env, "TRACKER_ADMINS": admin}, port)
    served = start_serve(two.url, env, tmp_path, port=port, now="2024-09-16 10:00")
    try:
        client = signed_in(served.base_url, admin)
        page = client.get(f"/contracts/{TWO}")
        assert page.status_code == 200 and TWO in page.text
        assert items(client.get("/").text) == []  # an admin's home is their own decisions
        mid = _id_of(home(two, OTHER_OWNER)[1].text, "Publication")
        data = {"csrftoken": form_token(page.text), "milestone": mid, "back": f"/contracts/{TWO}"}
        done = client.post(f"/contracts/{TWO}/milestones/publication/done", data=data)
        assert done.status_code == 303 and done.headers["location"] == f"/contracts/{TWO}"
        assert "Marked done" in client.get(f"/contracts/{TWO}").text
    finally:
        served.stop()
    history = run_sql(two.url, "SELECT detail, actor FROM contract_events ORDER BY id")
    assert any(d.endswith(f"by {admin} on the web") and a == admin for d, a in history)


def test_forged_posts_are_refused_and_change_nothing(site: Site) -> None:
    client, page = home(site, LANCS_OWNER)
    publication = _id_of(page.text, "Publication")
    url = f"/contracts/{LANCS}/milestones/publication/done"
    before = dump_tables(site.url)
    no_token = {k: v for k, v in _form(page.text, publication, "done").items() if k != "csrftoken"}
    assert client.post(url, data=no_token).status_code == 403
    wrong = {**no_token, "csrftoken": "forged"}
    assert client.post(url, data=wrong).status_code == 403
    evil = client.post(
        url,
        data=_form(page.text, publication, "done"),
        headers={"Origin": "https://evil.example"},
    )
    assert evil.status_code == 403 and "another site" in evil.text
    assert dump_tables(site.url) == before


def test_the_contract_page_shows_what_show_shows(two: Site) -> None:
    two.tracker("send", now=SENT)
    client, _ = home(two, LANCS_OWNER)
    html = client.get(f"/contracts/{LANCS}").text
    for text in (
        "LANCS-DRIVE: Drive domestic abuse perpetrator",
        "Victim Support",
        "Lancashire Police and Crime Commissioner",
        "£665,905.00",
        "2025/26",
        "£298,403.22",  # the 2025/26 cost and gap
        "Staffing at risk",
        "Decision 20/2024: Drive Programme - extension to contract",
        "5 Sep 2024",  # its publication deadline (3 working days after 2 Sep)
        "Reminders sent",
        "250",  # the SMTP server's reply to the reminders
        LANCS_SPONSOR,
        "Change history",
    ):
        assert text in html, text
    assert "Home Office grant" in html and "DRIVE VLO - Blackpool" in html


def test_get_of_every_page_changes_nothing(two: Site) -> None:
    before = dump_tables(two.url)
    for person in (LANCS_OWNER, LANCS_SPONSOR, WATCHER, STRANGER):
        client, _ = home(two, person)
        for path in (f"/contracts/{LANCS}", f"/contracts/{TWO}", "/contracts/NOPE"):
            client.get(path)
            client.head(path)
    assert dump_tables(two.url) == before
