"""``ptw-host.pyz dispatch RUN_ROOT``: drains the host's run queue (ptw_host/run_queue.py; issue 17,
docs/experiments.md). Started by the app detached (setsid, like the supervisor), one per run root (an flock on
``.ptw-queue/dispatcher.lock``), it needs no app and no SSH connection: each tick it

1. watches the runs it started: a final one is done, or retried by its policy (an infrastructure failure up to
   ``retries.infrastructure`` times, an agent failure up to ``retries.agent`` times, 0 by default), each retry recorded
   in the entry's ``attempts`` and in ``retries.jsonl``;
2. pauses the host, saying why, on a disk below the threshold or a GPU that went away (``paused.json``; the app's
   ``ptw experiment resume`` removes it);
3. starts the next queued runs on free GPUs: not held by a run of ours (queued or launched by hand) and showing no
   process above the memory threshold in nvidia-smi (other people's work is left alone).

Starting a run: claim the entry (rename pending -> claimed), copy the prepared template into RUN_ROOT/<run id>, hand
the agent's folders to the sandbox's user, create the agent container with the chosen GPUs, write run.json, take the
folder's start marker (O_EXCL), and start the supervisor with the secrets on its stdin. The marker is what makes a run
start at most once: a dispatcher that dies before it undoes the claim on its next start; one that dies after it
leaves the run to its supervisor (and the app's reattach). Exits once nothing is queued or running.
"""

import argparse
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from ptw_host.docker_api import Docker, DockerError
from ptw_host.host_log import log, now_ms
from ptw_host.run_folder import FINAL_STATUSES, atomic_write, json_bytes
from ptw_host.run_queue import HostQueue

TICK_SECONDS = 5.0
# A GPU showing a process above this much memory is someone's work (ours or not): never placed on.
MEMORY_THRESHOLD_MIB = 1024
# The run root's disk below this pauses the host: a run that cannot write its checkpoints fails late and expensively.
MIN_FREE_BYTES = 20 * 1024 ** 3
START_MARKER = os.path.join(".supervisor", "dispatched")
# What the supervisor's failure messages say when the machine, not the agent, was at fault.
INFRASTRUCTURE_SIGNS = ("no space left", "container is gone", "does not exist", "docker", "attaching", "oom")


# ---- pure rules (unit-tested in test/host/test_dispatcher.py) ----------------------------------------------------


def parse_gpu_inventory(text):
    """`--query-gpu=index,uuid --format=csv,noheader,nounits` -> [(index, uuid)]."""
    gpus = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 2 and parts[0].isdigit():
            gpus.append((int(parts[0]), parts[1]))
    return gpus


def parse_compute_apps(text):
    """`--query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader,nounits` -> [(uuid, pid, MiB|None)]."""
    apps = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 3 or not parts[1].isdigit():
            continue
        memory = parts[2].split()[0] if parts[2] else ""
        apps.append((parts[0], int(parts[1]), int(memory) if memory.isdigit() else None))
    return apps


def free_gpus(inventory, apps, held, threshold_mib=MEMORY_THRESHOLD_MIB):
    """GPU indices free for a new run: not held by one of our runs, no process above the threshold (a process whose
    memory nvidia-smi cannot tell counts as above it)."""
    busy_uuids = {uuid for uuid, _pid, mib in apps if mib is None or mib > threshold_mib}
    return [index for index, uuid in inventory if index not in held and uuid not in busy_uuids]


def place(pending, free):
    """[(entry, gpus)] for the queued entries that start now, in queue order. A run that needs more GPUs than are
    free stops the placement (the ones behind it wait too), so a multi-GPU run is never starved by smaller ones."""
    free = list(free)
    placed = []
    for entry in pending:
        need = max(1, int(entry.get("gpusPerRun") or 1))
        if need > len(free):
            break
        placed.append((entry, free[:need]))
        free = free[need:]
    return placed


def classify(state, events_text=""):
    """How a final run ended: ("result", None) for an outcome the agent earned, ("agent", why) for the agent's own
    failure, ("infrastructure", why) when the machine failed it (the supervisor could not run it, the container was
    lost, the disk filled)."""
    status = state.get("status")
    error = state.get("error") or ""
    lowered = (error + "\n" + events_text).lower()
    if status == "failed":
        return "infrastructure", error or "the supervisor failed the run"
    if "no space left" in lowered:
        return "infrastructure", "the disk filled up"
    if status == "no-model" and state.get("exitCode") is None and state.get("stopReason") not in ("budget", "user-stop"):
        return "infrastructure", "the agent container was lost (its exit code is unknown)"
    if status == "no-model":
        return "agent", "the agent left no model (exit %s)" % state.get("exitCode")
    if status == "evaluation-failed":
        return "agent", "the evaluation of the agent's model failed"
    return "result", None


