"""The register, funding and deliveries pages run a fixed number of SQL statements,
whatever the number of contracts: the same count at 5 and at 50 contracts (a page of 5
rows and a page of 20), on both backends.

The app runs in this process (the same ASGI app ``tracker serve`` runs, through httpx's
ASGI transport) so that a ``before_cursor_execute`` listener on its engine sees every
statement; the contracts come in through the real CLI.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from register_support import ADMIN, ALICE, IMPORTED, SERVER_NOW, write_register
from sqlalchemy import select
from support.processes import clean_env, run_tracker
from support.session import session_cookie
from support.statements import statements_run
from support.web import SECRET

from tracker.domain.dates import parse_now
from tracker.service.app import make_app, opened
from tracker.service.views.contracts import list_contracts
from tracker.service.views.register import at_risk_key, gap_key
from tracker.store.models import ContractRow
from tracker.web.app import create_app
from tracker.web.auth import SESSION_COOKIE

PAGES = (
    (ADMIN, "/register"),
    (ADMIN, "/register?sort=gap&order=desc"),
    (ADMIN, "/register?sort=risk&commissioner=North&q=reg&within=3650"),
    (ALICE, "/register"),
    (ALICE, "/register.csv"),
    (ADMIN, "/funding"),
    (ALICE, "/funding"),
    (ADMIN, "/deliveries"),
)


async def _counts(url: str) -> dict[tuple[str, str], int]:
    base = make_app(db=url, now=parse_now(SERVER_NOW))
    app = create_app(base)
    counts: dict[tuple[str, str], int] = {}
    try:
        with statements_run(base) as seen:
            transport = httpx.ASGITransport(app=app)
            for person, path in PAGES:
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://127.0.0.1"
                ) as client:
                    client.cookies.set(SESSION_COOKIE, session_cookie(person))
                    seen.clear()
                    response = await client.get(path)
                    assert response.status_code == 200, (path, response.text[:500])
                    counts[(person, path)] = len(seen)
    finally:
        await base.close()
    return counts


async def test_a_fixed_number_of_statements_per_page(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = clean_env(tmp_path, TRACKER_ADMINS=ADMIN)
    for name, value in {
        "TRACKER_ADMINS": ADMIN,
        "TRACKER_BASE_URL": "http://127.0.0.1",
        "TRACKER_SECRET_KEY": SECRET,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / ".config"),
    }.items():
        monkeypatch.setenv(name, value)

    def load(count: int, first: int) -> None:
        path = write_register(tmp_path / f"register-{first}.yaml", count, first)
        result = run_tracker(db_url, "import", str(path), env=env, cwd=tmp_path, now=IMPORTED)
        assert result.code == 0, result

    load(5, 1)
    small = await _counts(db_url)
    load(50, 6)
    large = await _counts(db_url)
    assert small == large
    # Register: count, page, its collections, owner and commissioner choices.
    assert large[(ADMIN, "/register")] <= 12, large


async def test_the_sql_sort_keys_equal_the_domain_totals(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``gap_key`` and ``at_risk_key`` order the register; the page shows the domain's
    ``total_gap`` and ``total_at_risk``. They must agree for every contract, a removed
    line and a surplus year included."""
    env = clean_env(tmp_path)
    path = write_register(tmp_path / "register.yaml", 12)
    for args in (
        ("import", str(path)),
        (
            "funding",
            "add",
            "REG-002",
            "--source",
            "Top-up",
            "--year",
            "2025/26",
            "--amount",
            "5000",
            "--status",
            "received",
        ),
        ("cost", "add", "REG-004", "--year", "2024/25", "--amount", "300", "--category", "Set-up"),
        ("funding", "remove", "REG-010", "F2"),
    ):
        result = run_tracker(db_url, *args, env=env, cwd=tmp_path, now=IMPORTED)
        assert result.code == 0, result
    async with opened(make_app(db=db_url, now=parse_now(SERVER_NOW))) as app:
        summaries = {s.ref: s for s in await list_contracts(app)}
        async with app.session() as session:
            keyed = (await session.execute(select(ContractRow.ref, gap_key(), at_risk_key()))).all()
    assert len(keyed) == 12
    for ref, gap, risk in keyed:
        summary = summaries[ref]
        expected_gap = summary.total_gap
        assert (gap is None) == (expected_gap is None), ref
        if gap is not None:
            assert Decimal(str(gap)) == expected_gap, ref
        assert Decimal(str(risk)) == summary.total_at_risk, ref
    assert summaries["REG-002"].total_gap == Decimal("0.00")  # the surplus counts for nothing
    assert summaries["REG-004"].total_gap == Decimal("700.00")
    assert summaries["REG-010"].total_at_risk == Decimal("0.00")  # its expected line removed
    assert summaries["REG-005"].total_at_risk == Decimal("950.00")
