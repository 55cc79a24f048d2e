"""Settings on a real ``tracker serve`` (SQLite and PostgreSQL): the digest choice
reaches the digest, the calendar URL serves what ``icalendar`` parses (the person's
contracts only), and replacing its secret makes the old URL a 404."""

from __future__ import annotations

import re

import httpx
from icalendar import Calendar
from support.session import form_token, signed_in
from support.web import Site

OWNER = "policy.partnerships@lancashire-opcc.example.org"
_CALENDAR = re.compile(r'id="calendar-url">([^<]+)<')


def _calendar_url(page: str) -> str:
    found = _CALENDAR.search(page)
    assert found
    return found.group(1).replace("&amp;", "&")


def test_digest_off_from_settings_stops_the_digest(site: Site) -> None:
    with signed_in(site.served.base_url, OWNER) as web:
        page = web.get("/settings")
        assert page.status_code == 200
        data = {"frequency": "off", "day": "friday", "time": "07:30"}
        saved = web.post("/settings", data={**data, "csrftoken": form_token(page.text)})
        assert saved.status_code == 303 and saved.headers["location"] == "/settings?done=saved"
        shown = web.get("/settings").text
        assert 'value="off" checked' in shown and 'value="friday" selected' in shown
        bad = web.post("/settings", data={**data, "time": "25:99", "csrftoken": form_token(shown)})
        assert bad.status_code == 400 and "Enter a time of day like 08:00" in bad.text
    sent = site.tracker("digest", "--to", OWNER, now="2024-09-20 08:00")
    assert not [m for m in site.smtp.messages if OWNER in m.rcpt_tos], sent.out


def test_the_calendar_url_parses_and_a_replaced_secret_is_a_404(site: Site) -> None:
    with signed_in(site.served.base_url, OWNER) as web:
        page = web.get("/settings")
        url = _calendar_url(page.text)
        feed = httpx.get(url, timeout=10)
        assert feed.status_code == 200
        assert feed.headers["content-type"].startswith("text/calendar")
        calendar = Calendar.from_ical(feed.content)
        summaries = [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")]
        assert summaries and all(s.startswith("LANCS-DRIVE:") for s in summaries)
        # One character changed: not a calendar.
        assert httpx.get(url[:-6] + ("A" if url[-5] != "A" else "B") + ".ics").status_code == 404
        replaced = web.post("/settings/calendar", data={"csrftoken": form_token(page.text)})
        assert replaced.status_code == 303
        new_url = _calendar_url(web.get("/settings?done=calendar").text)
    assert new_url != url
    assert httpx.get(url, timeout=10).status_code == 404
    assert httpx.get(new_url, timeout=10).status_code == 200
    token = url.rpartition("/")[2].removesuffix(".ics")
    assert token not in site.served.log_text()
