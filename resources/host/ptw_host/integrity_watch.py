"""Integrity passes run by the host supervisor (issue 13; docs/integrity.md, "Where it runs"): a live pass every few
minutes while the agent works, and a final pass once it stopped, which the evaluation's score waits for.

Each pass is the `integrity check` subcommand in a child process of its own (`python3 -m ptw_host.integrity_watch`):
niced, one BLAS thread, an address-space limit, so a pass costs the agent and the supervisor's budget enforcement
nothing but spare CPU, and a pass that runs out of memory fails alone. The child keeps `.integrity/cache.json`
(outside the workspace the agent sees): a pass reads only files that are new or grew since the last one, and only
the new bytes of a file that grew (ptw_host/integrity/checks.py). After each pass the supervisor writes
`integrity/verdict.json` (`{run, verdict, flags, checks}`, what `ptw integrity check --json` prints) and
`integrity/record.json` (the app's IntegrityRecord: when, the files not read, details, when each flag was first
seen), and appends to record/events.jsonl:

- `integrity-flag` for each flag a pass reports for the first time, with `evidenceAt`, the moment its evidence
  appeared (the evidence file's mtime or the trace line's time; the pass's time when it carries none);
- `integrity-pass` after each live pass; `integrity-final` after the final pass, always before the evaluation's
  `evaluation-finished` and the run's final status (the Evaluator asks `hold_score` first).

run.json's `supervisor.integrity` says where the references are (src/shared/runs/run-json.ts integrityPlanSchema);
a run.json without it gets no passes (the app checks such a run on request).
"""

import json
import os
import signal
import subprocess
import sys
import threading

from ptw_host.host_log import log, now_ms
from ptw_host.run_folder import atomic_write, json_bytes, read_json_object

LIVE_INTERVAL_SECONDS = 300
PASS_TIMEOUT_SECONDS = 3600
NICE = 10
MEMORY_LIMIT_BYTES = 8 << 30
CHECK_KINDS = ("contamination", "model_substitution", "eval_tampering", "api_misuse")
MAX_REPORT_BYTES = 64 << 20


class PlanError(Exception):
    pass


def _strings(value, field):
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PlanError("supervisor.integrity.%s must be a list of strings" % field)
    return list(value)


def _string(value, field):
    if value is not None and not isinstance(value, str):
        raise PlanError("supervisor.integrity.%s must be a string" % field)
    return value or None


class IntegrityPlan:
    """run.json's supervisor.integrity, checked (the app writes it: src/main/runs/integrity-plan.ts)."""

    def __init__(self, raw):
        if not isinstance(raw, dict):
            raise PlanError("supervisor.integrity must be an object")
        interval = raw.get("intervalSeconds", LIVE_INTERVAL_SECONDS)
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval <= 0:
            raise PlanError("supervisor.integrity.intervalSeconds must be a positive number")
        self.interval_seconds = float(interval)
        self.benchmark = _string(raw.get("benchmark"), "benchmark")
        self.base_model = _string(raw.get("baseModel"), "baseModel")
        self.ptb_checkout = _string(raw.get("ptbCheckout"), "ptbCheckout")
        self.test_sets_dirs = _strings(raw.get("testSetsDirs"), "testSetsDirs")
        self.test_set_files = _strings(raw.get("testSetFiles"), "testSetFiles")
        self.hf_caches = _strings(raw.get("hfCaches"), "hfCaches")
        self.own_keys = _strings(raw.get("ownKeys"), "ownKeys")
        self.pairs = _strings(raw.get("pairs"), "pairs")


def check_argv(paths, plan, cache):
    """The `integrity check` arguments for the run folder (the same the app passes for an on-demand pass)."""
    argv = ["check", "--root", paths.root, "--workspace", paths.workspace, "--trace", paths.agent_stream]
    argv += ["--clean-task", paths.task, "--cache", cache]
    for flag, value in (("--benchmark", plan.benchmark), ("--base-model", plan.base_model), ("--ptb-checkout", plan.ptb_checkout)):
        if value:
            argv += [flag, value]
    # A relative test set file is in the run folder (the rehearsal's task/test.jsonl).
    test_sets = [os.path.join(paths.root, f) for f in plan.test_set_files]
    for flag, values in (("--test-set", test_sets), ("--test-sets-dir", plan.test_sets_dirs), ("--hf-cache", plan.hf_caches), ("--own-key", plan.own_keys), ("--pair", plan.pairs)):
        for value in values:
            argv += [flag, value]
    return argv


# --- the verdict, as src/shared/integrity/integrity-verdict.ts computes it ------------------------------------------


def verdict_of(checks, flags):
    if any(f.get("severity") in ("high", "medium") for f in flags):
        return "flagged"
    ran = {c.get("kind") for c in checks if c.get("status") != "not-run"}
    return "clean" if all(kind in ran for kind in CHECK_KINDS) else "incomplete"


