"""The weekly digest end to end: the real ``tracker`` CLI in-process with ``--now``, a real
threaded SMTP server and a real SQLite file.

The people and their contracts (imported Tue 20 May 2025; the first digest is due
Monday 2 June 2025, 08:00 BST = 07:00 UTC):

=========  ======================  =============================================
contract   people                  what the digest of 2 June has to say about it
=========  ======================  =============================================
OSC-1      oscar owns, steve       review due 12 May (overdue), custom decision
           sponsors, wendy watches due 14 Jul (in 6 weeks); ends 31 Dec 2026
OLV-GAP    olivia owns, steve      2025/26 costs £298,403.22 with no funding: a gap,
           sponsors                and its funding confirmation was due 31 Jan
                                   (overdue); ends 31 Mar 2027
OLV-SOON   olivia owns, steve      review due 23 Jun (in 3 weeks); ends 31 Mar 2028
           sponsors
OLV-LATER  olivia owns             extension notice due 3 Nov (in 5 months, outside
                                   the 8 weeks); ends 30 Apr 2026 (within 12 months)
=========  ======================  =============================================

The contracts are listed by end date (OSC-1 first) so that the urgency order of a
digest that spans contracts (steve's) is not merely the order of the contracts.
"""

from __future__ import annotations

import html
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from support.people import DOMAIN, OLIVIA, OSCAR, QUINN, STEVE, WALTER, WENDY
from support.smtp import Received

LONDON = ZoneInfo("Europe/London")
EVERYONE = {OLIVIA, STEVE, OSCAR, WENDY}

IMPORTED = "2025-05-20 10:00"
MONDAY = "2025-06-02 08:00"  # BST

CONTRACTS = f"""\
contracts:
  - ref: OSC-1
    title: Restorative justice service
    provider: RJ Partners
    start: 2024-04-01
    end: 2026-12-31
    owner: {OSCAR}
    sponsor: {STEVE}
    watchers: [{WENDY}]
    milestones:
      - {{kind: review, due: 2025-05-12, title: Six-month review}}
      - {{kind: custom, due: 2025-07-14, title: Agree the data-sharing protocol}}
  - ref: OLV-GAP
    title: Perpetrator programme (north)
    provider: North Provider Ltd
    start: 2024-04-01
    end: 2027-03-31
    owner: {OLIVIA}
    sponsor: {STEVE}
    costs:
      - {{year: 2025/26, category: Payroll, amount: 298403.22}}
  - ref: OLV-SOON
    title: Victim support hub
    provider: Hub CIC
    start: 2024-04-01
    end: 2028-03-31
    owner: {OLIVIA}
    sponsor: {STEVE}
    milestones:
      - {{kind: review, due: 2025-06-23, title: Annual performance review}}
  - ref: OLV-LATER
    title: Youth diversion scheme
    provider: Youth Trust
    start: 2023-05-01
    end: 2026-04-30
    owner: {OLIVIA}
    extensions: [{{until: 2027-04-30, notice_by: 2025-11-03}}]
"""

#: Nothing to report on 2 June: ends in 5 years, no decision within 8 weeks, no costs
#: (so no gap), imported 13 days before.
QUIET = """\
contracts:
  - ref: QUIET-1
    title: Helpline
    provider: Helpline Ltd
    start: 2025-04-01
    end: 2030-03-31
    owner: quinn@opcc.example.org
    watchers: [walter@opcc.example.org]
"""


# ----------------------------------------------------------------------------- helpers


def _import(env: Any, tracker_cli: Any, text: str = CONTRACTS, now: str = IMPORTED) -> None:
    path = env.tmp / "contracts.yaml"
    path.write_text(text)
    result = tracker_cli("import", str(path), now=now)
    assert result.code == 0, result


def _run(tracker_cli: Any, smtp: Any, now: str, *args: str) -> list[Received]:
    """``tracker --now NOW [args] digest ...``: the messages that arrived during it."""
    seen = len(smtp.messages)
    result = tracker_cli(*args, now=now)
    assert result.code == 0, (now, args, result)
    assert "Traceback" not in result.err, result
    return smtp.messages[seen:]


