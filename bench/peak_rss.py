"""Run ``tracker ARGS`` and write its peak RSS (KiB) to a file when it exits.

    python bench/peak_rss.py OUT_FILE ARGS...

The figure is ``VmHWM`` from /proc/self/status: the high-water mark of this process's
own memory since it was exec'd. ``ru_maxrss`` from wait4() is not used because Linux
carries it over from before exec, so a child forked from a benchmark process holding a
large data set in memory would report the parent's size.
"""

from __future__ import annotations

import atexit
import sys
from pathlib import Path


def _peak_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    out = Path(sys.argv[1])
    sys.argv = ["tracker", *sys.argv[2:]]
    atexit.register(lambda: out.write_text(str(_peak_kib())))
    from tracker.cli.main import run

    run()


if __name__ == "__main__":
    main()
