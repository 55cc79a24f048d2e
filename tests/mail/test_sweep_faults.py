"""What stops, moves, delays or breaks reminders, through the real CLI and a real SMTP
server: done / cancel / snooze, a moved due date, 4xx and 5xx replies, a dropped
connection, wrong credentials, and a tracker that was down.

Contracts belong to olivia (owner) with steve (sponsor). Their manual decisions
(review, procurement, custom: leads 90, 60, 30, 14, 7, 1; the sponsor from 14; nags
every 7 days) are due Monday 30 June 2025, so the leads fall on: 90 Tue 1 Apr, 60 Thu
1 May, 30 Sat 31 May -> Fri 30 May, 14 Mon 16 Jun, 7 Mon 23 Jun, 1 Sun 29 Jun -> Fri
27 Jun. Their contracts end in 2027: nothing derived is due in 2025.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from typing import Any

from support.people import OLIVIA, STEVE
from support.smtp import reminder_key

REF = "OPCC/2025/01"
KINDS = ("review", "procurement", "custom")
SWEEP_OK = "Sweep done: {sent} sent, {retry} to retry, {failed} failed."


def _contract(ref: str, *, kinds: tuple[str, ...] = KINDS, extra: str = "") -> str:
    milestones = "".join(
        f"      - {{kind: {kind}, due: 2025-06-30, title: {kind} decision}}\n" for kind in kinds
    )
    return (
        f"  - ref: {ref}\n"
        "    title: Independent domestic violence advisers\n"
        "    provider: Safer Futures CIC\n"
        "    start: 2024-04-01\n"
        "    end: 2027-03-31\n"
        "    value: 250000\n"
        f"    owner: {OLIVIA}\n"
        f"    sponsor: {STEVE}\n"
        f"{extra}"
        "    milestones:\n"
        f"{milestones}"
    )


def _import(env: Any, tracker_cli: Any, *contracts: str, now: str = "2025-03-01 10:00") -> None:
    path = env.tmp / "contracts.yaml"
    path.write_text("contracts:\n" + "".join(contracts))
    result = tracker_cli("import", str(path), now=now)
    assert result.code == 0, result


def _ids(tracker_cli: Any, ref: str = REF) -> dict[str, int]:
    result = tracker_cli("show", ref, "--json", now="2025-03-01 10:00")
    assert result.code == 0, result
    return {m["kind"]: m["id"] for m in json.loads(result.out)["summary"]["milestones"]}


def _send(tracker_cli: Any, now: str, *, sent: int, retry: int = 0, failed: int = 0) -> Any:
    result = tracker_cli("send", now=now)
    assert result.code == 0, result
    assert SWEEP_OK.format(sent=sent, retry=retry, failed=failed) in result.out, result
    return result


def _json(tracker_cli: Any, *args: str, now: str) -> Any:
    result = tracker_cli(*args, "--json", now=now)
    assert result.code == 0, result
    return json.loads(result.out)


def _keys(messages: list[Any]) -> list[tuple[int, int, str]]:
    """(milestone id, lead, recipient) of each message, sorted."""
    return sorted(
        (reminder_key(m.message_id)[0], reminder_key(m.message_id)[2], m.rcpt_tos[0])
        for m in messages
    )


def _statuses(env: Any) -> Counter[tuple[int, int, str, str]]:
    with sqlite3.connect(env.db_path) as db:
        rows = db.execute("SELECT milestone_id, lead, recipient, status FROM reminders").fetchall()
    return Counter(tuple(row) for row in rows)


# ---------------------------------------------------------------- done, cancel, snooze


def test_done_cancel_and_snooze_stop_reminders(env: Any, smtp: Any, tracker_cli: Any) -> None:
    _import(env, tracker_cli, _contract(REF))
    ids = _ids(tracker_cli)
    _send(tracker_cli, "2025-04-01 09:00", sent=3)  # lead 90 of each, to olivia
    assert _keys(smtp.messages) == sorted((ids[k], 90, OLIVIA) for k in KINDS)

    for args in (
        ("milestone", "done", REF, "review", "--note", "Review signed off"),
        ("milestone", "cancel", REF, "procurement", "--note", "Not re-procured"),
        ("milestone", "snooze", REF, "custom", "--until", "2025-06-11",
         "--note", "waiting for the Home Office letter"),
    ):  # fmt: skip
        result = tracker_cli(*args, now="2025-04-01 12:00")
        assert result.code == 0, result

    # Done and cancelled: nothing, ever again. Snoozed: nothing before 11 June ...
    for now in ("2025-05-01 09:00", "2025-05-30 09:00", "2025-06-02 09:00", "2025-06-10 23:59"):
        _send(tracker_cli, now, sent=0)
    assert len(smtp.messages) == 3
    # ... then the leads it held (60 and 30) arrive as ONE message, the more urgent one.
    _send(tracker_cli, "2025-06-11 09:00", sent=1)
    assert _keys(smtp.messages[3:]) == [(ids["custom"], 30, OLIVIA)]
    statuses = _statuses(env)
    assert statuses[(ids["custom"], 60, OLIVIA, "collapsed")] == 1
    _send(tracker_cli, "2025-06-12 09:00", sent=0)
    # The snooze never moved the due date: lead 14 on 16 June, now with the sponsor.
    _send(tracker_cli, "2025-06-16 09:00", sent=2)
    assert _keys(smtp.messages[4:]) == [(ids["custom"], 14, OLIVIA), (ids["custom"], 14, STEVE)]
    # Overdue: only the snoozed-then-resumed decision nags.
    _send(tracker_cli, "2025-07-07 09:00", sent=2)
    assert _keys(smtp.messages[6:]) == [(ids["custom"], -7, OLIVIA), (ids["custom"], -7, STEVE)]
    about_closed = [m for m in smtp.messages[3:] if reminder_key(m.message_id)[0] != ids["custom"]]
    assert about_closed == []


def test_a_snooze_releases_the_held_reminders_at_nine(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _import(env, tracker_cli, _contract(REF, kinds=("custom",)))
    result = tracker_cli(
        "milestone", "snooze", REF, "custom", "--until", "2025-06-11", now="2025-03-02 10:00"
    )
    assert result.code == 0, result
    _send(tracker_cli, "2025-06-10 09:00", sent=0)
    _send(tracker_cli, "2025-06-11 00:01", sent=0)
    _send(tracker_cli, "2025-06-11 08:59", sent=0)
    _send(tracker_cli, "2025-06-11 09:00", sent=1)


def test_moving_a_due_date_replans_and_keeps_what_was_sent(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    """Activating the extension moves contract_end from 31 Mar 2026 to 31 Mar 2027."""
    extension = "    extensions: [{until: 2027-03-31, notice_by: 2026-01-02}]\n"
    contract = _contract(REF, kinds=(), extra=extension).replace(
        "    end: 2027-03-31", "    end: 2026-03-31"
    )
    contract = contract.replace("    milestones:\n", "")
    _import(env, tracker_cli, contract, now="2025-09-01 10:00")
    ids = _ids(tracker_cli)
    end, notice = ids["contract_end"], ids["extension_notice"]

    # Lead 180 of the old end: Thu 2 Oct 2025, owner and sponsor (escalation from 180).
    # (The extension notice's own 120-day reminder goes too: it is not about the end.)
    assert tracker_cli("send", now="2025-10-02 09:00").code == 0
    about_end = [m for m in smtp.messages if reminder_key(m.message_id)[0] == end]
    assert _keys(about_end) == [(end, 180, OLIVIA), (end, 180, STEVE)]
    assert {reminder_key(m.message_id)[1] for m in about_end} == {"20260331"}

    result = tracker_cli("extend", REF, now="2025-10-02 12:00")
    assert result.code == 0, result

    # What was sent about the old date stays in the history ...
    sent = _json(tracker_cli, "reminders", "--sent", now="2025-10-02 12:00")
    old = [h for h in sent if h["kind"] == "contract_end"]
    assert sorted(h["message_id"] for h in old) == sorted(m.message_id for m in about_end)
    assert {h["milestone_due"] for h in old} == {"2026-03-31"}
    # ... and the contract's end is re-planned on the new date: 180, 90, 30 days before
    # 31 Mar 2027 (Fri 2 Oct 2026; Thu 31 Dec 2026; Mon 1 Mar 2027), nothing on the old.
    planned = [
        r
        for r in _json(tracker_cli, "reminders", now="2025-10-02 12:00")
        if r["kind"] == "contract_end"
    ]
    assert {r["milestone_due"] for r in planned} == {"2027-03-31"}
    assert sorted({(r["lead"], r["send_at"]) for r in planned}) == [
        (30, "2027-03-01T09:00:00Z"),
        (90, "2026-12-31T09:00:00Z"),
        (180, "2026-10-02T08:00:00Z"),
    ]
    # The old 90-day lead (31 Dec 2025) is not sent; the new 180-day one is, on its day.
    # Activating the option was the notice's decision: it neither reminds nor nags on.
    seen = len(smtp.messages)
    for now in ("2025-12-31 09:00", "2026-01-09 09:00", "2026-10-01 09:00", "2026-10-02 09:00"):
        assert tracker_cli("send", now=now).code == 0
    assert [m for m in smtp.messages[seen:] if reminder_key(m.message_id)[0] == notice] == []
    about_end = [m for m in smtp.messages if reminder_key(m.message_id)[0] == end]
    assert [(reminder_key(m.message_id)[1], reminder_key(m.message_id)[2]) for m in about_end] == [
        ("20260331", 180), ("20260331", 180), ("20270331", 180), ("20270331", 180)
    ]  # fmt: skip
    assert str(about_end[-1].message["Date"]).startswith("Fri, 02 Oct 2026 08:00:00")


# ------------------------------------------------------------------------ SMTP faults


def test_451_on_rcpt_is_retried_with_backoff_then_delivered(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _import(env, tracker_cli, _contract(REF))
    smtp.fail_rcpt("451 4.7.1 Greylisted, try again later", recipient=OLIVIA, times=3)
    # Lead 7 (Mon 23 Jun): one message per decision and person, earlier leads collapsed.
    _send(tracker_cli, "2025-06-23 09:00", sent=3, retry=3)
    assert {m.rcpt_tos for m in smtp.messages} == {(STEVE,)}
    assert len(smtp.refused) == 3

    # Not on an immediate re-run (backoff): not even attempted.
    _send(tracker_cli, "2025-06-23 09:00", sent=0)
    assert len(smtp.refused) == 3
    waiting = _json(tracker_cli, "reminders", "--due", now="2025-06-23 09:00")
    assert waiting == []
    # An hour later it goes.
    _send(tracker_cli, "2025-06-23 10:00", sent=3)
    assert Counter(m.rcpt_tos for m in smtp.messages) == {(STEVE,): 3, (OLIVIA,): 3}
    assert len(set(smtp.message_ids())) == 6

    # The history keeps both attempts, with the server's reply.
    history = _json(tracker_cli, "show", REF, now="2025-06-23 11:00")["reminders"]
    to_olivia = [h for h in history if h["recipient"] == OLIVIA]
    assert Counter(h["outcome"] for h in to_olivia) == {"temporary": 3, "sent": 3}
    assert all("451 4.7.1 Greylisted" in h["reply"] for h in to_olivia if h["outcome"] != "sent")
    _send(tracker_cli, "2025-06-23 12:00", sent=0)


def test_550_fails_with_the_reply_and_the_rest_of_the_batch_goes(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _import(env, tracker_cli, _contract(REF))
    reply = "550 5.1.1 <steve@opcc.example.org>: Recipient address rejected: User unknown"
    smtp.fail_rcpt(reply, recipient=STEVE, times=None)
    _send(tracker_cli, "2025-06-23 09:00", sent=3, failed=3)
    assert Counter(m.rcpt_tos for m in smtp.messages) == {(OLIVIA,): 3}

    failed = tracker_cli("reminders", "--failed", now="2025-06-23 10:00")
    assert failed.code == 0, failed
    lines = [line for line in failed.out.splitlines() if STEVE in line]
    assert len(lines) == 3, failed
    assert all("550 5.1.1" in line and "User unknown" in line for line in lines), failed
    rows = _json(tracker_cli, "reminders", "--failed", now="2025-06-23 10:00")
    assert len(rows) == 3
    assert {(r["recipient"], r["status"]) for r in rows} == {(STEVE, "failed")}
    assert all(r["last_reply"] == reply for r in rows), rows

    # Failed is final: never retried.
    _send(tracker_cli, "2025-06-24 09:00", sent=0)
    assert len(smtp.refused) == 3


def test_connection_dropped_before_the_data_reply_is_retried(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _import(env, tracker_cli, _contract(REF))
    smtp.drop_data(times=1)
    # Lead 30 (Fri 30 May): three messages to olivia. The first is read by the server but
    # never answered: it may or may not have arrived, so it is retried; the rest of the
    # batch goes over a new connection.
    _send(tracker_cli, "2025-05-30 09:00", sent=2, retry=1)
    dropped = smtp.dropped
    assert len(dropped) == 1
    assert dropped[0].message_id not in smtp.message_ids()
    _send(tracker_cli, "2025-05-30 09:00", sent=0)  # backoff
    _send(tracker_cli, "2025-05-30 10:00", sent=1)
    ids = smtp.message_ids()
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 3
    assert dropped[0].message_id in ids  # the same message, the same Message-ID
    sent = _json(tracker_cli, "reminders", "--sent", now="2025-05-30 11:00")
    assert sorted(h["message_id"] for h in sent) == sorted(ids)


def test_wrong_credentials_stop_the_sweep_with_one_line_and_keep_the_reminders(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _import(env, tracker_cli, _contract(REF))
    smtp.require_auth("tracker", "correct horse")
    env.set("TRACKER_SMTP_USERNAME", "tracker")
    env.set("TRACKER_SMTP_PASSWORD", "battery staple")

    result = tracker_cli("send", now="2025-05-30 09:00")
    assert result.code == 1, result
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1, result
    assert "TRACKER_SMTP_USERNAME" in result.err and "TRACKER_SMTP_PASSWORD" in result.err
    assert "battery staple" not in result.err + result.out
    assert smtp.messages == []
    assert smtp.logins and all(user == "tracker" and not ok for user, ok in smtp.logins)

    # Nothing failed, nothing sent: the reminders wait for the settings to be fixed.
    assert _json(tracker_cli, "reminders", "--failed", now="2025-05-30 09:10") == []
    assert _json(tracker_cli, "reminders", "--sent", now="2025-05-30 09:10") == []
    due = _json(tracker_cli, "reminders", "--due", now="2025-05-30 09:10")
    assert {(r["kind"], r["lead"], r["recipient"]) for r in due} >= {
        (kind, 30, OLIVIA) for kind in KINDS
    }
    assert {r["status"] for r in due} == {"planned"}

    env.set("TRACKER_SMTP_PASSWORD", "correct horse")
    _send(tracker_cli, "2025-05-30 09:10", sent=3)
    ids = _ids(tracker_cli)
    assert _keys(smtp.messages) == sorted((ids[k], 30, OLIVIA) for k in KINDS)
    assert smtp.logins[-1] == ("tracker", True)


# --------------------------------------------------------------------------- downtime


def test_missed_leads_collapse_into_one_message_and_show_lists_it(
    env: Any, smtp: Any, tracker_cli: Any
) -> None:
    _import(env, tracker_cli, _contract(REF, kinds=("review",)))
    review = _ids(tracker_cli)["review"]
    # Down from 1 March to 5 June: leads 90, 60 and 30 all passed. One message, lead 30.
    _send(tracker_cli, "2025-06-05 09:00", sent=1)
    assert _keys(smtp.messages) == [(review, 30, OLIVIA)]
    statuses = Counter({key: n for key, n in _statuses(env).items() if key[0] == review})
    assert statuses == {
        (review, 90, OLIVIA, "collapsed"): 1,
        (review, 60, OLIVIA, "collapsed"): 1,
        (review, 30, OLIVIA, "sent"): 1,
        (review, 14, OLIVIA, "planned"): 1,
        (review, 14, STEVE, "planned"): 1,
        (review, 7, OLIVIA, "planned"): 1,
        (review, 7, STEVE, "planned"): 1,
        (review, 1, OLIVIA, "planned"): 1,
        (review, 1, STEVE, "planned"): 1,
    }
    _send(tracker_cli, "2025-06-05 10:00", sent=0)

    shown = tracker_cli("show", REF, now="2025-06-05 10:00")
    assert shown.code == 0, shown
    section = shown.out.split("Reminders sent", 1)[1]
    assert OLIVIA in section and "sent" in section
    assert STEVE not in section
    detail = _json(tracker_cli, "show", REF, now="2025-06-05 10:00")["reminders"]
    assert [(h["recipient"], h["lead"], h["outcome"]) for h in detail] == [(OLIVIA, 30, "sent")]
