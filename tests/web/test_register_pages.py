"""The register, funding and deliveries pages on a real ``tracker serve`` (SQLite and
PostgreSQL), signed in with a session cookie, over 25 contracts imported through the CLI
(tests/web/register_support.py says who owns what)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from register_support import (
    ADMIN,
    ALICE,
    BOB,
    COUNT,
    DAVE,
    ERIN,
    NOBODY,
    TODAY,
    RegisterSite,
    at_risk,
    end,
    fail_two_reminders,
    gap,
    owner,
    ref,
    sees,
    serve_register,
)
from support.session import signed_in
from support.web import dump_tables

_ROW_REF = re.compile(r'<td><a href="/contracts/[^"]+">(REG-\d{3})</a></td>')


@pytest.fixture
def reg(db_url: str, tmp_path: Path) -> Iterator[RegisterSite]:
    yield from serve_register(db_url, tmp_path)


def _refs(client: httpx.Client, query: str = "") -> list[str]:
    response = client.get(f"/register{query}")
    assert response.status_code == 200, response.text
    return _ROW_REF.findall(response.text)


def _all_pages(client: httpx.Client, query: str = "") -> list[str]:
    found: list[str] = []
    for page in range(1, 5):
        found += _refs(client, f"?page={page}{'&' + query if query else ''}")
    return list(dict.fromkeys(found))


def _nums(refs: list[str]) -> list[int]:
    return [int(r.removeprefix("REG-")) for r in refs]


def test_sorts_filters_search_and_pages(reg: RegisterSite) -> None:
    with signed_in(reg.served.base_url, ADMIN) as admin:
        # End date, soonest first, 20 a page; the 21st contract starts page 2.
        assert _nums(_refs(admin)) == list(range(1, 21))
        assert _nums(_refs(admin, "?page=2")) == list(range(21, COUNT + 1))
        page2 = admin.get("/register?page=2").text
        assert 'aria-current="page">2<' in page2 and 'rel="prev"' in page2
        assert 'rel="next"' not in page2
        # A page past the last shows the last.
        assert _nums(_refs(admin, "?page=9")) == list(range(21, COUNT + 1))
        assert _nums(_refs(admin, "?sort=end&order=desc")) == list(range(COUNT, 5, -1))
        # Gap, largest first; contracts without costs (odd) after, by end date.
        by_gap = _nums(_all_pages(admin, "sort=gap"))
        evens = sorted((i for i in range(1, COUNT + 1) if gap(i) is not None), reverse=True)
        odds = [i for i in range(1, COUNT + 1) if gap(i) is None]
        assert by_gap == evens + odds
        assert _nums(_all_pages(admin, "sort=gap&order=asc")) == sorted(evens) + odds
        by_risk = _nums(_all_pages(admin, "sort=risk"))
        assert by_risk[:5] == [5, 10, 15, 20, 25]
        assert all(at_risk(i) == 0 for i in by_risk[5:])
        # Filters and search.
        assert set(_nums(_all_pages(admin, f"owner={BOB}"))) == {
            i for i in range(1, 26) if owner(i) == BOB
        }
        assert set(_nums(_all_pages(admin, "commissioner=North"))) == set(range(2, 26, 2))
        within = {i for i in range(1, 26) if TODAY <= end(i) <= TODAY.replace(year=2025)}
        assert set(_nums(_all_pages(admin, "within=365"))) == within and within
        assert _nums(_refs(admin, "?q=reg-01")) == list(range(10, 20))
        assert _nums(_refs(admin, "?q=acme+care")) == [3, 4]
        assert _nums(_refs(admin, "?q=service+7")) == [7]
        assert _nums(_refs(admin, "?q=100%25")) == [13]  # % is text, not a wildcard
        assert _nums(_refs(admin, "?q=service_1")) == []  # _ too
        assert _nums(_refs(admin, "?q=under_score")) == [13]
        combined = _refs(admin, f"?owner={ALICE}&commissioner=North&sort=gap")
        assert _nums(combined) == sorted((i for i in range(1, 26) if i % 6 == 0), reverse=True)
        assert "No contracts match" in admin.get("/register?q=nothing-like-this").text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=colour", "sort"),
        ("order=sideways", "order"),
        ("within=-5", "within"),
        ("within=soon", "within"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("q=" + "x" * 201, "q"),
    ],
)
def test_bad_parameters_are_an_error_summary(reg: RegisterSite, query: str, field: str) -> None:
    with signed_in(reg.served.base_url, ADMIN) as admin:
        response = admin.get(f"/register?{query}")
    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert f'href="#{field}"' in response.text
    assert f'id="{field}"' in response.text  # the summary's link has somewhere to go
    assert len(_ROW_REF.findall(response.text)) == 20  # the rest of the page still works


@pytest.mark.parametrize("person", [ALICE, BOB, DAVE, ERIN, NOBODY])
def test_a_person_sees_and_downloads_only_their_contracts(reg: RegisterSite, person: str) -> None:
    expected = {ref(i) for i in sees(person)}
    with signed_in(reg.served.base_url, person) as client:
        assert set(_all_pages(client)) == expected
        csv_refs = [
            line.split(",")[0] for line in client.get("/register.csv").text.splitlines()[1:]
        ]
        assert set(csv_refs) == expected
        book = load_workbook(BytesIO(client.get("/register.xlsx").content))
        sheet = book.active
        assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == expected
        for other in sorted({ref(i) for i in range(1, 26)} - expected)[:3]:
            assert _refs(client, f"?q={other}") == []
        assert client.get("/deliveries").status_code == 404
        # The filter choices name only the person's own contracts' owners.
        owners = set(re.findall(r'<option value="([^"]+@[^"]+)"', client.get("/register").text))
        assert owners == {owner(i) for i in sees(person)}


def test_admin_csv_is_the_export(reg: RegisterSite, tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    reg.tracker("export", "register", "--out", str(out))
    with signed_in(reg.served.base_url, ADMIN) as admin:
        response = admin.get("/register.csv")
        filtered = admin.get("/register.csv?owner=" + BOB + "&sort=gap&page=2")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="register.csv"' in response.headers["content-disposition"]
    assert response.content == out.read_bytes()
    lines = filtered.content.decode("utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == sorted(
        ref(i) for i in range(1, 26) if owner(i) == BOB
    )
    assert lines[0] == out.read_bytes().decode("utf-8-sig").splitlines()[0]


def test_register_needs_sign_in(reg: RegisterSite) -> None:
    for path in ("/register", "/register.csv", "/register.xlsx", "/funding", "/deliveries"):
        response = httpx.get(reg.served.base_url + path + "?q=x", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in?next=" + path.replace("/", "%2F"))


def _money(text: str) -> Decimal:
    return Decimal(text.replace("£", "").replace(",", ""))


def test_funding_by_year(reg: RegisterSite) -> None:
    with signed_in(reg.served.base_url, ADMIN) as admin:
        html = admin.get("/funding").text
    assert "<script" not in html
    assert '<svg class="chart-svg"' in html and 'role="img"' in html
    assert '<title id="chart-title">' in html and '<desc id="chart-desc">' in html
    rows = re.findall(
        r'<tr><th scope="row"><a href="#year-([^"]+)">[^<]+</a></th><td class="numeric">([^<]+)</td>'
        r'<td class="numeric">([^<]+)</td><td class="numeric">(\d+)</td></tr>',
        html,
    )
    # Only 2025/26 has costs or money at risk; its gap and risk add up every contract's.
    assert [r[0] for r in rows] == ["2025-26"]
    [(_, year_gap, year_risk, count)] = rows
    assert _money(year_gap) == sum(g for i in range(1, 26) if (g := gap(i)) is not None)
    assert year_gap == "£15,600.00"
    assert _money(year_risk) == sum(at_risk(i) for i in range(1, 26))
    deciding = {i for i in range(1, 26) if gap(i) is not None or at_risk(i) > 0}
    assert int(count) == len(deciding)
    listed = re.findall(r'<li><a href="/contracts/[^"]+">(REG-\d+)</a>', html)
    assert set(_nums(listed)) == deciding
    with signed_in(reg.served.base_url, ALICE) as alice:
        mine = alice.get("/funding").text
    alice_gap = sum(g for i in sees(ALICE) if (g := gap(i)) is not None)
    assert f"2025/26: gap £{alice_gap:,.2f}" in mine
    assert set(_nums(re.findall(r'<li><a href="/contracts/[^"]+">(REG-\d+)</a>', mine))) == {
        i for i in sees(ALICE) if i in deciding
    }


def test_deliveries_for_admins_only(reg: RegisterSite) -> None:
    fail_two_reminders(reg)
    with signed_in(reg.served.base_url, ADMIN) as admin:
        html = admin.get("/deliveries").text
    assert "550 5.1.1 &lt;x@register.example.org&gt;: no such user" in html
    assert "451 4.7.1 greylisted, try again later" in html
    assert "Failed (1)" in html and "Retrying (1)" in html
    for person in (ALICE, DAVE, NOBODY):
        with signed_in(reg.served.base_url, person) as client:
            refused = client.get("/deliveries")
            unknown = client.get("/no-such-page")
        assert refused.status_code == 404
        assert refused.text == unknown.text


def test_get_changes_nothing(reg: RegisterSite) -> None:
    before = dump_tables(reg.url)
    for person in (ADMIN, ALICE, NOBODY):
        with signed_in(reg.served.base_url, person) as client:
            for path in (
                "/register",
                "/register?sort=gap&page=2",
                "/register?page=0",
                "/register.csv",
                "/register.xlsx",
                "/funding",
                "/deliveries",
            ):
                client.get(path)
    assert dump_tables(reg.url) == before