def _digest(
    tracker_cli: Any, smtp: Any, now: str, *args: str, config: Path | None = None
) -> dict[str, Received]:
    """``tracker [--config FILE] --now NOW digest ARGS``; person -> the one digest they got
    (never two)."""
    options = ("--config", str(config)) if config else ()
    arrived = _run(tracker_cli, smtp, now, *options, "digest", *args)
    people = [m.rcpt_tos for m in arrived]
    assert all(len(r) == 1 for r in people), people
    counts = Counter(r[0] for r in people)
    assert [p for p, n in counts.items() if n > 1] == [], f"two digests for one person at {now}"
    return {m.rcpt_tos[0]: m for m in arrived}


def _text(m: Received) -> str:
    part = m.message.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content()).replace("\r\n", "\n")


def _html(m: Received) -> str:
    part = m.message.get_body(preferencelist=("html",))
    assert isinstance(part, EmailMessage)
    return html.unescape(str(part.get_content()))


def _refs(text: str) -> set[str]:
    return {ref for ref in ("OSC-1", "OLV-GAP", "OLV-SOON", "OLV-LATER") if ref in text}


def _sent_at(m: Received) -> datetime:
    return parsedate_to_datetime(str(m.message["Date"]))


def _section(text: str, heading: str) -> str:
    """The lines of one digest section (from its heading to the next blank-line heading)."""
    start = text.index(heading + "\n")
    rest = text[start + len(heading) + 1 :]
    ends = [rest.find(f"\n\n{h}\n") for h in _HEADINGS if h != heading]
    ends = [e for e in ends if e >= 0] + [rest.find("\n--\n")]
    return rest[: min(e for e in ends if e >= 0)]


_HEADINGS = (
    "Overdue decisions",
    "Decisions due in the next 8 weeks",
    "Staffing risk",
    "Funding gaps by financial year",
    "Contracts ending within 12 months",
    "What changed in the last 7 days",
    "Failed deliveries since the last digest",
)


def _items(section: str) -> list[str]:
    """``REF: Kind`` of each decision of a section, in order."""
    return [line[2:] for line in section.splitlines() if line.startswith("* ")]


# ------------------------------------------------------------------------------- tests


