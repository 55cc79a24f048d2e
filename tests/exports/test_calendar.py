"""``tracker calendar``: the .ics file parsed back with ``icalendar``, generation after generation."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from icalendar import Calendar, Event
from support.cli import LANCS, LANCS_SEED, NOW, WM, Runner, dump, error_line, ok
from support.people import LANCS_OWNER, WM_OWNER

from tracker.cli.main import main
from tracker.domain.types import MilestoneKind
from tracker.policy import load_policy


def generate(cli: Runner, path: Path, *args: str, now: str = NOW) -> Calendar:
    ok(cli("--now", now, "calendar", "--out", str(path), *args))
    return Calendar.from_ical(path.read_bytes())


UID = re.compile(r"(milestone-\d+)\.([0-9a-f]{12})@contract-tracker")


def split_uid(event: Event) -> tuple[str, str]:
    """``milestone-3.3f2a9c01b7e4@contract-tracker`` -> (``milestone-3``, ``3f2a9c01b7e4``)."""
    match = UID.fullmatch(str(event["uid"]))
    assert match is not None, event["uid"]
    return match.group(1), match.group(2)


def installation(calendar: Calendar) -> str:
    """The installation part of the calendar's UIDs: one for all of them."""
    (part,) = {split_uid(event)[1] for event in calendar.walk("VEVENT")}
    return part


def events(calendar: Calendar) -> dict[str, Event]:
    """The events by UID less its installation part (``milestone-3``), checked unique."""
    found = {split_uid(event)[0]: event for event in calendar.walk("VEVENT")}
    assert len(found) == len(calendar.walk("VEVENT")), "duplicate UIDs"
    return found


def milestones(cli: Runner, ref: str, now: str = NOW) -> list[dict[str, Any]]:
    shown = json.loads(ok(cli("--now", now, "show", ref, "--json")).out)
    result: list[dict[str, Any]] = shown["summary"]["milestones"]
    return result


def milestone(cli: Runner, ref: str, kind: str, now: str = NOW) -> dict[str, Any]:
    (found,) = [m for m in milestones(cli, ref, now) if m["kind"] == kind]
    return found


def uid(m: dict[str, Any]) -> str:
    """The UID's installation part is random per database: matched on the rest."""
    return f"milestone-{m['id']}"


def triggers(event: Event) -> list[str]:
    return [alarm["trigger"].to_ical().decode() for alarm in event.walk("VALARM")]


def test_every_open_and_cancelled_milestone_is_an_all_day_event(
    seeded: Runner, tmp_path: Path
) -> None:
    calendar = generate(seeded, tmp_path / "m.ics")
    found = events(calendar)
    expected = {
        uid(m): m
        for ref in (LANCS, WM)
        for m in milestones(seeded, ref)
        if m["status"] in ("open", "cancelled")
    }
    assert set(found) == set(expected)
    assert str(calendar["x-wr-calname"]) == "Contract milestones"
    assert str(calendar["version"]) == "2.0"
    for key, event in found.items():
        m = expected[key]
        start = event.decoded("dtstart")
        assert type(start) is date, "an all-day event has a DATE, not a DATE-TIME"
        assert start == date.fromisoformat(m["due"])
        assert event.decoded("dtend") == start + timedelta(days=1)
        assert str(event["summary"]) == f"{m['ref']}: {m['title']}"
        assert event.decoded("dtstamp").isoformat() == "2024-09-02T11:00:00+00:00"
        assert int(event["sequence"]) == 0
        assert str(event["status"]) == "CONFIRMED"
    raw = (tmp_path / "m.ics").read_bytes()
    assert b"DTSTART;VALUE=DATE:20240930\r\n" in raw


def test_done_milestones_are_left_out(seeded: Runner, tmp_path: Path) -> None:
    start = milestone(seeded, LANCS, "contract_start")
    assert start["status"] == "done"  # a fact whose day has passed
    publication = milestone(seeded, LANCS, "publication")
    ok(seeded("--now", NOW, "milestone", "done", LANCS, "publication", "--note", "published"))
    found = events(generate(seeded, tmp_path / "m.ics"))
    assert uid(start) not in found
    assert uid(publication) not in found


def test_alarms_at_the_policy_lead_days(seeded: Runner, tmp_path: Path) -> None:
    policy = load_policy()
    found = events(generate(seeded, tmp_path / "m.ics"))
    for kind in ("extension_notice", "contract_end", "publication", "funding_confirmation"):
        event = found[uid(milestone(seeded, LANCS, kind))]
        leads = policy.reminder_rule(MilestoneKind(kind)).leads
        assert leads, kind
        assert triggers(event) == [f"-P{lead}D" for lead in leads], kind
        for alarm in event.walk("VALARM"):
            assert str(alarm["action"]) == "DISPLAY"
            assert LANCS in str(alarm["description"])
    assert "TRIGGER:-P120D" in (tmp_path / "m.ics").read_text(encoding="utf-8")


