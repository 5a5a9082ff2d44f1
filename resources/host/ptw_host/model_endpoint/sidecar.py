"""The supervisor's side of a scripted run's model endpoint container (src/main/runs/model-endpoint.ts): the problem
that stopped its replay written to events.jsonl as soon as it is seen, naming the turn; the agent stopped by the
supervisor if it has not exited on the endpoint's error within MODEL_PROBLEM_GRACE_SECONDS; the container removed with
the agent's."""

import json
import os

PROBLEMS_FILE = os.path.join("endpoint", "out", "problems.jsonl")
MAX_PROBLEM_BYTES = 64 * 1024
# The CLIs stop on the endpoint's 400 by themselves; one that keeps going this long after the problem is stopped.
MODEL_PROBLEM_GRACE_SECONDS = 30.0
# The problems file is read this often while the agent runs (the supervisor's loop ticks far more often).
PROBLEM_CHECK_SECONDS = 1.0


def endpoint_problems(run_dir):
    """The endpoint's problem lines ([{"turn", "message"}]); none when the run had no endpoint or it found none."""
    path = os.path.join(run_dir, PROBLEMS_FILE)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_PROBLEM_BYTES)
    except OSError:
        return []
    problems = []
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("turn"), int) and isinstance(entry.get("message"), str):
            problems.append({"turn": max(1, entry["turn"]), "message": entry["message"][:2000]})
    return problems


def model_problem_stop_due(problem_seen_at, now, stop_reason, grace_seconds=MODEL_PROBLEM_GRACE_SECONDS):
    """Whether the supervisor should stop the agent now: a problem was seen `grace_seconds` or more ago (monotonic
    seconds) and no stop is under way already (a user's stop, the budget or a kill keeps its own reason)."""
    return problem_seen_at is not None and stop_reason is None and now - problem_seen_at >= grace_seconds


class ProblemWatch:
    """The endpoint's problems while the agent runs: new lines (to be written as events) and when the first was seen.
    Times are monotonic seconds, passed in."""

    def __init__(self, run_dir, grace_seconds=MODEL_PROBLEM_GRACE_SECONDS, reported=0, now=None):
        """`reported`: problems already written as events (a resumed supervisor's); their grace starts at `now`."""
        self.run_dir = run_dir
        self.grace_seconds = grace_seconds
        self.reported = reported
        self.first_seen_at = now if reported > 0 else None
        self.next_check_at = None

    def poll(self, now):
        """The problems not reported yet (none between checks); each is reported once."""
        if self.next_check_at is not None and now < self.next_check_at:
            return []
        self.next_check_at = now + PROBLEM_CHECK_SECONDS
        problems = endpoint_problems(self.run_dir)
        new = problems[self.reported :]
        self.reported = len(problems)
        if new and self.first_seen_at is None:
            self.first_seen_at = now
        return new

    def stop_due(self, now, stop_reason):
        return model_problem_stop_due(self.first_seen_at, now, stop_reason, self.grace_seconds)


def problems_recorded(events_path):
    """How many model-endpoint-problem events events.jsonl already holds (0 when it cannot be read)."""
    count = 0
    try:
        with open(events_path, "rb") as handle:
            for line in handle:
                if b"model-endpoint-problem" not in line:
                    continue
                try:
                    if json.loads(line).get("type") == "model-endpoint-problem":
                        count += 1
                except (ValueError, AttributeError):
                    continue
    except OSError:
        return 0
    return count


def finish_model_endpoint(docker, run_id, run_dir, write_event, on_error, reported=0):
    """Removes the run's endpoint container(s) and reports their problems (but the first `reported`, already written
    while the agent ran); a run without one is left as it is."""
    if not run_id:
        return
    try:
        containers = docker.list_containers(["ptw.run=%s" % run_id, "ptw.role=model-endpoint"])
    except Exception as err:
        on_error("listing the model endpoint container failed: %s" % err)
        return
    if not containers:
        return
    for container in containers:
        try:
            docker.remove(container["Id"])
        except Exception as err:
            on_error("removing the model endpoint container failed: %s" % err)
    for problem in endpoint_problems(run_dir)[reported:]:
        write_event("model-endpoint-problem", turn=problem["turn"], message=problem["message"])