def should_retry(entry, kind):
    """Whether another attempt is due: the policy's count for this kind against the retries already made."""
    policy = entry.get("retries") or {}
    allowed = int(policy.get(kind) or 0)
    made = sum(1 for a in entry.get("attempts") or [] if a.get("retryOf") == kind)
    return kind in ("agent", "infrastructure") and made < allowed


def attempt_ids(entry, number):
    """(run id, run dir) of attempt `number` (1-based): the first is the template's own, a retry adds r<number> to
    its suffix (a run id stays r-YYYYMMDD-HHMMSS-[a-z0-9]+, src/main/runs/run-layout.ts)."""
    template = entry["template"]
    if number == 1:
        return template["runId"], template["runDir"]
    run_id = "%sr%d" % (template["runId"], number)
    return run_id, os.path.join(os.path.dirname(template["runDir"]), run_id)


def substitute(value, replacements):
    """`value` with each key of `replacements` in its strings replaced by its value, in one pass (the template's run
    folder holds its run id: replacing one after the other would replace twice)."""
    if isinstance(value, str):
        keys = sorted(replacements, key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(k) for k in keys))
        return pattern.sub(lambda m: replacements[m.group(0)], value)
    if isinstance(value, list):
        return [substitute(v, replacements) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, replacements) for k, v in value.items()}
    return value


def attempt_plan(entry, number, gpus):
    """The container create body and run.json of an attempt on `gpus`."""
    template = entry["template"]
    run_id, run_dir = attempt_ids(entry, number)
    replacements = {template["runDir"]: run_dir, template["runId"]: run_id}
    container = substitute(entry["container"], replacements)
    run_json = substitute(entry["runJson"], replacements)
    request = [{"Driver": "nvidia", "DeviceIDs": [str(g) for g in gpus], "Capabilities": [["gpu"]]}]
    if entry.get("deviceRequests"):
        host_config = container.setdefault("HostConfig", {})
        host_config["DeviceRequests"] = request
        host_config["Ulimits"] = entry.get("gpuUlimits") or []
        run_json["supervisor"]["evaluation"]["deviceRequests"] = request
        run_json["supervisor"]["gpuIndices"] = list(gpus)
        run_json["launch"]["gpus"] = list(gpus)
    return run_id, run_dir, container, run_json


# ---- the host --------------------------------------------------------------------------------------------------


def run_nvidia_smi(args):
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None, "nvidia-smi is not on the dispatcher's PATH"
    try:
        result = subprocess.run([exe] + args, stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as err:
        return None, "nvidia-smi failed: %s" % err
    if result.returncode != 0:
        said = (result.stdout + result.stderr).decode("utf-8", "replace").strip()
        return None, "nvidia-smi exited with %d: %s" % (result.returncode, said[:300])
    return result.stdout.decode("utf-8", "replace"), None


def read_json(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def read_tail(path, limit=64 * 1024):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - limit))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


