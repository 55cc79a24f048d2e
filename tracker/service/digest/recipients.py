"""Per-person digest settings: frequency (weekly, daily or off) and send time."""

from __future__ import annotations

from tracker.domain.digest import FREQUENCIES, WEEKDAYS, Schedule, parse_time
from tracker.errors import InvalidValue
from tracker.service.app import App
from tracker.store.models import RecipientRow


def parse_frequency(value: str) -> str:
    lowered = value.strip().lower()
    if lowered not in FREQUENCIES:
        raise InvalidValue("--digest", value, f"is not one of: {', '.join(FREQUENCIES)}")
    return lowered


def parse_digest_time(value: str) -> str:
    try:
        at = parse_time(value.strip())
    except ValueError:
        raise InvalidValue("--time", value, "is not a time of day: write 08:00") from None
    return f"{at:%H:%M}"


def parse_digest_day(value: str) -> str:
    lowered = value.strip().lower()
    if lowered not in WEEKDAYS:
        raise InvalidValue("--day", value, "is not a day of the week: write monday")
    return lowered


async def set_recipient(
    app: App, email: str, frequency: str, at: str | None, day: str | None = None
) -> str:
    """A person's own digest settings; ``at`` and ``day`` None keep what was set."""
    async with app.session() as session:
        row = await session.get(RecipientRow, email)
        if row is None:
            row = RecipientRow(
                email=email, digest=frequency, digest_time=at, digest_day=day, updated_at=app.now
            )
            session.add(row)
        else:
            row.digest = frequency
            row.digest_time = at if at is not None else row.digest_time
            row.digest_day = day if day is not None else row.digest_day
            row.updated_at = app.now
        await session.commit()
        when = f" at {row.digest_time}" if row.digest_time else ""
    if frequency == "off":
        return f"{email}: no digest"
    return f"{email}: {frequency} digest{when}"


async def digest_frequency(app: App, email: str) -> str:
    """How often ``email`` gets the digest now: their own setting, else the default."""
    return (await digest_schedule(app, email)).frequency


async def digest_schedule(app: App, email: str) -> Schedule:
    """``email``'s digest schedule now: how often, which day, what time."""
    from tracker.service.digest.gather import schedules

    async with app.session() as session:
        found = await schedules(session, app, [email])
    return found[email]