def test_a_contract_s_own_policy_sets_its_alarms(seeded: Runner, tmp_path: Path) -> None:
    path = tmp_path / "own.yaml"
    path.write_text(
        "contracts:\n"
        "  - {ref: OWN, title: T, provider: P, start: 2024-04-01, end: 2026-03-31,\n"
        "     extensions: [{until: 2027-03-31, notice_by: 2025-12-31}],\n"
        "     policy: {extension_notice: {leads: [45, 10]}}}\n",
        encoding="utf-8",
    )
    ok(seeded("--now", NOW, "import", str(path)))
    found = events(generate(seeded, tmp_path / "m.ics", "--ref", "OWN"))
    assert triggers(found[uid(milestone(seeded, "OWN", "extension_notice"))]) == [
        "-P45D",
        "-P10D",
    ]


def test_description_names_the_decision_and_the_command_that_closes_it(
    seeded: Runner, tmp_path: Path
) -> None:
    found = events(generate(seeded, tmp_path / "m.ics"))
    notice = milestone(seeded, LANCS, "extension_notice")
    description = str(found[uid(notice)]["description"])
    assert notice["command"] == "tracker milestone done LANCS-DRIVE extension_notice"
    assert notice["command"] in description
    assert notice["title"] in description
    assert notice["if_missed"] in description
    assert "30 Sep 2024" in description
    end = str(found[uid(milestone(seeded, LANCS, "contract_end"))]["description"])
    assert "not a decision" in end and "tracker milestone done" not in end


def test_cancelled_milestones_are_sent_as_cancelled_with_a_higher_sequence(
    seeded: Runner, tmp_path: Path
) -> None:
    publication = milestone(seeded, LANCS, "publication")
    before = events(generate(seeded, tmp_path / "a.ics"))[uid(publication)]
    ok(seeded("--now", NOW, "milestone", "cancel", LANCS, "publication", "--note", "not needed"))
    after = events(generate(seeded, tmp_path / "b.ics"))[uid(publication)]
    assert str(before["status"]) == "CONFIRMED"
    assert str(after["status"]) == "CANCELLED"
    assert int(after["sequence"]) > int(before["sequence"])
    assert after.decoded("dtstart") == before.decoded("dtstart")
    assert triggers(after) == [], "no alarms for a cancelled milestone"
    assert "not needed" in str(after["description"])


def test_second_generation_after_extend_updates_the_same_uid(
    seeded: Runner, tmp_path: Path
) -> None:
    end = milestone(seeded, LANCS, "contract_end")
    first = events(generate(seeded, tmp_path / "first.ics"))
    ok(seeded("--now", "2024-09-03", "extend", LANCS))
    second = events(generate(seeded, tmp_path / "second.ics", now="2024-09-03"))

    old, new = first[uid(end)], second[uid(end)]
    assert old.decoded("dtstart") == date(2025, 3, 31)
    assert new.decoded("dtstart") == date(2026, 3, 31)
    assert int(new["sequence"]) > int(old["sequence"])
    assert new.decoded("dtstamp") > old.decoded("dtstamp")
    # The same UIDs, not new ones: a calendar that re-imports updates, never duplicates.
    moved_end = milestone(seeded, LANCS, "contract_end", "2024-09-03")
    assert moved_end["id"] == end["id"]
    # A milestone whose date did not move keeps its SEQUENCE.
    publication = uid(milestone(seeded, LANCS, "publication"))
    assert second[publication]["sequence"] == first[publication]["sequence"]
    # The extension notice is done once the option is activated: it leaves the feed.
    assert uid(milestone(seeded, LANCS, "extension_notice")) not in second
    # A third generation with nothing changed is the same apart from DTSTAMP.
    third = events(generate(seeded, tmp_path / "third.ics", now="2024-09-03"))
    assert {k: int(e["sequence"]) for k, e in third.items()} == {
        k: int(e["sequence"]) for k, e in second.items()
    }


def sequences(found: dict[str, Event]) -> dict[str, int]:
    return {key: int(event["sequence"]) for key, event in found.items()}


def test_extend_raises_the_sequence_of_every_moved_milestone_and_no_other(
    seeded: Runner, tmp_path: Path
) -> None:
    before = {m["kind"]: m for m in milestones(seeded, LANCS)}
    first = events(generate(seeded, tmp_path / "first.ics"))
    ok(seeded("--now", "2024-09-03", "extend", LANCS))
    second = events(generate(seeded, tmp_path / "second.ics", now="2024-09-03"))
    after = {m["kind"]: m for m in milestones(seeded, LANCS, "2024-09-03")}

    # The contract end and the last referral moved with the extension: same UID, the
    # new date, one version more. The extension notice is done (out of the feed).
    key = uid(before["contract_end"])
    assert after["contract_end"]["id"] == before["contract_end"]["id"]
    assert first[key].decoded("dtstart") == date(2025, 3, 31)
    assert second[key].decoded("dtstart") == date(2026, 3, 31)
    assert (int(first[key]["sequence"]), int(second[key]["sequence"])) == (0, 1)
    # The last referral (28 Mar 2024) had passed: done by passing, out of the first
    # feed; moved to 31 Mar 2025 it is open again, one version more.
    key = uid(before["last_referral"])
    assert after["last_referral"]["id"] == before["last_referral"]["id"]
    assert key not in first
    assert second[key].decoded("dtstart") == date(2025, 3, 31)
    assert int(second[key]["sequence"]) == 1
    moved = {uid(before["contract_end"]), uid(before["last_referral"])}
    unchanged = {key: value for key, value in sequences(second).items() if key not in moved}
    assert set(unchanged.values()) == {0}, unchanged
    assert uid(before["extension_notice"]) not in second


