"""A contract's whole life, one `tracker send` per day at 09:00 London, against a real
SMTP server: every reminder arrives on its day, at 09:00, exactly once, to the right
people; nothing before 09:00; nags after the due date; nothing after "done"; and a
contract's own policy changes what is sent.

The contract (OPCC/2024/07, olivia the owner, steve the sponsor) has an extension
option whose notice is due Friday 2 January 2026. With the default policy for
extension notices (leads 120, 90, 60, 30, 14, 7, 1; sponsor from 30; nags every 7 days):

======  ==========  ==========================================================
lead    lead day    sent (09:00 London)
======  ==========  ==========================================================
120     Thu 4 Sep   Thu 4 Sep 2025, BST: 08:00 UTC
90      Sat 4 Oct   Fri 3 Oct (weekend: the working day before)
60      Mon 3 Nov   Mon 3 Nov, GMT: 09:00 UTC
30      Wed 3 Dec   Wed 3 Dec, the sponsor copied from here on
14      Fri 19 Dec  Fri 19 Dec
7       Fri 26 Dec  Wed 24 Dec (Boxing Day and Christmas Day are bank holidays)
1       Thu 1 Jan   Wed 31 Dec (New Year's Day is a bank holiday)
nag 7   Fri 9 Jan   Fri 9 Jan 2026, owner and sponsor
nag 14  Fri 16 Jan  Fri 16 Jan; marked done on Mon 19 Jan: no nag on Fri 23 Jan
======  ==========  ==========================================================
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

from support.people import OLIVIA, STEVE
from support.smtp import Received, reminder_key

LONDON = ZoneInfo("Europe/London")
REF = "OPCC/2024/07"
TWIN = "OPCC/2024/08"

CONTRACT = """\
  - ref: {ref}
    title: Domestic abuse perpetrator programme
    provider: Safer Futures CIC
    commissioner: Example OPCC
    start: 2024-04-01
    end: 2026-03-31
    value: 400000
    owner: olivia@opcc.example.org
    sponsor: steve@opcc.example.org
    extensions: [{{until: 2027-03-31, notice_by: 2026-01-02}}]
    funding:
      - {{source: Home Office grant, year: 2025/26, amount: 200000, status: confirmed}}
    costs:
      - {{year: 2026/27, category: Payroll, amount: 210000}}
