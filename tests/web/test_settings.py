"""``tracker serve``'s settings: it refuses to start without a key (and says how to make
one), the key is never shown, /healthz tells a database behind the code, a base URL
must be an address."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from support.cli import Runner
from support.web import SECRET

from tracker.service.app import make_app
from tracker.web.app import create_app


def test_serve_refuses_without_a_key(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_BASE_URL", "https://tracker.example.org")
    result = cli("serve", "--port", "1")
    assert result.code == 1
    assert "TRACKER_SECRET_KEY is not set" in result.err
    assert "secrets.token_urlsafe(32)" in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_serve_refuses_without_a_base_url(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_SECRET_KEY", SECRET)
    result = cli("serve")
    assert result.code == 1 and "TRACKER_BASE_URL is not set" in result.err
    assert SECRET not in result.err + result.out


def test_base_url_must_be_an_address(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_BASE_URL", "javascript:alert(1)")
    result = cli("status")
    assert result.code == 1 and "base_url" in result.err


def test_the_key_is_never_shown(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_BASE_URL", "https://tracker.example.org")
    monkeypatch.setenv("TRACKER_SECRET_KEY", SECRET)
    for args in (("status",), ("status", "--json"), ("serve", "--port", "99999")):
        result = cli(*args)
        assert SECRET not in result.out + result.err, args
    # A key too short to be safe is refused without being echoed.
    monkeypatch.setenv("TRACKER_SECRET_KEY", "short-key")
    result = cli("serve")
    assert result.code == 1 and "short-key" not in result.err


async def test_healthz_is_503_when_the_schema_is_not_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_BASE_URL", "http://testserver")
    monkeypatch.setenv("TRACKER_SECRET_KEY", SECRET)
    app = make_app(db=f"sqlite+aiosqlite:///{tmp_path}/empty.db")
    transport = httpx.ASGITransport(app=create_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/healthz")
    await app.close()
    assert response.status_code == 503
    assert response.text.startswith("schema at none, expected ")
    assert response.text.count("\n") == 1
    assert response.headers["x-content-type-options"] == "nosniff"