def test_a_milestone_cancelled_then_reopened_at_the_same_date_is_a_new_version_each_time(
    seeded: Runner, tmp_path: Path
) -> None:
    funding = uid(milestone(seeded, LANCS, "funding_confirmation"))
    found = [events(generate(seeded, tmp_path / "0.ics"))[funding]]
    # Confirmed funding closes the 2025/26 gap (the decision no longer applies) ...
    close = ("--source", "PCC reserves", "--year", "2025/26", "--amount", "298403.22")
    ok(seeded("--now", NOW, "funding", "add", LANCS, *close, "--status", "confirmed"))
    found.append(events(generate(seeded, tmp_path / "1.ics"))[funding])
    # ... and another cost opens it again: the same milestone, back at the same date.
    ok(seeded("--now", NOW, "cost", "add", LANCS, "--year", "2025/26", "--amount", "40"))
    found.append(events(generate(seeded, tmp_path / "2.ics"))[funding])

    assert [str(e["status"]) for e in found] == ["CONFIRMED", "CANCELLED", "CONFIRMED"]
    assert [int(e["sequence"]) for e in found] == [0, 1, 2]
    assert len({e.decoded("dtstart") for e in found}) == 1


def test_uids_carry_the_installation_stable_across_exports_different_across_databases(
    seeded: Runner, tmp_path: Path
) -> None:
    first = generate(seeded, tmp_path / "a.ics")
    again = generate(seeded, tmp_path / "b.ics", now="2025-01-06")
    assert installation(first) == installation(again)
    assert len(installation(first)) == 12

    other = tmp_path / "other.db"
    for args in (("import", str(LANCS_SEED)), ("calendar", "--out", str(tmp_path / "o.ics"))):
        assert main(["--db", f"sqlite+aiosqlite:///{other}", "--now", NOW, *args]) == 0
    elsewhere = Calendar.from_ical((tmp_path / "o.ics").read_bytes())
    # The same milestone ids in both databases, told apart by the installation part.
    assert set(events(elsewhere)) & set(events(first))
    assert installation(elsewhere) != installation(first)
    uids = {str(e["uid"]) for c in (first, elsewhere) for e in c.walk("VEVENT")}
    assert len(uids) == len(first.walk("VEVENT")) + len(elsewhere.walk("VEVENT"))


def test_ref_filter(seeded: Runner, tmp_path: Path) -> None:
    calendar = generate(seeded, tmp_path / "m.ics", "--ref", LANCS)
    found = events(calendar)
    assert found
    assert {str(e["summary"]).split(": ")[0] for e in found.values()} == {LANCS}
    assert str(calendar["x-wr-calname"]) == f"Contract milestones: {LANCS}"


def test_owner_filter_ignores_case(seeded: Runner, tmp_path: Path) -> None:
    found = events(generate(seeded, tmp_path / "m.ics", "--owner", WM_OWNER.upper()))
    assert found
    assert {str(e["summary"]).split(": ")[0] for e in found.values()} == {WM}
    both = events(generate(seeded, tmp_path / "b.ics", "--owner", LANCS_OWNER, "--ref", WM))
    assert both == {}


def test_an_owner_with_no_contracts_gets_an_empty_valid_calendar(
    seeded: Runner, tmp_path: Path
) -> None:
    result = ok(seeded("calendar", "--out", "e.ics", "--owner", "nobody@example.org"))
    assert "Wrote 0 events" in result.out
    calendar = Calendar.from_ical((tmp_path / "e.ics").read_bytes())
    assert calendar.walk("VEVENT") == []


def test_errors_write_nothing(seeded: Runner, db_path: Path, tmp_path: Path) -> None:
    before = dump(db_path)
    error = error_line(seeded("calendar", "--out", "x.ics", "--ref", "NOPE"))
    assert "'NOPE' is not a contract" in error
    error = error_line(seeded("calendar", "--out", "x.ics", "--owner", "not-an-email"))
    assert error.startswith("Error: --owner: 'not-an-email'")
    error = error_line(seeded("calendar", "--out", str(tmp_path / "no" / "x.ics")))
    assert "folder that does not exist" in error
    assert not (tmp_path / "x.ics").exists()
    assert dump(db_path) == before
