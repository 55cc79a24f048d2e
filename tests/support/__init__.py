"""Helpers shared by every test directory (on ``sys.path`` through pytest's
``pythonpath = ["tests"]``, so ``from support.cli import Result`` works from any test).

* :mod:`support.people`    -- the named people of the seeds and scenarios, once.
* :mod:`support.cli`       -- the real CLI in-process: isolation, seeds, results, ``dump``.
* :mod:`support.smtp`      -- the threaded aiosmtpd server (faults, STARTTLS), raw TCP
  servers, TLS certificates, Message-ID keys.
* :mod:`support.smtp_loop` -- aiosmtpd on the test's own event loop (transport tests).
* :mod:`support.processes` -- coroutines from sync code, ``tracker`` as a subprocess.
* :mod:`support.postgres`  -- statements on the test PostgreSQL server.
* :mod:`support.fixtures`  -- fixtures used by several directories (a pytest plugin
  loaded by the root conftest).
"""