"""


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _nine(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=LONDON)


def _import(env: Any, tracker_cli: Any, *refs: str) -> None:
    path = env.tmp / "contracts.yaml"
    path.write_text("contracts:\n" + "".join(CONTRACT.format(ref=ref) for ref in refs))
    result = tracker_cli("import", str(path), now="2025-08-01 10:00")
    assert result.code == 0, result


def _milestone_ids(tracker_cli: Any, ref: str) -> dict[str, int]:
    result = tracker_cli("show", ref, "--json", now="2025-08-01 10:00")
    assert result.code == 0, result
    return {m["kind"]: m["id"] for m in json.loads(result.out)["summary"]["milestones"]}


def _sweep_daily(
    tracker_cli: Any, smtp: Any, days: list[date], before: dict[date, Any] | None = None
) -> dict[date, list[Received]]:
    """`send --now "<day> 09:00"` for each day; what arrived during each day's sweep.
    ``before[day]`` runs first that day (e.g. a `milestone done`)."""
    arrivals: dict[date, list[Received]] = {}
    for day in days:
        if before and day in before:
            before[day]()
        seen = len(smtp.messages)
        result = tracker_cli("send", now=f"{day.isoformat()} 09:00")
        assert result.code == 0, (day, result)
        assert "Traceback" not in result.err
        arrivals[day] = smtp.messages[seen:]
    return arrivals


def _about(
    arrivals: dict[date, list[Received]], milestone: int
) -> dict[date, list[tuple[int, str]]]:
    """day -> sorted (lead, recipient) of the messages about one milestone."""
    found: dict[date, list[tuple[int, str]]] = {}
    for day, messages in arrivals.items():
        mine = sorted(
            (reminder_key(m.message_id)[2], m.rcpt_tos[0])
            for m in messages
            if reminder_key(m.message_id)[0] == milestone
        )
        if mine:
            found[day] = mine
    return found


def test_whole_life_of_an_extension_notice(env: Any, smtp: Any, tracker_cli: Any) -> None:
    _import(env, tracker_cli, REF)
    ids = _milestone_ids(tracker_cli, REF)
    notice = ids["extension_notice"]
    planned = tracker_cli("reminders", "--json", now="2025-08-01 10:00")
    assert planned.code == 0, planned
    planned_rows = json.loads(planned.out)

    # A sweep a minute before 09:00 on each day a notice reminder is due sends nothing.
    early_days = [date(2025, 9, 4), date(2025, 10, 3), date(2025, 11, 3), date(2025, 12, 24)]

    def done() -> None:
        result = tracker_cli(
            "milestone", "done", REF, "extension_notice", "--note", "Decision 3/2026",
            now="2026-01-19 08:30",
        )  # fmt: skip
        assert result.code == 0, result

    def early(day: date) -> Any:
        def run() -> None:
            seen = len(smtp.messages)
            result = tracker_cli("send", now=f"{day.isoformat()} 08:59")
            assert result.code == 0, result
            assert smtp.messages[seen:] == [], f"sent before 09:00 on {day}"

        return run

    before: dict[date, Any] = {day: early(day) for day in early_days}
    before[date(2026, 1, 19)] = done
    arrivals = _sweep_daily(tracker_cli, smtp, _days(date(2025, 9, 3), date(2026, 1, 24)), before)

    expected = {
        date(2025, 9, 4): [(120, OLIVIA)],
        date(2025, 10, 3): [(90, OLIVIA)],
        date(2025, 11, 3): [(60, OLIVIA)],
        date(2025, 12, 3): [(30, OLIVIA), (30, STEVE)],
        date(2025, 12, 19): [(14, OLIVIA), (14, STEVE)],
        date(2025, 12, 24): [(7, OLIVIA), (7, STEVE)],
        date(2025, 12, 31): [(1, OLIVIA), (1, STEVE)],
        date(2026, 1, 9): [(-7, OLIVIA), (-7, STEVE)],
        date(2026, 1, 16): [(-14, OLIVIA), (-14, STEVE)],
    }
    assert _about(arrivals, notice) == expected

    everything = [m for day in arrivals.values() for m in day]
    # Exactly once: no Message-ID twice, and the audit trail has each send once.
    assert [i for i, n in Counter(m.message_id for m in everything).items() if n > 1] == []
    history = tracker_cli("reminders", "--sent", "--json", now="2026-02-01 10:00")
    assert history.code == 0, history
    sent = json.loads(history.out)
    assert sorted(h["message_id"] for h in sent) == sorted(m.message_id for m in everything)

    for day, messages in arrivals.items():
        for m in messages:
            # At 09:00 London on its day (the Date header is the sweep's time) ...
            assert parsedate_to_datetime(m.message["Date"]) == _nine(day), m.message_id
            # ... to the one person it is for, about the contract.
            assert m.rcpt_tos == (str(m.message["To"]),)
            assert m.subject.startswith(f"{REF}: "), m.subject
    by_id = {m.message_id: (day, m) for day, ms in arrivals.items() for m in ms}
    # 09:00 BST is 08:00 UTC; 09:00 GMT is 09:00 UTC.
    summer = next(m for m in arrivals[date(2025, 9, 4)] if reminder_key(m.message_id)[0] == notice)
    winter = next(m for m in arrivals[date(2025, 11, 3)] if reminder_key(m.message_id)[0] == notice)
    assert parsedate_to_datetime(summer.message["Date"]) == datetime(2025, 9, 4, 8, 0, tzinfo=UTC)
    assert parsedate_to_datetime(winter.message["Date"]) == datetime(2025, 11, 3, 9, 0, tzinfo=UTC)

    # Every reminder planned at import for the period arrived exactly on its planned day
    # (the notice's planned leads all fell before it was done).
    for row in planned_rows:
        when = datetime.fromisoformat(row["send_at"].replace("Z", "+00:00")).astimezone(LONDON)
        if when.date() > date(2026, 1, 24):
            continue
        assert row["message_id"] in by_id, row
        assert by_id[row["message_id"]][0] == when.date(), row
        assert (when.hour, when.minute) == (9, 0), row

    # The contract's end (sponsor copied from the first lead, 180 days) on Thu 2 Oct;
    # a fact, never a nag.
    end = ids["contract_end"]
    assert _about(arrivals, end) == {
        date(2025, 10, 2): [(180, OLIVIA), (180, STEVE)],
        date(2025, 12, 31): [(90, OLIVIA), (90, STEVE)],
    }
    # The sponsor only ever hears about the notice from the escalation lead (30) on.
    sponsor_leads = {
        reminder_key(m.message_id)[2]
        for m in everything
        if m.rcpt_tos == (STEVE,) and reminder_key(m.message_id)[0] == notice
    }
    assert sponsor_leads and all(lead <= 30 for lead in sponsor_leads)


def test_contract_policy_override_changes_what_is_sent(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    """`policy set REF extension_notice --leads 10,5 --nag-days 0` on one of two identical
    contracts: it gets the 10- and 5-day reminders and no nags; its twin keeps the default."""
    _import(env, tracker_cli, REF, TWIN)
    mine = _milestone_ids(tracker_cli, REF)["extension_notice"]
    twin = _milestone_ids(tracker_cli, TWIN)["extension_notice"]
    result = tracker_cli(
        "policy", "set", REF, "extension_notice", "--leads", "10,5", "--nag-days", "0",
        now="2025-12-15 08:00",
    )  # fmt: skip
    assert result.code == 0, result

    arrivals = _sweep_daily(tracker_cli, smtp, _days(date(2025, 12, 15), date(2026, 1, 17)))

    # Lead 10: Tue 23 Dec. Lead 5: Sun 28 Dec -> Wed 24 Dec (27, 26, 25 are not working
    # days). Both within the default escalation lead (30): the sponsor is copied.
    # The default leads already passed (30 on 3 Dec) are not sent late: the new policy
    # replaced them. No nags.
    assert _about(arrivals, mine) == {
        date(2025, 12, 23): [(10, OLIVIA), (10, STEVE)],
        date(2025, 12, 24): [(5, OLIVIA), (5, STEVE)],
    }
    # The twin keeps the default: the leads missed before the period (120 to 30: no
    # sweep ran) collapse into one message each on the first sweep, then 14, 7, 1 and
    # the weekly nags.
    assert _about(arrivals, twin) == {
        date(2025, 12, 15): [(30, OLIVIA), (30, STEVE)],
        date(2025, 12, 19): [(14, OLIVIA), (14, STEVE)],
        date(2025, 12, 24): [(7, OLIVIA), (7, STEVE)],
        date(2025, 12, 31): [(1, OLIVIA), (1, STEVE)],
        date(2026, 1, 9): [(-7, OLIVIA), (-7, STEVE)],
        date(2026, 1, 16): [(-14, OLIVIA), (-14, STEVE)],
    }