def flag_key(flag):
    """flagKey: the kind and an FNV-1a hash of the summary's UTF-16 code units (a decision names a flag by it)."""
    h = 2166136261
    data = flag.get("summary", "").encode("utf-16-le")
    for i in range(0, len(data), 2):
        h ^= data[i] | (data[i + 1] << 8)
        h = (h * 16777619) & 0xFFFFFFFF
    return "%s:%08x" % (flag.get("kind"), h)


def evidence_at(flag):
    times = [e.get("mtime") for e in flag.get("evidence", []) if isinstance(e, dict)]
    times = [t for t in times if isinstance(t, (int, float)) and not isinstance(t, bool) and t > 0]
    return int(min(times)) if times else None


def first_seen(flags, previous, now):
    """When each flag was first seen (kept from `previous` for a flag it had) and when its evidence appeared; the
    keys not in `previous` are the new flags."""
    out = {}
    for flag in flags:
        key = flag_key(flag)
        before = previous.get(key) if isinstance(previous.get(key), dict) else None
        out[key] = {
            "at": before["at"] if before and "at" in before else now,
            "evidenceAt": before.get("evidenceAt") if before else evidence_at(flag),
        }
    return out


def live_pass_due(last_pass_ms, started_ms, interval_seconds, now):
    """A live pass is due `interval` after the previous one started (after the agent started, for the first)."""
    since = last_pass_ms if last_pass_ms is not None else started_ms
    return since is None or now - since >= interval_seconds * 1000


def kill_group(child):
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except OSError:
        pass  # gone already


