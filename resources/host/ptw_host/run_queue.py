"""A host's run queue, in its run root (issue 17; docs/experiments.md): one JSON file per queued run, moved between
folders with ``os.rename`` so that exactly one process ever owns an entry.

    RUN_ROOT/.ptw-queue/
      pending/<id>.json    queued; the app writes it (as .<id>.tmp, then renamed in)
      claimed/<id>.json    taken by the dispatcher (or by the app moving it to another host): one rename wins
      started/<id>.json    its current attempt's supervisor was started; watched until the run is final
      done/<id>.json       final, with every attempt recorded
      withdrawn/<id>.json  taken back by the app before it started (the experiment stopped; `resume` requeues it)
      held/<id>.json       a replacement for a run moving here from another host: not started until activated
      moved/<id>.json      given to another host before it started; moved/<id>.to names its replacement there
      templates/<id>/      the run folder the app prepared, copied into RUN_ROOT/<run id> for each attempt
      retries.jsonl        one line per retry decided
      paused.json          {"reason", "at"}: the dispatcher starts nothing while it exists
      dispatcher.lock      flock'ed by the one dispatcher of this run root

An entry (written by src/main/experiments/host-queue.ts):
    {"id", "experimentId", "cellKey", "priority", "enqueuedAt", "gpusPerRun", "deviceRequests", "gpuUlimits",
     "dockerSocket", "template": {"dir", "runId", "runDir"}, "handOver": {"uid", "gid", "chown"},
     "container": <Docker create body>, "runJson": <run.json>, "secrets": <the supervisor's stdin line>,
     "retries": {"infrastructure", "agent"}, "attempts": [...]}

The ``.tmp`` name and the renames keep readers from ever seeing half a file. Standard library only.
"""

import json
import os
import shutil
import time

from ptw_host.host_log import now_ms
from ptw_host.run_folder import atomic_write, json_bytes

QUEUE_DIR = ".ptw-queue"
STATES = ("pending", "claimed", "started", "done", "withdrawn", "held", "moved")
# Fields never repeated in what `dispatch status` prints (the app reads it over SSH; secrets stay in the file).
PRIVATE_FIELDS = ("secrets", "container", "runJson")


def run_state(run_dir):
    """What the app shows of a started run: its state.json's status, times, error and score (accuracy x 100)."""
    try:
        with open(os.path.join(run_dir, "state.json"), encoding="utf-8") as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return {"status": None}
    metrics = (state.get("evaluation") or {}).get("metrics") or {}
    accuracy = metrics.get("accuracy") if isinstance(metrics, dict) else None
    return {
        "status": state.get("status"),
        "startedAt": state.get("startedAt"),
        "deadline": state.get("deadline"),
        "error": state.get("error"),
        "score": accuracy * 100 if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool) else None,
    }