class Dispatcher:
    def __init__(self, run_root, threshold_mib=MEMORY_THRESHOLD_MIB, min_free_bytes=MIN_FREE_BYTES):
        self.queue = HostQueue(run_root)
        self.threshold_mib = threshold_mib
        self.min_free_bytes = min_free_bytes
        self.children = []
        self.known_gpu_count = None

    # -- GPUs held by our runs: every live run folder under the run root (queued or launched by hand)
    def held_gpus(self):
        held = set()
        try:
            names = os.listdir(self.queue.run_root)
        except OSError:
            return held
        for name in names:
            run_dir = os.path.join(self.queue.run_root, name)
            run = read_json(os.path.join(run_dir, "run.json"))
            if not isinstance(run, dict):
                continue
            state = read_json(os.path.join(run_dir, "state.json")) or {}
            if state.get("status") in FINAL_STATUSES:
                continue
            for index in (run.get("supervisor") or {}).get("gpuIndices") or []:
                held.add(int(index))
        for entry_id in self.queue.ids("started") + self.queue.ids("claimed"):
            entry = self.queue.read("started", entry_id) or self.queue.read("claimed", entry_id) or {}
            attempts = entry.get("attempts") or []
            if not attempts or attempts[-1].get("final") is not None:
                continue
            # A run that ended frees its GPUs now, not at the next tick that files it as done (what
            # `dispatch --status --gpus` tells the app's rebalancing would lag otherwise).
            state = read_json(os.path.join(attempts[-1].get("runDir") or "", "state.json")) or {}
            if state.get("status") not in FINAL_STATUSES:
                held.update(attempts[-1].get("gpus") or [])
        return held

    def free_gpus(self):
        """(free indices, None) or (None, why the host must pause)."""
        inventory_text, err = run_nvidia_smi(["--query-gpu=index,uuid", "--format=csv,noheader,nounits"])
        if err:
            return None, err
        inventory = parse_gpu_inventory(inventory_text)
        if self.known_gpu_count is not None and len(inventory) < self.known_gpu_count:
            return None, "nvidia-smi lists %d GPU(s), %d before: a GPU was lost" % (
                len(inventory),
                self.known_gpu_count,
            )
        self.known_gpu_count = max(self.known_gpu_count or 0, len(inventory))
        apps_text, err = run_nvidia_smi(["--query-compute-apps=gpu_uuid,pid,used_memory", "--format=csv,noheader,nounits"])
        if err:
            return None, err
        return free_gpus(inventory, parse_compute_apps(apps_text), self.held_gpus(), self.threshold_mib), None

    def gpu_snapshot(self):
        """What `dispatch --status --gpus` adds for the app's rebalancing: the GPUs a new run could start on now."""
        free, problem = self.free_gpus()
        if problem is not None:
            return {"free": [], "total": 0, "error": problem}
        return {"free": free, "total": self.known_gpu_count or 0, "error": None}

    def disk_problem(self):
        try:
            stats = os.statvfs(self.queue.run_root)
        except OSError as err:
            return "cannot read the run root's disk: %s" % err
        free = stats.f_bavail * stats.f_frsize
        if free < self.min_free_bytes:
            return "the run root's disk has %d MiB free, below %d MiB" % (free // 2 ** 20, self.min_free_bytes // 2 ** 20)
        return None

    # -- recovery after a dispatcher died mid-start
    def recover(self):
        for entry_id in self.queue.ids("claimed"):
            entry = self.queue.read("claimed", entry_id)
            if entry is None:
                continue
            number = len([a for a in entry.get("attempts") or [] if a.get("startedAt")]) + 1
            _run_id, run_dir = attempt_ids(entry, number)
            if os.path.exists(os.path.join(run_dir, START_MARKER)):
                attempts = entry.setdefault("attempts", [])
                attempts.append({"runId": _run_id, "runDir": run_dir, "startedAt": now_ms(), "recovered": True,
                                 "gpus": (read_json(os.path.join(run_dir, "run.json")) or {}).get("launch", {}).get("gpus", []),
                                 "final": None})
                self.queue.write("claimed", entry)
                self.queue.move(entry_id, "claimed", "started")
                log("dispatcher: %s had started before the restart; watching it" % _run_id)
                continue
            self.remove_attempt_leftovers(entry, _run_id, run_dir)
            self.queue.move(entry_id, "claimed", "pending")
            log("dispatcher: %s was claimed but never started; queued again" % entry_id)

    def remove_attempt_leftovers(self, entry, run_id, run_dir):
        """Undoes a start that never reached its marker: the container (it holds the key) and the folder."""
        try:
            client = Docker(entry.get("dockerSocket") or "/var/run/docker.sock")
            for container in client.list_containers(["ptw.run-id=%s" % run_id]):
                client.remove(container["Id"])
        except (OSError, DockerError, KeyError) as err:
            log("dispatcher: could not remove %s's container: %s" % (run_id, err))
        shutil.rmtree(run_dir, ignore_errors=True)

    # -- starting
    def start(self, entry, gpus):
        attempts = entry.setdefault("attempts", [])
        number = len(attempts) + 1
        run_id, run_dir, container, run_json = attempt_plan(entry, number, gpus)
        if os.path.exists(run_dir):
            raise RuntimeError("%s already exists; refusing to start over it" % run_dir)
        shutil.copytree(self.queue.template_dir(entry["id"]), run_dir, symlinks=True)
        os.chmod(run_dir, 0o700)
        self.hand_over(run_dir, entry.get("handOver") or {})
        client = Docker(entry.get("dockerSocket") or "/var/run/docker.sock")
        container_id = client.create(container)
        run_json["supervisor"]["agentContainerId"] = container_id
        atomic_write(os.path.join(run_dir, "run.json"), json_bytes(run_json, indent=2) + b"\n")
        # The one point of no return: whoever creates the marker starts the supervisor, nobody else ever does.
        os.close(os.open(os.path.join(run_dir, START_MARKER), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        log_file = open(os.path.join(run_dir, "record", "supervisor.log"), "ab")
        package = os.path.join(run_dir, ".supervisor", "ptw-host.pyz")
        child = subprocess.Popen(
            [sys.executable, package, "supervise", "--run-dir", run_dir, "--docker-socket",
             entry.get("dockerSocket") or "/var/run/docker.sock", "--agent-container", container_id, "--secrets-stdin"],
            stdin=subprocess.PIPE, stdout=log_file, stderr=log_file, cwd=run_dir, start_new_session=True,
        )
        log_file.close()
        try:
            child.stdin.write(json.dumps(entry.get("secrets") or {"secrets": [], "evaluationEnv": []}).encode() + b"\n")
            child.stdin.close()
        except OSError as err:
            log("dispatcher: handing %s its keys failed: %s" % (run_id, err))
        self.children.append(child)
        attempts.append({"runId": run_id, "runDir": run_dir, "gpus": list(gpus), "startedAt": now_ms(),
                         "supervisorPid": child.pid, "containerId": container_id, "final": None,
                         **({"retryOf": entry.pop("nextRetryOf")} if entry.get("nextRetryOf") else {})})
        self.queue.write("claimed", entry)
        self.queue.move(entry["id"], "claimed", "started")
        log("dispatcher: started %s on GPU %s (supervisor pid %d)" % (run_id, ",".join(map(str, gpus)), child.pid))

    @staticmethod
    def hand_over(run_dir, hand_over):
        """What the launcher's handOverScript does (src/main/runs/host-scripts.ts), for the attempt's copy."""
        if hand_over.get("chown"):
            uid, gid = int(hand_over["uid"]), int(hand_over["gid"])
            for top in ("workspace", "home"):
                for root, dirs, files in os.walk(os.path.join(run_dir, top)):
                    for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                        os.lchown(name, uid, gid)
        for top in ("workspace", "home"):
            os.chmod(os.path.join(run_dir, top), 0o700)
        for top in ("ptw", "task"):
            for root, dirs, files in os.walk(os.path.join(run_dir, top)):
                for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                    if not os.path.islink(name):
                        os.chmod(name, os.stat(name).st_mode & ~0o022)

    # -- watching
    def watch_started(self):
        for entry_id in self.queue.ids("started"):
            entry = self.queue.read("started", entry_id)
            if entry is None or not entry.get("attempts"):
                continue
            current = entry["attempts"][-1]
            state = read_json(os.path.join(current["runDir"], "state.json")) or {}
            if state.get("status") not in FINAL_STATUSES:
                continue
            kind, why = classify(state, read_tail(os.path.join(current["runDir"], "record", "events.jsonl")))
            current.update(final=state.get("status"), outcome=kind, reason=why, endedAt=now_ms())
            if kind != "result" and should_retry(entry, kind):
                entry["nextRetryOf"] = kind
                self.queue.write("started", entry)
                self.queue.record_retry(
                    {"id": entry_id, "after": current["runId"], "kind": kind, "reason": why, "at": now_ms(),
                     "attempt": len(entry["attempts"]) + 1}
                )
                self.queue.move(entry_id, "started", "pending")
                log("dispatcher: %s ended %s (%s): retrying" % (current["runId"], state.get("status"), why))
            else:
                entry.pop("secrets", None)
                self.queue.write("started", entry)
                self.queue.move(entry_id, "started", "done")
                self.queue.drop_template(entry_id)

    def tick(self):
        self.children = [c for c in self.children if c.poll() is None]
        self.watch_started()
        if self.queue.paused():
            return
        pending = self.queue.pending()
        if not pending:
            return
        problem = self.disk_problem()
        free = None
        if problem is None:
            free, problem = self.free_gpus()
        if problem is not None:
            self.queue.pause(problem)
            log("dispatcher: pausing: %s" % problem)
            return
        for entry, gpus in place(pending, free):
            claimed = self.queue.claim(entry["id"])
            if claimed is None:
                continue  # withdrawn by the app, or claimed elsewhere: its GPUs stay free for the next tick
            try:
                self.start(claimed, gpus)
            except Exception as err:
                number = len(claimed.get("attempts") or []) + 1
                run_id, run_dir = attempt_ids(claimed, number)
                if os.path.exists(os.path.join(run_dir, START_MARKER)):
                    log("dispatcher: %s started but recording it failed: %s" % (run_id, err))
                    self.queue.move(claimed["id"], "claimed", "started")
                    continue
                self.remove_attempt_leftovers(claimed, run_id, run_dir)
                self.queue.move(claimed["id"], "claimed", "pending")
                self.queue.pause("starting %s failed: %s" % (run_id, err))
                log("dispatcher: starting %s failed, pausing: %s" % (run_id, err))
                return

    def busy(self):
        return bool(self.queue.ids("pending") or self.queue.ids("claimed") or self.queue.ids("started"))


def acquire_lock(queue):
    queue.ensure()
    handle = open(os.path.join(queue.dir, "dispatcher.lock"), "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write("%d\n" % os.getpid())
    handle.flush()
    return handle


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="ptw-host.pyz dispatch", description="drain the run queue of a run root")
    parser.add_argument("run_root")
    parser.add_argument("--tick", type=float, default=TICK_SECONDS, help="seconds between looks at the queue")
    parser.add_argument("--memory-threshold-mib", type=int, default=MEMORY_THRESHOLD_MIB)
    parser.add_argument("--min-free-bytes", type=int, default=MIN_FREE_BYTES)
    parser.add_argument("--status", action="store_true", help="print the queue as JSON (no secrets) and exit")
    parser.add_argument("--gpus", action="store_true", help="with --status: the free GPUs as the dispatcher sees them")
    parser.add_argument("--resume", action="store_true", help="lift the host's pause and exit")
    parser.add_argument("--withdraw", nargs="+", metavar="ID", help="take queued runs back (not started ones); exit")
    parser.add_argument("--requeue", nargs="+", metavar="ID", help="queue withdrawn runs again; exit")
    parser.add_argument("--move-out", metavar="ID", help="give a queued run to another host (--to-*); exit")
    parser.add_argument("--to-host")
    parser.add_argument("--to-entry")
    parser.add_argument("--to-root")
    parser.add_argument("--activate", nargs="+", metavar="ID", help="queue held replacements; exit")
    parser.add_argument("--drop-held", nargs="+", metavar="ID", help="remove held replacements that lost; exit")
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    queue = HostQueue(args.run_root)
    if args.status:
        status = queue.status()
        if args.gpus:
            status["gpus"] = Dispatcher(args.run_root, args.memory_threshold_mib).gpu_snapshot()
        print(json.dumps(status))
        return 0
    if args.move_out:
        if not (args.to_host and args.to_entry and args.to_root):
            print("--move-out needs --to-host, --to-entry and --to-root", file=sys.stderr)
            return 2
        to = {"host": args.to_host, "entryId": args.to_entry, "runRoot": args.to_root}
        print(json.dumps({"movedTo": queue.move_out(args.move_out, to)}))
        return 0
    if args.resume:
        queue.resume()
        return 0
    if args.withdraw or args.requeue or args.activate or args.drop_held:
        moved = [i for i in args.withdraw or [] if queue.withdraw(i)]
        moved += [i for i in args.requeue or [] if queue.move(i, "withdrawn", "pending")]
        moved += [i for i in args.activate or [] if queue.activate(i)]
        moved += [i for i in args.drop_held or [] if queue.drop_held(i)]
        print(json.dumps({"moved": moved}))
        return 0
    lock = acquire_lock(queue)
    if lock is None:
        print("DISPATCHER already running")
        return 0
    print("DISPATCHER started %d" % os.getpid())
    sys.stdout.flush()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    dispatcher = Dispatcher(args.run_root, args.memory_threshold_mib, args.min_free_bytes)
    dispatcher.recover()
    idle_ticks = 0
    while True:
        try:
            dispatcher.tick()
        except Exception as err:  # one bad tick must not end the queue's only drain
            log("dispatcher: tick failed: %s" % err)
        idle_ticks = 0 if dispatcher.busy() else idle_ticks + 1
        if idle_ticks >= 3:
            log("dispatcher: queue empty; exiting")
            return 0
        time.sleep(args.tick)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
