"""Packaging: the wheel ships the data files and `tracker demo` works from a clean venv.

Slow (builds a wheel, creates a venv, installs dependencies from PyPI via pip's cache).
Run alone with ``.venv/bin/pytest -m slow tests/test_wheel.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

# Top-level entries of the repo that must not be copied into the build tree.
_SKIP_TOP = {
    ".git",
    ".venv",
    "build",
    "dist",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    "outbox",
}


def _ignore(directory: str, names: list[str]) -> set[str]:
    skipped = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".egg-info"))}
    if Path(directory).resolve() == REPO:
        skipped |= {n for n in names if n in _SKIP_TOP or n.endswith((".db", ".db-wal"))}
    return skipped


def _can_build_without_isolation() -> bool:
    """True when this interpreter already has the build backend pyproject.toml asks for."""
    from packaging.version import Version

    try:
        return Version(metadata.version("setuptools")) >= Version("69") and bool(
            metadata.version("wheel")
        )
    except metadata.PackageNotFoundError:
        return False


def _run(cmd: list[str], *, timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        **kwargs,
    )
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} exited {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}"
    )
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Build from a clean copy so stale build/ or *.egg-info dirs in the checkout (or files
    # other people are editing right now) cannot leak into the wheel or the tree.
    work = tmp_path_factory.mktemp("wheel-build")
    src = work / "src"
    shutil.copytree(REPO, src, ignore=_ignore, symlinks=True)
    out = work / "dist"
    cmd = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out)]
    if _can_build_without_isolation():
        cmd.append("--no-isolation")  # offline: use this venv's setuptools/wheel
    _run(cmd, timeout=600, cwd=src)
    wheels = sorted(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_contents(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()

    assert any(n.startswith("tracker/templates/") and not n.endswith("/") for n in names), names
    assert "tracker/config/policy.toml" in names
    # The web app's pages and stylesheet ship like the emails' templates.
    for page in ("base.html", "confirm.html", "result.html", "notice.html", "digest.html"):
        assert f"tracker/templates/web/{page}" in names, names
    assert "tracker/templates/web/static/site.css" in names
    assert "tracker/web/app.py" in names
    seeds = [n for n in names if n.startswith("tracker/config/seeds/") and n.endswith(".yaml")]
    assert seeds, "no tracker/config/seeds/*.yaml in the wheel"
    assert "tracker/jobs/__init__.py" in names
    assert "tracker/migrations/env.py" in names

    top_level = {n.split("/", 1)[0] for n in names}
    for forbidden in ("jobs", "templates", "config"):
        assert forbidden not in top_level, f"wheel installs a top-level {forbidden}/: {top_level}"
    assert not any(n.startswith("jobs/") for n in names)


def test_demo_from_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    bindir = venv / "bin"

    # Installs dependencies from PyPI; keeps the real HOME so pip's cache is reused.
    pip_env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PIP_USER"}}
    pip_env.pop("VIRTUAL_ENV", None)
    _run(
        [str(bindir / "python"), "-m", "pip", "install", "--disable-pip-version-check", str(wheel)],
        timeout=600,
        env=pip_env,
    )

    # The demo must not see the checkout, the developer's data dir or test DB settings.
    home = tmp_path / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRACKER_", "XDG_"))
        and k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        PYTHONUTF8="1",
        PYTHONIOENCODING="utf-8",
        NO_COLOR="1",
        TERM="dumb",
        COLUMNS="200",
        PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
    )

    where = _run(
        [str(bindir / "python"), "-c", "import tracker; print(tracker.__file__)"],
        timeout=120,
        cwd=tmp_path,
        env=env,
    ).stdout.strip()
    assert Path(where).resolve().is_relative_to(venv.resolve()), where

    out = _run([str(bindir / "tracker"), "demo"], timeout=300, cwd=tmp_path, env=env).stdout
    for expected in ("LANCS-DRIVE", "PCC/D/2018/25", "£298,403.22", "£575,291.00"):
        assert expected in out, f"{expected!r} missing from `tracker demo` output:\n{out}"
    assert "staffing risk" in out.lower(), f"'staffing risk' missing:\n{out}"
    # How to start the web app on the demo database, and one real link to try.
    assert " serve --port 8080" in out and "http://127.0.0.1:8080/act/" in out, out
