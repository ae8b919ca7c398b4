"""A stand-in for `c3ae.cli.batch.run_job` whose process dies on a file named 'bad',
kept apart from the tests so worker processes import nothing heavy to find it."""
from __future__ import annotations

import os


def crash_on_bad(job) -> dict:
    if "bad" in job.input:
        os._exit(3)
    return {"input": job.input, "status": "ok", "code": 0}
