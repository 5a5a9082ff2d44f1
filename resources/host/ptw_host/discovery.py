"""``ptw-host.pyz discover RUN_ROOT [RUN_DIR...]``: the run folders under the run root (and any extra folders, from
container labels), each with its run.json id, state.json status and heartbeat, and whether its supervisor process
is alive, as one JSON line.

Standard library only and self-contained (no import from the package): the app runs this file's source as
`python3 -c` (src/main/runs/host-scripts.ts discoveryScript), since a host being searched for runs may hold no
ptw-host.pyz yet.
"""

import json
import os
import sys
import time


def supervisor_alive(run_dir):
    """(pid, alive): the pid file's pid, and whether that process is still a supervisor of this run folder."""
    try:
        with open(os.path.join(run_dir, ".supervisor", "supervisor.pid")) as handle:
            pid = int(handle.read(32).strip() or "0")
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            args = handle.read().split(b"\0")
        return pid, run_dir.encode() in args
    except (OSError, ValueError):
        return None, False


def describe(run_dir):
    entry = {"dir": run_dir, "name": os.path.basename(run_dir)}
    try:
        with open(os.path.join(run_dir, "run.json")) as handle:
            run = json.load(handle)
        entry["id"] = run.get("id")
        entry["agentContainerId"] = (run.get("supervisor") or {}).get("agentContainerId")
    except Exception as err:
        entry["error"] = "run.json: %s" % err
    try:
        with open(os.path.join(run_dir, "state.json")) as handle:
            state = json.load(handle)
        entry["status"] = state.get("status")
        entry["heartbeatAt"] = state.get("heartbeatAt")
        entry["stateContainerId"] = state.get("agentContainerId")
    except FileNotFoundError:
        entry["status"] = None
    except Exception as err:
        entry["status"] = None
        entry["stateError"] = str(err)
    entry["supervisorPid"], entry["supervisorAlive"] = supervisor_alive(run_dir)
    return entry


def discover(run_root, extra_dirs):
    root = os.path.abspath(os.path.expanduser(run_root))
    out = {"now": int(time.time() * 1000), "root": root, "rootExists": os.path.isdir(root), "runs": []}
    dirs = []
    if out["rootExists"]:
        try:
            dirs = [os.path.join(root, name) for name in sorted(os.listdir(root))]
        except OSError as err:
            out["error"] = str(err)
    for extra in extra_dirs:
        if extra not in dirs:
            dirs.append(extra)
    for run_dir in dirs:
        if os.path.isfile(os.path.join(run_dir, "run.json")):
            out["runs"].append(describe(run_dir))
    return out


def main(argv):
    if not argv:
        sys.stderr.write("usage: ptw-host.pyz discover RUN_ROOT [RUN_DIR...]\n")
        return 2
    print(json.dumps(discover(argv[0], argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