def test_each_person_gets_one_digest_with_exactly_their_contracts(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _import(env, tracker_cli)

    got = _digest(tracker_cli, smtp, MONDAY)

    assert set(got) == EVERYONE
    for person, m in got.items():
        assert m.rcpt_tos == (person,)
        assert str(m.message["To"]) == person
        # Monday 2 June 08:00 London (BST, so 07:00 UTC).
        assert _sent_at(m) == datetime(2025, 6, 2, 8, 0, tzinfo=LONDON)
        assert "week of 2 Jun 2025" in m.subject, m.subject
        assert "X-Tracker-Ref" not in m.message
    texts = {person: _text(m) for person, m in got.items()}
    assert _refs(texts[OLIVIA]) == {"OLV-GAP", "OLV-SOON", "OLV-LATER"}
    assert _refs(texts[STEVE]) == {"OSC-1", "OLV-GAP", "OLV-SOON"}
    assert _refs(texts[OSCAR]) == {"OSC-1"}
    assert _refs(texts[WENDY]) == {"OSC-1"}
    for person, text in texts.items():
        assert _refs(_html(got[person])) == _refs(text), person

    # Olivia: the overdue decision, then the one in 3 weeks; the one in 5 months is not a
    # decision of these 8 weeks, but its contract ends within 12 months.
    olivia = texts[OLIVIA]
    assert _items(_section(olivia, "Overdue decisions")) == ["OLV-GAP: Funding confirmation"]
    assert _items(_section(olivia, "Decisions due in the next 8 weeks")) == ["OLV-SOON: Review"]
    assert "Extension notice" not in olivia and "3 Nov 2025" not in olivia
    ending = _section(olivia, "Contracts ending within 12 months")
    assert _items(ending) == ["OLV-LATER ends 30 Apr 2026 (in 332 days)"]
    assert olivia.index("Overdue decisions") < olivia.index("Decisions due in the next 8 weeks")
    assert "1 overdue, 1 due in the next 8 weeks" in got[OLIVIA].subject

    # Steve: both owners' decisions, overdue first, then by due date, across contracts.
    steve = texts[STEVE]
    assert _items(_section(steve, "Overdue decisions")) == [
        "OLV-GAP: Funding confirmation",  # due 31 Jan 2025
        "OSC-1: Review",  # due 12 May 2025
    ]
    assert _items(_section(steve, "Decisions due in the next 8 weeks")) == [
        "OLV-SOON: Review",  # 23 Jun
        "OSC-1: Custom",  # 14 Jul
    ]
    assert "Was due:   31 Jan 2025 (122 days overdue)" in steve
    assert "Was due:   12 May 2025 (21 days overdue)" in steve
    assert "Due:       23 Jun 2025 (in 21 days)" in steve
    assert "Due:       14 Jul 2025 (in 42 days)" in steve
    # Each decision with the command that closes it, in its own item.
    blocks = {b.split("\n", 1)[0]: b for b in steve.split("\n* ")[1:]}
    commands = {
        "OLV-GAP: Funding confirmation": "tracker milestone done OLV-GAP funding_confirmation",
        "OSC-1: Review": "tracker milestone done OSC-1 review",
        "OLV-SOON: Review": "tracker milestone done OLV-SOON review",
        "OSC-1: Custom": "tracker milestone done OSC-1 custom",
    }
    for item, command in commands.items():
        assert f"To close it once decided:\n      {command}\n" in blocks[item], blocks[item]
        assert command in _html(got[STEVE]), command
    # The gap, in pounds and pence.
    for person in (OLIVIA, STEVE):
        funding = _section(texts[person], "Funding gaps by financial year")
        assert "OLV-GAP" in funding
        row = next(line for line in funding.splitlines() if line.strip().startswith("2025/26"))
        assert row.split() == ["2025/26", "£298,403.22", "£0.00", "£0.00", "£298,403.22"]
        assert "£298,403.22" in _html(got[person])
    assert "Funding gaps" not in texts[OSCAR] and "Funding gaps" not in texts[WENDY]

    # Oscar and wendy: OSC-1 only, in the same order.
    for person in (OSCAR, WENDY):
        text = texts[person]
        assert _items(_section(text, "Overdue decisions")) == ["OSC-1: Review"]
        assert _items(_section(text, "Decisions due in the next 8 weeks")) == ["OSC-1: Custom"]
        assert f"tracker recipient set {person} --digest" in text

    # Different people, different Message-IDs.
    assert len({m.message_id for m in got.values()}) == 4


def test_the_same_week_twice_sends_once(env: Any, smtp: Any, tracker_cli: Any) -> None:
    _import(env, tracker_cli)
    first = _digest(tracker_cli, smtp, "2025-06-02 09:00")
    assert set(first) == EVERYONE
    assert _digest(tracker_cli, smtp, "2025-06-02 09:00") == {}
    assert _digest(tracker_cli, smtp, "2025-06-02 17:30") == {}
    assert _digest(tracker_cli, smtp, "2025-06-04 10:00") == {}  # Wednesday
    assert _digest(tracker_cli, smtp, "2025-06-08 23:59") == {}  # Sunday night
    ids = smtp.message_ids()
    assert len(ids) == len(set(ids)) == 4
    # The next Monday is a new week: one more each, with new Message-IDs.
    second = _digest(tracker_cli, smtp, "2025-06-09 08:00")
    assert set(second) == EVERYONE
    ids = smtp.message_ids()
    assert len(ids) == len(set(ids)) == 8
    for person in EVERYONE:
        assert first[person].message_id != second[person].message_id


def test_missed_mondays_are_caught_up_once(env: Any, smtp: Any, tracker_cli: Any) -> None:
    _import(env, tracker_cli)
    assert set(_digest(tracker_cli, smtp, MONDAY)) == EVERYONE
    # Nothing ran on Mondays 9, 16 and 23 June. Thursday 26 June: one each, this week's.
    late = _digest(tracker_cli, smtp, "2025-06-26 11:00")
    assert set(late) == EVERYONE
    for m in late.values():
        assert "week of 23 Jun 2025" in m.subject, m.subject
        assert ".2025-W26." in m.message_id, m.message_id
        assert "week of 23 Jun 2025" in _text(m)
    # Thursday's digest is about Thursday: OLV-SOON's review (23 Jun) is overdue now.
    assert "Was due:   23 Jun 2025 (3 days overdue)" in _text(late[OLIVIA])
    assert _digest(tracker_cli, smtp, "2025-06-26 11:05") == {}
    assert _digest(tracker_cli, smtp, "2025-06-29 20:00") == {}
    assert len(smtp.messages) == 8


def test_first_run_after_weeks_of_nothing_sends_one_each(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    """No digest ever ran; three Mondays pass; Thursday's run sends one each, not three."""
    _import(env, tracker_cli)
    got = _digest(tracker_cli, smtp, "2025-06-19 10:00")
    assert set(got) == EVERYONE
    assert all(".2025-W25." in m.message_id for m in got.values())
    assert len(smtp.messages) == 4


def test_not_before_monday_0800_london_in_summer_time(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _import(env, tracker_cli)
    assert set(_digest(tracker_cli, smtp, MONDAY)) == EVERYONE
    # Monday 9 June: 07:59 BST is 06:59 UTC, 07:00 UTC is already 08:00 BST.
    assert _digest(tracker_cli, smtp, "2025-06-09 07:59") == {}
    assert _digest(tracker_cli, smtp, "2025-06-09T06:59Z") == {}
    assert _digest(tracker_cli, smtp, "2025-06-09 07:59:59") == {}
    got = _digest(tracker_cli, smtp, "2025-06-09T07:00Z")
    assert set(got) == EVERYONE
    for m in got.values():
        assert _sent_at(m) == datetime(2025, 6, 9, 8, 0, tzinfo=LONDON)
        assert "week of 9 Jun 2025" in m.subject
    # In winter (GMT, after Sunday 26 October) 08:00 London is 08:00 UTC.
    assert set(_digest(tracker_cli, smtp, "2025-10-20 08:00")) == EVERYONE
    assert _digest(tracker_cli, smtp, "2025-10-27T07:59Z") == {}
    assert _digest(tracker_cli, smtp, "2025-10-27T07:00Z") == {}
    got = _digest(tracker_cli, smtp, "2025-10-27T08:00Z")
    assert set(got) == EVERYONE
    assert all(_sent_at(m) == datetime(2025, 10, 27, 8, 0, tzinfo=UTC) for m in got.values())


def test_an_empty_digest_is_not_sent_unless_configured(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _import(env, tracker_cli, QUIET)
    seen = len(smtp.messages)
    result = tracker_cli("digest", now=MONDAY)  # 13 days after the import
    assert result.code == 0, result
    assert smtp.messages[seen:] == []
    assert "0 digests sent, 2 empty" in result.out, result.out
    # Nor later the same week.
    assert _digest(tracker_cli, smtp, "2025-06-04 10:00") == {}

    config = env.tmp / "send-empty.toml"
    config.write_text("[policy.digest]\nsend_empty = true\n")
    got = _digest(tracker_cli, smtp, "2025-06-09 08:00", config=config)
    assert set(got) == {QUINN, WALTER}
    for m in got.values():
        text = _text(m)
        assert "Nothing on your contracts is overdue, due, at risk, ending or changed." in text
        assert "QUIET-1" not in text
        assert "nothing due" in m.subject, m.subject
    # Configured, it is still once per week.
    assert _digest(tracker_cli, smtp, "2025-06-09 09:00", config=config) == {}


def test_opt_out_and_daily(env: Any, smtp: Any, tracker_cli: Any) -> None:
    _import(env, tracker_cli)
    result = tracker_cli("recipient", "set", WENDY, "--digest", "off", now="2025-05-21 10:00")
    assert result.code == 0, result
    assert set(_digest(tracker_cli, smtp, MONDAY)) == {OLIVIA, STEVE, OSCAR}
    assert _digest(tracker_cli, smtp, "2025-06-02 10:00") == {}

    result = tracker_cli("recipient", "set", WENDY, "--digest", "daily", now="2025-06-02 12:00")
    assert result.code == 0, result
    # Daily from today's 08:00: today's is due at once, then one each day at 08:00.
    daily: list[Received] = []
    got = _digest(tracker_cli, smtp, "2025-06-02 12:00")
    assert set(got) == {WENDY}
    daily.append(got[WENDY])
    for day in ("2025-06-03", "2025-06-04", "2025-06-05"):
        assert _digest(tracker_cli, smtp, f"{day} 07:59") == {}, day
        got = _digest(tracker_cli, smtp, f"{day} 08:00")
        assert set(got) == {WENDY}, day
        daily.append(got[WENDY])
    assert _digest(tracker_cli, smtp, "2025-06-05 18:00") == {}
    assert [_sent_at(m) for m in daily] == [
        datetime(2025, 6, 2, 12, 0, tzinfo=LONDON),
        datetime(2025, 6, 3, 8, 0, tzinfo=LONDON),
        datetime(2025, 6, 4, 8, 0, tzinfo=LONDON),
        datetime(2025, 6, 5, 8, 0, tzinfo=LONDON),
    ]
    assert len({m.message_id for m in daily}) == 4
    for m in daily:
        assert _refs(_text(m)) == {"OSC-1"}
        assert "Your daily contract digest" in _text(m)
    # Off again: nothing more for wendy; the weekly people get next Monday's.
    result = tracker_cli("recipient", "set", WENDY, "--digest", "off", now="2025-06-05 12:00")
    assert result.code == 0, result
    assert _digest(tracker_cli, smtp, "2025-06-06 08:00") == {}
    assert set(_digest(tracker_cli, smtp, "2025-06-09 08:00")) == {OLIVIA, STEVE, OSCAR}


def test_snoozed_decisions_are_listed_marked_with_their_note(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _import(env, tracker_cli)
    note = "waiting for the Commissioner's decision at the 12 Jun board"
    result = tracker_cli(
        "milestone", "snooze", "OLV-SOON", "review", "--until", "2025-06-16", "--note", note,
        now="2025-05-28 10:00",
    )  # fmt: skip
    assert result.code == 0, result

    got = _digest(tracker_cli, smtp, MONDAY)
    for person in (OLIVIA, STEVE):
        text = _text(got[person])
        upcoming = _section(text, "Decisions due in the next 8 weeks")
        block = upcoming[upcoming.index("* OLV-SOON: Review") :].split("\n* ")[0]
        flat = " ".join(block.split())
        assert f"SNOOZED until 16 Jun 2025: {note}" in flat, block
        assert "tracker milestone done OLV-SOON review" in block
        page = " ".join(_html(got[person]).split())
        assert "SNOOZED until 16 Jun 2025" in page and note in page
    # Only that one is marked.
    assert _text(got[STEVE]).count("SNOOZED") == 1
    assert "SNOOZED" not in _text(got[OSCAR])
    # Once the snooze is over, it is listed without the mark.
    later = _digest(tracker_cli, smtp, "2025-06-16 08:00")
    assert "OLV-SOON: Review" in _text(later[OLIVIA])
    assert "SNOOZED" not in _text(later[OLIVIA])


def test_failed_deliveries_since_the_last_digest_are_listed(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _import(env, tracker_cli)
    first = _digest(tracker_cli, smtp, MONDAY)
    assert "Failed deliveries" not in _text(first[OLIVIA])

    # Monday 9 June 09:00: OLV-SOON's review (23 Jun) is 14 days away; olivia's mailbox
    # refuses everything.
    reply = "550 5.1.1 olivia: no such user here"
    smtp.fail_rcpt(reply, times=None, recipient=OLIVIA)
    swept = _run(tracker_cli, smtp, "2025-06-09 09:00", "send")
    smtp.clear_faults()
    refused = [r for r in smtp.refused if r[1] == OLIVIA]
    assert refused, "no reminder to olivia was attempted"
    assert all(m.rcpt_tos != (OLIVIA,) for m in swept)
    history = tracker_cli("reminders", "--sent", "--json", now="2025-06-09 10:00")
    assert history.code == 0, history

    got = _digest(tracker_cli, smtp, "2025-06-16 08:00")
    for person in (OLIVIA, STEVE):
        text = _text(got[person])
        failures = _section(text, "Failed deliveries since the last digest")
        # The overdue gap's nag and the review's 14-day reminder, both refused.
        assert sorted(_items(failures)) == [
            "9 Jun 2025 09:00  OLV-GAP funding_confirmation",
            "9 Jun 2025 09:00  OLV-SOON review",
        ], failures
        assert failures.count(f"To:        {OLIVIA}") == 2, failures
        assert failures.count(f"Reply:     {reply}") == 2, failures
        assert reply in _html(got[person])
    # The failures are about olivia's contracts; oscar's and wendy's digests do not carry them.
    assert "Failed deliveries" not in _text(got[OSCAR])
    assert "Failed deliveries" not in _text(got[WENDY])
    # Listed once: the digest after that only has failures since.
    after = _digest(tracker_cli, smtp, "2025-06-23 08:00")
    assert "Failed deliveries" not in _text(after[OLIVIA])


def _seed_people(seeds: list[Path]) -> set[str]:
    people: set[str] = set()
    for seed in seeds:
        for contract in yaml.safe_load(seed.read_text())["contracts"]:
            people.update(p for p in (contract.get("owner"), contract.get("sponsor")) if p)
            people.update(contract.get("watchers") or [])
    return people


def _dump(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


def test_preview_writes_html_and_text_per_person_and_sends_nothing(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    found = sorted((Path(__file__).resolve().parents[2] / "config" / "seeds").glob("*.yaml"))
    assert len(found) == 3  # two real records and the illustrative Procurement Act contract
    seeds = [seed for seed in found if not seed.name.startswith("illustrative")]
    assert len(seeds) == 2
    for seed in seeds:
        result = tracker_cli("import", str(seed), now="2024-09-02")
        assert result.code == 0, result
    people = _seed_people(seeds)
    assert len(people) == 6
    before = _dump(env.db_path)

    out = env.tmp / "digests"
    result = tracker_cli("digest", "--preview", str(out), now="2024-09-02")
    assert result.code == 0, result
    assert "Traceback" not in result.err

    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(f"{p}{s}" for p in people for s in (".html", ".txt"))
    assert "6 digests previewed" in result.out
    for person in people:
        assert (out / f"{person}.txt").read_text().startswith("Subject: ")
        assert "<html" in (out / f"{person}.html").read_text().lower()
    lancs_owner = (out / "policy.partnerships@lancashire-opcc.example.org.txt").read_text()
    assert "£298,403.22" in lancs_owner
    assert "tracker milestone done LANCS-DRIVE extension_notice" in lancs_owner
    assert smtp.messages == [] and smtp.connections == 0
    assert _dump(env.db_path) == before
    # A preview is no send: the real run later still sends each person their digest.
    got = _digest(tracker_cli, smtp, "2024-09-02")
    assert set(got) == people


def test_to_limits_the_run_to_one_person(env: Any, smtp: Any, tracker_cli: Any) -> None:
    _import(env, tracker_cli)
    got = _digest(tracker_cli, smtp, MONDAY, "--to", OLIVIA)
    assert set(got) == {OLIVIA}
    assert _digest(tracker_cli, smtp, "2025-06-02 08:01", "--to", OLIVIA) == {}
    # The others are still due theirs; olivia is not sent hers again.
    assert set(_digest(tracker_cli, smtp, "2025-06-02 08:02")) == {STEVE, OSCAR, WENDY}
    assert len(smtp.messages) == 4


# ------------------------------------------- one person, however their address is written
#
# The tracker treats addresses that differ only in case as one person elsewhere: a
# contract's watchers are de-duplicated ignoring case, and Message-IDs hash the
# lower-cased address. The digest does not.


def test_one_digest_per_person_whatever_the_case_of_the_address(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _import(env, tracker_cli, CONTRACTS.replace(f"owner: {OLIVIA}", "owner: Olivia@" + DOMAIN, 1))
    arrived = _run(tracker_cli, smtp, MONDAY, "digest")
    ids = [m.message_id for m in arrived]
    assert len(ids) == len(set(ids)), ids
    olivia = [m for m in arrived if m.rcpt_tos[0].casefold() == OLIVIA]
    assert len(olivia) == 1, [m.rcpt_tos for m in olivia]
    assert _refs(_text(olivia[0])) == {"OLV-GAP", "OLV-SOON", "OLV-LATER"}


def test_opt_out_whatever_the_case_of_the_address(env: Any, smtp: Any, tracker_cli: Any) -> None:
    _import(env, tracker_cli)
    result = tracker_cli(
        "recipient", "set", "WENDY@opcc.example.org", "--digest", "off", now="2025-05-21 10:00"
    )
    assert result.code == 0, result
    assert "no digest" in result.out
    assert set(_digest(tracker_cli, smtp, MONDAY)) == {OLIVIA, STEVE, OSCAR}
