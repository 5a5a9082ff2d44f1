"""The supervisor's log lines (stderr, appended to record/supervisor.log) and its clock."""

import os
import sys
import time


def now_ms():
    return int(time.time() * 1000)


def iso_utc(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000.0))


def log(message):
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    # The name stays the one older supervisors wrote, so a run's log reads the same whichever wrote it.
    sys.stderr.write("%s ptw-supervisor[%d] %s\n" % (stamp, os.getpid(), message))
    sys.stderr.flush()
