"""A lean local SMTP server for the delivery benchmarks, in its own process.

    python bench/smtp_sink.py [--sample FILE]

Accepts every message (aiosmtpd, no parsing, no storing), prints its port on the first
line of stdout, and runs until its stdin is closed. With ``--sample`` the first message
received is written to FILE, so the bare aiosmtplib loop can send messages of exactly
the size the tracker sends. Running in its own process keeps the server off the
client's core (and GIL) on a 2-core machine.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _Sink:
    def __init__(self, sample: Path | None) -> None:
        self.sample = sample
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        if self.sample is not None and not self.sample.exists():
            content = envelope.original_content or envelope.content or b""
            if isinstance(content, str):
                content = content.encode("utf-8", "surrogateescape")
            self.sample.write_bytes(content)
        return f"250 2.0.0 OK queued as {self.count}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=Path)
    args = parser.parse_args()
    controller = None
    for _ in range(5):
        port = free_port()
        controller = Controller(_Sink(args.sample), hostname="127.0.0.1", port=port)
        try:
            controller.start()
            break
        except (OSError, RuntimeError, TimeoutError):
            controller = None
    if controller is None:
        print("0", flush=True)
        return 1
    print(port, flush=True)
    try:
        sys.stdin.read()  # until the parent closes it
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