class HostQueue:
    def __init__(self, run_root):
        self.run_root = os.path.abspath(os.path.expanduser(run_root))
        self.dir = os.path.join(self.run_root, QUEUE_DIR)

    def path(self, state, entry_id):
        return os.path.join(self.dir, state, entry_id + ".json")

    def ensure(self):
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        for state in STATES + ("templates",):
            os.makedirs(os.path.join(self.dir, state), mode=0o700, exist_ok=True)

    def ids(self, state):
        try:
            names = os.listdir(os.path.join(self.dir, state))
        except FileNotFoundError:
            return []
        return sorted(n[: -len(".json")] for n in names if n.endswith(".json") and not n.startswith("."))

    def read(self, state, entry_id):
        try:
            with open(self.path(state, entry_id), encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def write(self, state, entry):
        """Replaces an entry this process owns (it holds the file's state by having renamed it there)."""
        data = json_bytes(entry, indent=1)
        path = self.path(state, entry["id"])
        tmp = os.path.join(os.path.dirname(path), ".%s.tmp" % entry["id"])
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, path)

    def enqueue(self, entry):
        self.ensure()
        entry.setdefault("enqueuedAt", now_ms())
        entry.setdefault("attempts", [])
        self.write("pending", entry)

    def move(self, entry_id, source, target):
        """Moves an entry between states; True if this call moved it (False: someone else did, or it is gone)."""
        try:
            os.rename(self.path(source, entry_id), self.path(target, entry_id))
            return True
        except FileNotFoundError:
            return False

    def claim(self, entry_id):
        """The entry, now ours to start, or None when another process claimed (or withdrew) it first."""
        if not self.move(entry_id, "pending", "claimed"):
            return None
        return self.read("claimed", entry_id)

    def withdraw(self, entry_id):
        """Takes a queued (or held) run back before it starts; False when it already left `pending`."""
        return self.move(entry_id, "pending", "withdrawn") or self.move(entry_id, "held", "withdrawn")

    def move_out(self, entry_id, to):
        """Gives a queued run to another host (src/main/experiments/rebalancer.ts; docs/experiments.md, "Moving
        queued runs"). ``to`` is ``{"host", "entryId", "runRoot"}``: the replacement entry the app put in that host's
        ``held/``, which nothing starts until the app activates it there after this call.

        Two atomic steps, each with exactly one winner: the rename pending -> moved races the dispatcher's claim (the
        run starts here or leaves, never both), and the pointer ``moved/<id>.to`` is created with O_EXCL, so of two
        app instances moving the same run (or one finishing a move another left half done) exactly one replacement
        is ever named, and only a named one is ever activated. A retry waiting its turn (an entry with attempts)
        stays: its earlier attempts' folders are here. ``moved/`` is a dead end (``--requeue`` reads ``withdrawn/``).

        Returns the replacement this entry names (ours or the one that won), or None when the run did not leave
        (claimed, started or done here, or a retry)."""
        self.ensure()  # a queue laid out before moves existed has no moved/ yet
        pending = self.read("pending", entry_id)
        if pending is not None and not pending.get("attempts"):
            self.move(entry_id, "pending", "moved")
        if self.read("moved", entry_id) is None:
            return None
        pointer = self.path("moved", entry_id)[: -len(".json")] + ".to"
        try:
            fd = os.open(pointer, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            try:
                os.write(fd, json_bytes({"host": to["host"], "entryId": to["entryId"], "runRoot": to["runRoot"],
                                         "at": now_ms()}))
                os.fsync(fd)
            finally:
                os.close(fd)
            # The pointer's one writer: the keys and the template are not needed here any more.
            moved = self.read("moved", entry_id)
            if moved is not None:
                moved.pop("secrets", None)
                self.write("moved", moved)
            self.drop_template(entry_id)
        return self.moved_to(entry_id)

    def moved_to(self, entry_id):
        """The replacement a moved entry names; None while its pointer is not written yet."""
        pointer = self.path("moved", entry_id)[: -len(".json")] + ".to"
        for _ in range(50):  # a pointer being written by another process is complete within moments
            try:
                with open(pointer, encoding="utf-8") as handle:
                    return json.load(handle)
            except FileNotFoundError:
                return None
            except (OSError, ValueError):
                time.sleep(0.02)
        return None

    def activate(self, entry_id):
        """Queues a held replacement (held -> pending): True if this call did."""
        return self.move(entry_id, "held", "pending")

    def drop_held(self, entry_id):
        """Removes a held replacement that lost its move (never activated) and its template."""
        if self.read("held", entry_id) is None:
            return False
        try:
            os.unlink(self.path("held", entry_id))
        except FileNotFoundError:
            return False
        self.drop_template(entry_id)
        return True

    def pending(self):
        """Pending entries in the order they run: higher priority first, then first queued first."""
        entries = [e for e in (self.read("pending", i) for i in self.ids("pending")) if e is not None]
        return sorted(entries, key=lambda e: (-int(e.get("priority") or 0), e.get("enqueuedAt") or 0, e["id"]))

    def record_retry(self, line):
        self.ensure()
        with open(os.path.join(self.dir, "retries.jsonl"), "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, sort_keys=True) + "\n")

    def template_dir(self, entry_id):
        return os.path.join(self.dir, "templates", entry_id)

    def drop_template(self, entry_id):
        shutil.rmtree(self.template_dir(entry_id), ignore_errors=True)

    # ---- pause -------------------------------------------------------------------------------------------

    def paused(self):
        try:
            with open(os.path.join(self.dir, "paused.json"), encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"reason": "paused.json is unreadable", "at": None}

    def pause(self, reason):
        self.ensure()
        atomic_write(os.path.join(self.dir, "paused.json"), json_bytes({"reason": reason, "at": now_ms()}))

    def resume(self):
        try:
            os.unlink(os.path.join(self.dir, "paused.json"))
        except FileNotFoundError:
            pass

    # ---- what the app reads ------------------------------------------------------------------------------

    def status(self):
        entries = []
        for state in STATES:
            for entry_id in self.ids(state):
                entry = self.read(state, entry_id)
                if entry is None:
                    continue
                public = {k: v for k, v in entry.items() if k not in PRIVATE_FIELDS}
                public["state"] = state
                if state == "moved":
                    public["movedTo"] = self.moved_to(entry_id)
                attempts = entry.get("attempts") or []
                if attempts and attempts[-1].get("runDir"):
                    public["run"] = run_state(attempts[-1]["runDir"])
                entries.append(public)
        return {"now": now_ms(), "root": self.run_root, "paused": self.paused(), "entries": entries}
