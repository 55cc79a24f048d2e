"""Sign in by email link against a real ``tracker serve`` (SQLite and PostgreSQL), with
the link taken from the email aiosmtpd captured: the whole flow, the same answer for an
unknown address, a link that works once and for 15 minutes, the hourly limit across two
server processes, the session cookie's flags, sign out, and cross-site POSTs refused."""

from __future__ import annotations

import re
import time

import httpx
from support.processes import wait_until
from support.session import form_token
from support.smtp import ThreadedSmtpServer
from support.web import SERVER_NOW, Site, dump_tables, serve_port, start_serve, text_part, web_env

OWNER = "policy.partnerships@lancashire-opcc.example.org"
STRANGER = "nobody@elsewhere.example.org"
_LINK = re.compile(r"(http://\S+/sign-in/[A-Za-z0-9_-]+)")


def client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=10, follow_redirects=False)


def ask_for_link(web: httpx.Client, email: str, next_path: str = "/") -> httpx.Response:
    page = web.get("/sign-in", params={"next": next_path})
    assert page.status_code == 200
    data = {"email": email, "next": next_path, "csrftoken": form_token(page.text)}
    return web.post("/sign-in", data=data)


def emailed_link(smtp: ThreadedSmtpServer, count: int) -> str:
    received = smtp.wait_for(count)[count - 1]
    found = _LINK.search(text_part(received.message))
    assert found, text_part(received.message)
    return found.group(1)


def continue_with(web: httpx.Client, link: str) -> httpx.Response:
    path = "/" + link.split("/", 3)[3]
    page = web.get(path)
    assert page.status_code == 200 and ">Continue</button>" in page.text
    return web.post(path, data={"csrftoken": form_token(page.text)})


def test_the_whole_flow_from_the_emailed_link(site: Site) -> None:
    web = client(site.served.base_url)
    # A page behind sign-in sends a person to the form, and back afterwards.
    asked = web.get("/settings")
    assert asked.status_code == 303 and asked.headers["location"] == "/sign-in?next=%2Fsettings"
    answer = ask_for_link(web, OWNER.upper(), "/settings")
    assert answer.status_code == 200 and "Check your email" in answer.text
    link = emailed_link(site.smtp, 1)
    message = site.smtp.messages[0]
    assert message.rcpt_tos == (OWNER,) and message.subject == "Sign in to contract-tracker"
    assert "15 minutes" in text_part(message.message)
    # The GET (what a mail scanner does) signs nobody in and uses nothing up.
    fresh = client(site.served.base_url)
    assert fresh.get("/" + link.split("/", 3)[3]).status_code == 200
    assert fresh.get("/settings").status_code == 303
    signed = continue_with(web, link)
    assert signed.status_code == 303 and signed.headers["location"] == "/settings"
    cookie = next(c for c in signed.headers.get_list("set-cookie") if "tracker_session=" in c)
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # the base URL is http here
    settings = web.get("/settings")
    assert settings.status_code == 200 and OWNER in settings.text
    assert 'action="/sign-out"' in settings.text
    # The link works once.
    again = client(site.served.base_url)
    page = again.get("/" + link.split("/", 3)[3])
    assert page.status_code == 410
    # Sign out ends the session.
    out = web.post("/sign-out", data={"csrftoken": form_token(settings.text)})
    assert out.status_code == 303 and out.headers["location"] == "/sign-in?signed-out=1"
    assert web.get("/settings").status_code == 303
    # No whole token in the server's log.
    token = link.rpartition("/")[2]
    assert token not in site.served.log_text() and token[:20] not in site.served.log_text()


def test_an_unknown_address_gets_the_same_page_and_no_email(site: Site) -> None:
    web = client(site.served.base_url)
    known = ask_for_link(web, OWNER)
    unknown = ask_for_link(web, STRANGER)
    assert unknown.status_code == known.status_code == 200
    assert unknown.text.replace(STRANGER, "X") == known.text.replace(OWNER, "X")
    site.smtp.wait_for(1)
    time.sleep(1.5)
    assert [m.rcpt_tos for m in site.smtp.messages] == [(OWNER,)]


