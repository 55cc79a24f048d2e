"""Run a coroutine to completion from synchronous test code (fixtures, helpers).

The coroutine gets a private event loop in a helper thread, so it is independent of
whatever loop pytest-asyncio has (or has not) set up for the test itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")


def run_in_thread(coro: Coroutine[Any, Any, _T], name: str = "test-loop") -> _T:
    result: list[_T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, name=name)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]
