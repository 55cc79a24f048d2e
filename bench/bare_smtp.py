"""The limit for benchmark 2: a bare aiosmtplib loop sending prebuilt messages.

    python bench/bare_smtp.py --port P --count N --sample FILE [--per-message]

Builds ``count`` messages from the sample (one the tracker sent: same size), each with
its own recipient and Message-ID, before the clock starts; then sends them over one
connection (or, with ``--per-message``, a new connection for each) and prints the
seconds the sending took as JSON. Nothing else: no database, no templates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import aiosmtplib

SENDER = "contract-tracker@localhost"


def prebuilt(sample: bytes, count: int) -> list[tuple[str, bytes]]:
    head, sep, body = sample.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = sample.partition(b"\n\n")
    lines = [
        line for line in head.splitlines() if not line.lower().startswith((b"message-id:", b"to:"))
    ]
    messages = []
    for n in range(count):
        to = f"person{n % 2000:04d}@example.org"
        extra = [f"To: {to}".encode(), f"Message-ID: <bare.{n}@localhost>".encode()]
        messages.append((to, b"\r\n".join(lines + extra) + b"\r\n\r\n" + body))
    return messages


async def send_all(port: int, messages: list[tuple[str, bytes]], per_message: bool) -> float:
    began = time.perf_counter()
    if per_message:
        for to, raw in messages:
            smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
            await smtp.connect()
            await smtp.sendmail(SENDER, [to], raw)
            await smtp.quit()
    else:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await smtp.connect()
        for to, raw in messages:
            await smtp.sendmail(SENDER, [to], raw)
        await smtp.quit()
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--sample", type=Path, required=True)
    parser.add_argument("--per-message", action="store_true")
    args = parser.parse_args()
    messages = prebuilt(args.sample.read_bytes(), args.count)
    seconds = asyncio.run(send_all(args.port, messages, args.per_message))
    size = sum(len(raw) for _, raw in messages) // max(1, len(messages))
    print(json.dumps({"seconds": seconds, "count": len(messages), "bytes": size}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
