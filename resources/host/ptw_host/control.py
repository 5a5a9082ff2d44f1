"""The app's control requests (docs/run-folder.md, "Control requests"): JSON files dropped into control/.

A request is consumed by renaming it to `.done` before it is applied, so it is applied at most once even if the
supervisor dies right after. What a request asks is decided here, as data (`interpret`); the supervisor applies it.
"""

import json
import os
import time

from ptw_host.run_config import is_number
from ptw_host.run_folder import read_small_file

MAX_CONTROL_FILE = 64 * 1024
CONTROL_POLL_SECONDS = 0.25
# A request file that does not parse yet may still be being written (by a writer that does not rename) this long.
UNREADABLE_GRACE_NS = 1_000_000_000
ACTIONS = ("stop", "kill", "extend", "resize", "peek-shell")


def take_requests(control_dir, on_error):
    """Consumes the requests in `control_dir`, oldest first: [(name, request or None, error or None)]. A file that
    cannot be renamed is left and reported through on_error(where, err)."""
    entries = []
    for name in os.listdir(control_dir):
        if not name.endswith(".json") or name.startswith("."):
            continue
        path = os.path.join(control_dir, name)
        try:
            entries.append((os.lstat(path).st_mtime_ns, name, path))
        except OSError:
            continue
    taken = []
    for mtime_ns, name, path in sorted(entries):
        request, error = None, None
        try:
            request = json.loads(read_small_file(path, MAX_CONTROL_FILE).decode("utf-8"))
            if not isinstance(request, dict):
                error = "not a JSON object"
        except (OSError, ValueError, UnicodeDecodeError) as err:
            if time.time_ns() - mtime_ns < UNREADABLE_GRACE_NS:
                continue  # maybe still being written: try again later
            error = str(err)
        # Rename first: a request is applied at most once, even if we die right after.
        try:
            os.rename(path, path[: -len(".json")] + ".done")
        except OSError as err:
            on_error("consuming control/%s" % name, err)
            continue
        taken.append((name, request, error))
    return taken


def _tty_size(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 10000


def interpret(request, error, running, stop_reason):
    """What one request asks, given whether the agent still runs and why it is stopping (None if it is not):
    ("reject", why), or (action, by, params) with action one of ACTIONS and params a dict."""
    if error is not None:
        return ("reject", error)
    action = request.get("action")
    by = request.get("by") if isinstance(request.get("by"), str) else "app"
    if action == "peek-shell":
        # The app opens the shell itself; the request only puts it on the record (whether the agent runs or not).
        return ("peek-shell", by, {})
    if not running:
        return ("reject", "the agent has already stopped")
    if action in ("stop", "kill"):
        return (action, by, {})
    if action == "extend":
        seconds = request.get("seconds")
        if not is_number(seconds) or seconds <= 0:
            return ("reject", "extend needs a positive number of seconds")
        if stop_reason is not None:
            return ("reject", "the agent is already stopping (%s)" % stop_reason)
        return ("extend", by, {"seconds": seconds})
    if action == "resize":
        cols, rows = request.get("cols"), request.get("rows")
        if not (_tty_size(cols) and _tty_size(rows)):
            return ("reject", "resize needs positive integer cols and rows")
        return ("resize", by, {"cols": cols, "rows": rows})
    return ("reject", "unknown action %r" % (action,))
