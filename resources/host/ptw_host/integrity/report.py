"""Pieces of the report every check writes: a check that could not run (with why), sizes and times as shown."""

import os


def not_run(kind, reason):
    return {"kind": kind, "status": "not-run", "reason": reason}


def human_bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0
    return str(n)


def file_mtime_ms(path):
    """When the agent last wrote the file (host clock, epoch ms): the moment its evidence appeared at the latest."""
    try:
        return int(os.lstat(path).st_mtime * 1000)
    except OSError:
        return None