def package_root():
    """What goes on a child's PYTHONPATH to import this package: the zipapp itself, or the folder holding ptw_host/."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class IntegrityWatch:
    """The passes of one run. `events` is the supervisor's EventLog (or anything with write(type, **fields));
    `state` its StateFile; `on_error(where, err)` reports a failing pass without raising."""

    def __init__(self, paths, plan, run_id, events, state, on_error, python=None, timeout_seconds=PASS_TIMEOUT_SECONDS):
        self.paths = paths
        self.plan = plan
        self.run_id = run_id
        self.events = events
        self.state = state
        self.on_error = on_error
        self.python = python or sys.executable
        self.timeout_seconds = timeout_seconds
        self.dir = os.path.join(paths.root, "integrity")
        self.work = os.path.join(paths.root, ".integrity")
        self.lock = threading.Lock()  # one pass at a time
        self.child = None
        self.final_started = False
        self.final_done = threading.Event()
        self.live_stopped = threading.Event()
        prior = (state.get("integrity") if state is not None else None) or {}
        self.passes = prior.get("passes", 0) if isinstance(prior.get("passes"), int) else 0
        self.last_pass_ms = prior.get("checkedAt") if isinstance(prior.get("checkedAt"), int) else None
        if prior.get("finalAt"):
            self.final_started = True
            self.final_done.set()

    # ---- one pass ----------------------------------------------------------------------------------------------

    def run_child(self, final):
        """The checks in a child process; the parsed report (None for a live pass the final one cancelled), or raises
        with why."""
        for folder in (self.dir, self.work):
            os.makedirs(folder, mode=0o700, exist_ok=True)
        argv = [self.python, "-m", "ptw_host.integrity_watch", "--nice", str(NICE), "--memory", str(MEMORY_LIMIT_BYTES)]
        argv += check_argv(self.paths, self.plan, os.path.join(self.work, "cache.json"))
        env = dict(os.environ, PYTHONPATH=package_root(), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        with self.lock:
            if not final and self.live_stopped.is_set():
                return None
            # A process group of its own, so stopping it stops whatever it started (and no signal of ours reaches it).
            child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, close_fds=True, start_new_session=True)
            self.child = child
            if not final and self.live_stopped.is_set():
                kill_group(child)  # start_final ran between the check and the start: it did not see this child
            try:
                out, err = child.communicate(timeout=self.timeout_seconds)
            except subprocess.TimeoutExpired:
                kill_group(child)
                child.communicate()
                raise RuntimeError("the pass took longer than %d s and was stopped" % self.timeout_seconds)
            finally:
                self.child = None
        if not final and self.live_stopped.is_set():
            return None
        if child.returncode != 0 or len(out) > MAX_REPORT_BYTES:
            raise RuntimeError("the checks exited %s: %s" % (child.returncode, err.decode("utf-8", "replace").strip()[-2000:]))
        report = json.loads(out.decode("utf-8"))
        if not isinstance(report, dict) or not isinstance(report.get("checks"), list) or not isinstance(report.get("flags"), list):
            raise RuntimeError("the checks printed no report")
        return report

    def record(self, report, started, final):
        """verdict.json and record.json from a report; the `integrity-flag` events of the new flags. The verdict."""
        now = now_ms()
        checks = [{"kind": c.get("kind"), "status": c.get("status"), "reason": c.get("reason", "")} for c in report["checks"] if isinstance(c, dict)]
        for kind in CHECK_KINDS:
            if not any(c["kind"] == kind for c in checks):
                checks.append({"kind": kind, "status": "not-run", "reason": "the helper did not report this check"})
        flags = report["flags"]
        verdict = {"run": self.run_id or os.path.basename(self.paths.root), "verdict": verdict_of(checks, flags), "flags": flags, "checks": checks}
        try:
            previous = read_json_object(os.path.join(self.dir, "record.json"), MAX_REPORT_BYTES).get("firstSeen") or {}
        except (OSError, ValueError):
            previous = {}
        seen = first_seen(flags, previous if isinstance(previous, dict) else {}, now)
        record = {
            "verdict": verdict,
            "checkedAt": now,
            "where": "host",
            "source": self.paths.root,
            "skipped": report.get("skipped") or [],
            "skippedCount": report.get("skippedCount") or 0,
            "seconds": report.get("seconds") or round((now - started) / 1000.0, 3),
            "details": [c for c in report["checks"] if isinstance(c, dict)],
            "firstSeen": seen,
            "final": final,
        }
        atomic_write(os.path.join(self.dir, "record.json"), json_bytes(record, indent=2))
        atomic_write(os.path.join(self.dir, "verdict.json"), json_bytes(verdict, indent=2))
        new = 0
        for flag in flags:
            key = flag_key(flag)
            if key in previous:
                continue
            new += 1
            self.events.write(
                "integrity-flag",
                flag=key,
                kind=flag.get("kind"),
                severity=flag.get("severity"),
                summary=str(flag.get("summary", ""))[:500],
                evidenceAt=seen[key]["evidenceAt"] or seen[key]["at"],
            )
        return verdict["verdict"], new

    def run_pass(self, final):
        """One pass; its events and files. Never raises (a failing pass is reported and the next one tries again)."""
        started = now_ms()
        verdict, new, error = None, 0, None
        try:
            report = self.run_child(final)
            if report is None:
                return None
            verdict, new = self.record(report, started, final)
        except Exception as err:  # noqa: BLE001 (reported; budget enforcement and the evaluation go on)
            error = "%s: %s" % (type(err).__name__, err)
            self.on_error("integrity pass", err)
        self.passes += 1
        self.last_pass_ms = started
        fields = {"verdict": verdict, "newFlags": new, "seconds": round((now_ms() - started) / 1000.0, 3)}
        if error:
            fields["error"] = error[:2000]
        self.events.write("integrity-final" if final else "integrity-pass", **fields)
        summary = {"verdict": verdict, "checkedAt": started, "passes": self.passes}
        if final:
            summary["finalAt"] = now_ms()
        if self.state is not None:
            previous = dict(self.state.get("integrity") or {})
            if verdict is None:
                summary["verdict"] = previous.get("verdict")
            previous.update(summary)
            self.state.update(integrity=previous)
        return verdict

    # ---- scheduling --------------------------------------------------------------------------------------------

    def live_loop(self, stop, started_ms, clock=now_ms, tick_seconds=1.0):
        """Live passes until `stop` is set (the agent stopped): one when due, never two at once."""
        while not stop.is_set():
            if live_pass_due(self.last_pass_ms, started_ms, self.plan.interval_seconds, clock()):
                self.run_pass(final=False)
            stop.wait(tick_seconds)

    def start_live(self, stop, started_ms):
        thread = threading.Thread(target=self.live_loop, args=(stop, started_ms), name="integrity-live", daemon=True)
        thread.start()
        return thread

    def start_final(self):
        """The final pass in the background (once): a live pass still running is stopped first."""
        if self.final_started:
            return
        self.final_started = True
        self.live_stopped.set()
        child = self.child
        if child is not None:
            kill_group(child)  # the cache is saved at the end of a pass: the final one reads what this one had not

        def final():
            try:
                self.run_pass(final=True)
            finally:
                self.final_done.set()

        threading.Thread(target=final, name="integrity-final", daemon=True).start()


def child_main(argv):
    """`python3 -m ptw_host.integrity_watch --nice N --memory BYTES check ...`: the checks at a low priority, within
    an address-space limit (a pass that needs more fails alone, with MemoryError in its report)."""
    nice, memory = NICE, MEMORY_LIMIT_BYTES
    while argv and argv[0] in ("--nice", "--memory"):
        if argv[0] == "--nice":
            nice = int(argv[1])
        else:
            memory = int(argv[1])
        argv = argv[2:]
    try:
        os.nice(nice)
    except OSError as err:
        log("integrity pass: could not lower its priority: %s" % err)
    try:
        import resource  # noqa: PLC0415 (POSIX only; the host is Linux)

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = memory if hard == resource.RLIM_INFINITY else min(memory, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError) as err:
        log("integrity pass: could not bound its memory: %s" % err)
    from ptw_host.integrity.cli import main  # noqa: PLC0415

    return main(argv)


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
