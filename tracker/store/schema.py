"""Create, upgrade and check the schema through Alembic, from inside the tracker.

Every command checks the revision first: an empty database is created on first use
(the embedded default must just work), an old one is refused with the command that
upgrades it, so a stale second server never writes to a schema it does not know.
"""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from tracker.errors import SchemaOutdated


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("tracker.migrations")))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _has_tables(connection: Connection) -> bool:
    return bool(inspect(connection).get_table_names())


def _upgrade(connection: Connection, cfg: Config) -> None:
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade(engine: AsyncEngine) -> tuple[str | None, str]:
    """Bring the schema to head; returns (revision before, revision after). Idempotent."""
    async with engine.begin() as conn:
        before = await conn.run_sync(_current)
        known = {
            rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()
        }
        if before is not None and before not in known:
            raise SchemaOutdated(current=before, head=head_revision(), newer=True)
        await conn.run_sync(_upgrade, alembic_config())
        after = await conn.run_sync(_current)
    assert after is not None
    return before, after


async def ensure_current(engine: AsyncEngine) -> None:
    """Create the schema in an empty database; refuse an outdated one with a clear message."""
    head = head_revision()
    async with engine.connect() as conn:
        current = await conn.run_sync(_current)
        empty = current is None and not await conn.run_sync(_has_tables)
    if current == head:
        return
    if empty:
        await upgrade(engine)
        return
    raise SchemaOutdated(current=current, head=head)