def test_a_link_with_one_character_changed_is_refused(site: Site) -> None:
    web = client(site.served.base_url)
    ask_for_link(web, OWNER)
    link = emailed_link(site.smtp, 1)
    last = link[-1]
    altered = link[:-1] + ("A" if last != "A" else "B")
    assert web.get("/" + altered.split("/", 3)[3]).status_code == 410
    page = web.get("/sign-in")
    path = "/" + altered.split("/", 3)[3]
    refused = web.post(path, data={"csrftoken": form_token(page.text)})
    assert refused.status_code == 410 and "tracker_session" not in refused.headers.get(
        "set-cookie", ""
    )
    # The real link still works.
    assert continue_with(web, link).status_code == 303


def test_a_link_stops_after_15_minutes(site: Site) -> None:
    web = client(site.served.base_url)
    ask_for_link(web, OWNER)
    link = emailed_link(site.smtp, 1)
    path = "/" + link.split("/", 3)[3]
    port = serve_port()
    env = web_env(site.served.env, port)
    later = start_serve(site.url, env, site.served.log.parent, port=port, now="2024-09-16 10:16")
    try:
        other = client(later.base_url)
        page = other.get(path)
        assert page.status_code == 410 and "cannot be used" in page.text
        form = other.get("/sign-in")
        assert other.post(path, data={"csrftoken": form_token(form.text)}).status_code == 410
    finally:
        later.stop()
    # Still good on the first server (14 minutes have not passed there).
    assert continue_with(web, link).status_code == 303


def test_the_sixth_request_in_an_hour_sends_nothing_across_two_servers(site: Site) -> None:
    port = serve_port()
    second = start_serve(
        site.url, web_env(site.served.env, port), site.served.log.parent, port=port, now=SERVER_NOW
    )
    try:
        first_web, second_web = client(site.served.base_url), client(second.base_url)
        for n in range(5):
            answer = ask_for_link(first_web if n % 2 else second_web, OWNER)
            assert answer.status_code == 200
        site.smtp.wait_for(5)
        sixth = ask_for_link(first_web, OWNER)
        assert sixth.status_code == 200 and "Check your email" in sixth.text
        seventh = ask_for_link(second_web, OWNER)
        assert seventh.status_code == 200
        time.sleep(1.5)
        assert len(site.smtp.messages) == 5
    finally:
        second.stop()


def test_a_cross_site_post_is_refused_and_changes_nothing(site: Site) -> None:
    web = client(site.served.base_url)
    ask_for_link(web, OWNER, "/settings")
    continue_with(web, emailed_link(site.smtp, 1))
    page = web.get("/settings")
    token = form_token(page.text)
    before = dump_tables(site.url)
    choice = {"frequency": "off", "day": "friday", "time": "07:30"}
    assert web.post("/settings", data=choice).status_code == 403
    assert web.post("/settings", data={**choice, "csrftoken": "forged"}).status_code == 403
    evil = web.post(
        "/settings", data={**choice, "csrftoken": token}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403
    assert web.post("/settings/calendar", data={}).status_code == 403
    assert web.post("/sign-out", data={}).status_code == 403
    assert dump_tables(site.url) == before
    assert web.get("/settings").status_code == 200  # still signed in


def test_the_session_cookie_is_secure_when_the_base_url_is_https(site: Site) -> None:
    port = serve_port()
    env = {**web_env(site.served.env, port), "TRACKER_BASE_URL": f"https://127.0.0.1:{port}"}
    secure = start_serve(site.url, env, site.served.log.parent, port=port, now=SERVER_NOW)
    try:
        base = f"http://127.0.0.1:{port}"
        web = client(base)
        page = web.get("/sign-in")
        csrf_cookie = page.headers["set-cookie"]
        assert "secure" in csrf_cookie.lower()
        cookie = csrf_cookie.split(";", 1)[0]
        data = {"email": OWNER, "next": "/", "csrftoken": form_token(page.text)}
        assert web.post("/sign-in", data=data, headers={"Cookie": cookie}).status_code == 200
        received = site.smtp.wait_for(1)[0]
        link = re.search(r"(https://\S+/sign-in/[A-Za-z0-9_-]+)", text_part(received.message))
        assert link
        path = "/" + link.group(1).split("/", 3)[3]
        shown = web.get(path, headers={"Cookie": cookie})
        used = web.post(
            path, data={"csrftoken": form_token(shown.text)}, headers={"Cookie": cookie}
        )
        assert used.status_code == 303
        session = next(c for c in used.headers.get_list("set-cookie") if "tracker_session=" in c)
        assert "secure" in session.lower() and "httponly" in session.lower()
    finally:
        secure.stop()
    wait_until(lambda: secure.process.poll() is not None, 10, "the server to stop")
