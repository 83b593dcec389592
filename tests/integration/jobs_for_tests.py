"""Importable job functions for worker tests (RQ jobs are referenced by dotted path)."""

import time

from rq import get_current_job


def add(left: int, right: int) -> int:
    return left + right


def record_run(key: str) -> None:
    """Append when this run started to the Redis list `key`, so a test can count the runs and time them."""
    job = get_current_job()
    assert job is not None
    job.connection.rpush(key, time.time())
