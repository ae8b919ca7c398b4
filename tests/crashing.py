"""A stand-in for `c3ae.cli.batch.run_job` whose process dies on a file named 'bad',
kept apart from the tests so worker processes import nothing heavy to find it."""
from __future__ import annotations

import os


def crash_on_bad(job) -> dict:
    if "bad" in job.input:
        os._exit(3)
    return {"input": job.input, "status": "ok", "code": 0}


def timed(job) -> dict:
    """Half a second of work, its start and end logged to job.video (a folder);
    'bad' dies the first time it runs, 'stuck' stops its own process (SIGSTOP),
    as a hung decoder or network mount would hold it."""
    import signal
    import time
    from pathlib import Path

    log = Path(job.video)
    name = Path(job.input).stem
    if "bad" in name and not (log / "crashed").exists():
        (log / "crashed").write_text(str(time.time()))
        os._exit(3)
    if "stuck" in name:
        (log / "stuck.started").write_text("")
        os.kill(os.getpid(), signal.SIGSTOP)
    start = time.time()
    time.sleep(0.5)
    (log / f"{name}.times").write_text(f"{start} {time.time()}")
    return {"input": job.input, "status": "ok", "code": 0}
