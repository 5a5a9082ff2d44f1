"""The supervisor's modules that need no Docker (resources/host/ptw_host), with Python's own unittest: the budget
arithmetic, control requests, the run folder's files (checked against the JSON Schema generated from
src/shared/runs), redaction, GPU sampling with a fake nvidia-smi, run.json's supervisor section, the arguments."""

import json
import os
import stat
import tempfile
import threading
import unittest

import host_support
from host_support import run_folder_schema, schema_errors
from ptw_host import budget, control, docker_api, gpu, recorder, redaction, run_config, run_folder, supervisor
from ptw_host.evaluation import Evaluator, final_model_dir, metrics_summary, read_metrics

SCHEMA = run_folder_schema()


def read_events(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class TempRun(unittest.TestCase):
    """A run folder in a temporary directory, with the folders the supervisor makes."""

    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.paths = run_folder.RunPaths(self._dir.name)
        for folder in (self.paths.record, self.paths.control, self.paths.eval, self.paths.ptw, self.paths.workspace):
            os.makedirs(folder, exist_ok=True)

    def tearDown(self):
        self._dir.cleanup()

    def assertValid(self, value, schema):
        errors = schema_errors(value, schema)
        self.assertEqual(errors, [], json.dumps(value))


class ConstantsMatchTheSchema(unittest.TestCase):
    def test_statuses_stop_reasons_and_event_types(self):
        self.assertEqual(list(run_folder.STATUSES), SCHEMA["statuses"])
        self.assertEqual(sorted(run_folder.FINAL_STATUSES), sorted(SCHEMA["statuses"][4:]))
        self.assertEqual(list(run_folder.STOP_REASONS), SCHEMA["stopReasons"])
        self.assertEqual(sorted(run_folder.EVENT_TYPES), sorted(SCHEMA["eventTypes"]))

    def test_control_actions_are_the_interventions_and_resize(self):
        interventions = next(
            option for option in SCHEMA["event"]["oneOf"] if option["properties"]["type"]["const"] == "intervention"
        )["properties"]["action"]["enum"]
        self.assertEqual(sorted(control.ACTIONS), sorted(interventions + ["resize"]))


class RunFolderFiles(TempRun):
    def test_initial_state_is_a_valid_state_json(self):
        self.assertValid(run_folder.initial_state("abc"), SCHEMA["state"])
        self.assertValid(run_folder.initial_state(None), SCHEMA["state"])

    def test_state_file_is_replaced_whole_and_stamped(self):
        state = run_folder.StateFile(self.paths.state, run_folder.initial_state("abc"))
        state.update(status="running", startedAt=1000, deadline=5000)
        state.update_evaluation(attempts=1)
        written = json.load(open(self.paths.state))
        self.assertEqual(written["status"], "running")
        self.assertEqual(written["evaluation"], {"attempts": 1, "outcome": None, "metrics": None})
        self.assertGreater(written["heartbeatAt"], 0)
        self.assertValid(written, SCHEMA["state"])
        self.assertEqual([n for n in os.listdir(self._dir.name) if n.startswith(".state.json")], [])

    def test_a_failed_state_says_why(self):
        state = run_folder.StateFile(self.paths.state, run_folder.initial_state(None))
        state.update(status="failed", error="no agent container")
        self.assertValid(json.load(open(self.paths.state)), SCHEMA["state"])

    def test_a_state_field_the_schema_does_not_declare_is_caught(self):
        bad = dict(run_folder.initial_state("abc"), surprise=1)
        self.assertTrue(schema_errors(bad, SCHEMA["state"]))

    def test_event_log_appends_one_object_a_line(self):
        events = run_folder.EventLog(self.paths.events)
        events.write("supervisor-started", pid=1, version=1, resumed=False, apiVersion="1.41")
        events.write("agent-started", deadline=2000, startedAt=1000, containerId="abc")
        written = read_events(self.paths.events)
        self.assertEqual([e["type"] for e in written], ["supervisor-started", "agent-started"])
        for event in written:
            self.assertValid(event, SCHEMA["event"])
        self.assertTrue(schema_errors({"t": 1, "type": "no-such-event"}, SCHEMA["event"]))

    def test_atomic_write_and_small_file_reads(self):
        path = os.path.join(self._dir.name, "f.json")
        run_folder.atomic_write(path, run_folder.json_bytes({"a": "é"}))
        self.assertEqual(run_folder.read_json_object(path, 100), {"a": "é"})
        with self.assertRaises(ValueError):
            run_folder.read_small_file(path, 3)
        os.symlink(path, path + ".link")
        with self.assertRaises(OSError):
            run_folder.read_small_file(path + ".link", 100)
        self.assertEqual(run_folder.read_small_file(path + ".link", 100, follow_symlinks=True), open(path, "rb").read())

    def test_one_supervisor_per_run(self):
        fd = run_folder.lock_run(self.paths)
        try:
            self.assertEqual(open(self.paths.pid_file).read(), "%d\n" % os.getpid())
            with self.assertRaises(run_folder.RunLocked):
                # flock locks belong to the open file: a second open of the same file is refused too.
                run_folder.lock_run(self.paths)
        finally:
            os.close(fd)


class Budget(unittest.TestCase):
    def test_deadline_and_extension(self):
        self.assertEqual(budget.deadline_for(1_000, 8), 9_000)
        self.assertEqual(budget.deadline_for(1_000, 0.0015), 1_002)
        self.assertEqual(budget.extended(9_000, 60), 69_000)

    def test_warnings_due_nearest_last_and_never_armed_past_the_budget(self):
        started, deadline = 0, 100_000
        warn = [3600, 60, 30]
        self.assertEqual(budget.due_warnings(warn, [], started, deadline, 10_000), [])
        self.assertEqual(budget.due_warnings(warn, [], started, deadline, 40_000), [60])
        self.assertEqual(budget.due_warnings(warn, [60], started, deadline, 75_000), [30])
        # After a resume, several can be due at once; 3600 s is more than the budget: never armed.
        self.assertEqual(budget.due_warnings(warn, [], started, deadline, 99_000), [60, 30])

    def test_an_extension_rearms_the_warnings_now_in_the_future(self):
        self.assertEqual(budget.rearm_warnings([60, 30], deadline_ms=200_000, now_ms=80_000), [])
        self.assertEqual(budget.rearm_warnings([60, 30], deadline_ms=100_000, now_ms=50_000), [60])

    def test_warning_text(self):
        self.assertEqual(budget.human_seconds(3600), "1 h")
        self.assertEqual(budget.human_seconds(300), "5 min")
        self.assertEqual(budget.human_seconds(90), "90 s")
        text = budget.warning_text(300, 3_600_000)
        self.assertTrue(text.startswith("\r\n[ptw] 5 min left") and text.endswith("\r\n"))
        self.assertIn("01:00:00 UTC", text)

    def test_stop_sequence_term_then_kill_after_grace_then_again(self):
        stop = budget.StopSequence(grace_seconds=2)
        self.assertEqual(stop.begin("budget"), "SIGTERM")
        stop.sent("SIGTERM", 10.0)
        self.assertIsNone(stop.begin("user-stop"))
        self.assertEqual(stop.reason, "budget")
        self.assertIsNone(stop.next_step(11.0))
        self.assertEqual(stop.next_step(12.0), ("signal", "SIGKILL"))
        stop.sent("SIGKILL", 12.0)
        self.assertIsNone(stop.next_step(16.9))
        self.assertEqual(stop.next_step(17.0), ("kill-again", None))
        self.assertIsNone(stop.next_step(18.0))

    def test_a_kill_overrides_and_goes_straight_to_sigkill(self):
        stop = budget.StopSequence(grace_seconds=30)
        self.assertEqual(stop.begin("user-stop"), "SIGTERM")
        stop.sent("SIGTERM", 1.0)
        self.assertEqual(stop.begin("killed", hard=True), "SIGKILL")
        self.assertEqual(stop.reason, "killed")

    def test_a_failed_sigterm_is_tried_again(self):
        stop = budget.StopSequence(grace_seconds=30)
        stop.sent("SIGTERM", 1.0)
        stop.failed(1.0)
        self.assertIsNone(stop.next_step(1.5))
        self.assertEqual(stop.next_step(2.0), ("signal", "SIGTERM"))
        self.assertIsNone(stop.next_step(2.5))


class ControlRequests(TempRun):
    def put(self, name, body, age_seconds=5):
        path = os.path.join(self.paths.control, name)
        with open(path, "w") as handle:
            handle.write(body if isinstance(body, str) else json.dumps(body))
        then = os.stat(path).st_mtime - age_seconds
        os.utime(path, (then, then))
        return path

    def test_requests_are_taken_oldest_first_and_renamed_done(self):
        self.put("b.json", {"action": "stop"}, age_seconds=5)
        self.put("a.json", {"action": "extend", "seconds": 60}, age_seconds=10)
        self.put(".tmp-c.json", {"action": "kill"})
        self.put("notes.txt", "x")
        taken = control.take_requests(self.paths.control, self.fail)
        self.assertEqual([name for name, _, _ in taken], ["a.json", "b.json"])
        self.assertEqual(sorted(os.listdir(self.paths.control)), [".tmp-c.json", "a.done", "b.done", "notes.txt"])
        self.assertEqual(control.take_requests(self.paths.control, self.fail), [])

    def test_a_broken_request_is_consumed_with_its_error_once_it_is_old_enough(self):
        self.put("fresh.json", "{", age_seconds=0)
        self.assertEqual(control.take_requests(self.paths.control, self.fail), [])
        self.put("old.json", "[1]", age_seconds=5)
        self.put("older.json", "{", age_seconds=10)
        taken = control.take_requests(self.paths.control, self.fail)
        self.assertEqual([(n, e is not None) for n, _, e in taken], [("older.json", True), ("old.json", True)])

    def fail(self, where, err):
        self.fail("%s: %s" % (where, err))

    def test_interpret(self):
        running = lambda request: control.interpret(request, None, True, None)  # noqa: E731
        self.assertEqual(running({"action": "stop", "by": "ptw"}), ("stop", "ptw", {}))
        self.assertEqual(running({"action": "kill", "by": 3}), ("kill", "app", {}))
        self.assertEqual(running({"action": "extend", "seconds": 90}), ("extend", "app", {"seconds": 90}))
        self.assertEqual(running({"action": "resize", "cols": 100, "rows": 30}), ("resize", "app", {"cols": 100, "rows": 30}))
        for bad in (
            {"action": "extend", "seconds": 0},
            {"action": "extend", "seconds": True},
            {"action": "resize", "cols": 0, "rows": 30},
            {"action": "resize", "cols": 10001, "rows": 30},
            {"action": "reboot"},
        ):
            self.assertEqual(running(bad)[0], "reject", bad)
        self.assertEqual(control.interpret(None, "not JSON", True, None), ("reject", "not JSON"))
        stopped = control.interpret({"action": "stop"}, None, False, None)
        self.assertEqual(stopped, ("reject", "the agent has already stopped"))
        # A peek is put on the record whether or not the agent still runs.
        self.assertEqual(control.interpret({"action": "peek-shell"}, None, False, None)[0], "peek-shell")
        stopping = control.interpret({"action": "extend", "seconds": 5}, None, True, "budget")
        self.assertEqual(stopping, ("reject", "the agent is already stopping (budget)"))


class Redaction(unittest.TestCase):
    def test_a_key_split_across_chunks_is_still_caught(self):
        r = redaction.StreamRedactor([("KEY", "sk-abcdefgh1234"), ("SHORT", "abc")])
        out = r.push("token sk-abcd") + r.push("efgh1234 and abc") + r.flush()
        self.assertEqual(out, "token [REDACTED:KEY] and abc")

    def test_longest_first_and_nothing_held_without_secrets(self):
        r = redaction.StreamRedactor([("A", "secret-value"), ("B", "secret-value-long")])
        self.assertEqual(r.push("x secret-value-long y") + r.flush(), "x [REDACTED:B] y")
        self.assertEqual(redaction.StreamRedactor([]).push("sk-"), "sk-")

    def test_read_secrets_from_a_pipe_and_say_how_many(self):
        data_r, data_w = os.pipe()
        ready_r, ready_w = os.pipe()
        line = {"secrets": [{"name": "K", "value": "v" * 10}], "evaluationEnv": [{"name": "G", "value": "g" * 9}, {}]}
        os.write(data_w, (json.dumps(line) + "\n").encode())
        os.close(data_w)
        secrets, env = redaction.read_secrets(data_r, ready_w, timeout=5)
        self.assertEqual(secrets, [("K", "v" * 10)])
        self.assertEqual(env, [("G", "g" * 9)])
        self.assertEqual(os.read(ready_r, 100), b"SECRETS 1 1\n")
        self.assertEqual(os.read(data_r, 10), b"")  # the fd now reads /dev/null
        os.close(data_r)
        os.close(ready_r)


class Recording(unittest.TestCase):
    def test_line_splitter_hands_on_whole_lines_across_reads(self):
        lines = []
        splitter = recorder.LineSplitter(lines.append)
        splitter.feed('plain\n{"a":')
        splitter.feed(" 1}\nno newline")
        splitter.finish()
        self.assertEqual(lines, ["plain", '{"a": 1}', "no newline"])

    def test_cast_header(self):
        self.assertEqual(
            recorder.cast_header(120, 40, 1_700_000_000_999),
            {"version": 2, "width": 120, "height": 40, "timestamp": 1_700_000_000, "env": {"TERM": "xterm-256color"}},
        )

    def test_demuxer_and_docker_times(self):
        demuxer = docker_api.StreamDemuxer()
        frame = b"\x01\x00\x00\x00\x00\x00\x00\x02hi" + b"\x02\x00\x00\x00\x00\x00\x00\x03err"
        self.assertEqual(demuxer.feed(frame[:5]), [])
        self.assertEqual(demuxer.feed(frame[5:]), [(1, b"hi"), (2, b"err")])
        self.assertEqual(docker_api.parse_docker_time("2026-11-23T12:00:00.123456789Z") % 1000, 123)
        self.assertIsNone(docker_api.parse_docker_time("0001-01-01T00:00:00Z"))
        self.assertEqual(docker_api.api_version_tuple("1.44"), (1, 44))


FAKE_SMI_CSV = os.path.join(
    host_support.FIXTURES, "nvidia-smi", "extracted", "h100-80gb-hbm3__load__query-gpu-all-fields.csv.txt"
)


def fake_nvidia_smi(folder, exit_code=0):
    """An nvidia-smi that answers the supervisor's one query from the real H100 capture (test/fixtures/nvidia-smi),
    projecting the queried columns out of the all-fields CSV, without units, as the real one does."""
    with open(FAKE_SMI_CSV, encoding="utf-8") as handle:
        rows = [[cell.strip() for cell in line.split(",")] for line in handle.read().splitlines() if line.strip()]
    header = [name.split(" [")[0] for name in rows[0]]
    wanted = gpu.GPU_QUERY.split(",")
    out = []
    for row in rows[1:]:
        cells = [row[header.index(name)].split(" ")[0] for name in wanted]
        out.append(", ".join(cells))
    path = os.path.join(folder, "nvidia-smi")
    with open(path, "w") as handle:
        handle.write("#!/bin/sh\n")
        handle.write('[ "$1" = "--query-gpu=%s" ] || { echo "bad query $1" >&2; exit 2; }\n' % gpu.GPU_QUERY)
        handle.write("cat <<'EOF'\n%s\nEOF\nexit %d\n" % ("\n".join(out), exit_code))
    os.chmod(path, 0o755)
    return out


class GpuSampling(TempRun):
    def which(self, name):
        return os.path.join(self._dir.name, name) if os.path.exists(os.path.join(self._dir.name, name)) else None

    def test_rows_are_stamped_and_filtered_by_index(self):
        self.assertEqual(gpu.gpu_rows("0, 5, 1\n1, 7, 2\n\n", {"1"}, 42), ["42, 1, 7, 2\n"])
        self.assertEqual(len(gpu.gpu_rows("0, 5\n1, 7\n", set(), 42)), 2)

    def test_a_sample_from_the_h100_capture(self):
        lines = fake_nvidia_smi(self._dir.name)
        rows = gpu.take_sample({"0"}, which=self.which)
        self.assertEqual(len(rows), 1)
        self.assertTrue(rows[0].endswith(", %s\n" % lines[0]))
        self.assertEqual(len(rows[0].split(",")), 1 + len(gpu.GPU_QUERY.split(",")))
        with self.assertRaises(RuntimeError):
            gpu.take_sample({"7"}, which=self.which)

    def test_the_sampler_writes_gpu_csv_and_one_event_per_change(self):
        fake_nvidia_smi(self._dir.name)
        stop = threading.Event()
        events = []

        def report(type_, **fields):
            events.append(dict(fields, type=type_, t=1))
            stop.set()  # one sample is enough

        gpu.sample_gpus(self.paths.gpu_csv, [0], stop, report, self.fail, which=self.which)
        self.assertEqual(len(open(self.paths.gpu_csv).read().splitlines()), 1)
        self.assertEqual(events, [{"type": "gpu-sampling", "t": 1, "available": True, "error": None, "gpuIndices": [0]}])
        for event in events:
            self.assertValid(event, SCHEMA["event"])

    def test_no_nvidia_smi_is_said_once_and_not_retried(self):
        events = []
        gpu.sample_gpus(
            self.paths.gpu_csv, [], threading.Event(), lambda t, **f: events.append(dict(f, type=t, t=1)), self.fail,
            which=lambda name: None,
        )
        self.assertEqual([(e["available"], "PATH" in e["error"]) for e in events], [(False, True)])
        self.assertValid(events[0], SCHEMA["event"])


PLAN = {
    "agentContainerId": "abc",
    "budgetSeconds": 600,
    "graceSeconds": 30,
    "warnSecondsBefore": [60, 300, 60],
    "gpuIndices": [0, 1],
    "sampleGpus": True,
    "tty": {"cols": 120, "rows": 40},
    "evaluation": {
        "image": "ptb/eval:1",
        "workdir": "/eval/task",
        "command": ["python3", "evaluate.py"],
        "attempts": [{"extraArgs": [], "timeoutSeconds": 60}],
        "deviceRequests": [],
        "networkMode": "none",
        "labels": {"ptw.run-dir": "/runs/r"},
        "user": "61000:61000",
        "pidsLimit": 4096,
    },
}


class SupervisorSection(unittest.TestCase):
    def test_the_plan_is_what_the_schema_declares_and_the_config_reads_it(self):
        self.assertEqual(schema_errors(PLAN, SCHEMA["runJsonSupervisor"]), [])
        config = run_config.SupervisorConfig({"id": "r-1", "supervisor": PLAN}, None)
        self.assertEqual(config.container_id, "abc")
        self.assertEqual(config.warn_seconds, [300, 60])
        self.assertEqual((config.cols, config.rows), (120, 40))
        self.assertEqual(config.evaluation.uid, 61000)
        self.assertIsNone(config.evaluation_error)
        self.assertEqual(run_config.SupervisorConfig({"supervisor": PLAN}, "override").container_id, "override")

    def test_a_bad_section_names_the_field(self):
        for change, field in (
            ({"budgetSeconds": 0}, "budgetSeconds"),
            ({"graceSeconds": -1}, "graceSeconds"),
            ({"warnSecondsBefore": [0]}, "warnSecondsBefore"),
            ({"gpuIndices": [True]}, "gpuIndices"),
            ({"tty": {"cols": 0}}, "tty"),
        ):
            with self.assertRaises(run_config.ConfigError) as caught:
                run_config.SupervisorConfig({"supervisor": dict(PLAN, **change)}, None)
            self.assertIn(field, str(caught.exception))
            self.assertTrue(schema_errors(dict(PLAN, **change), SCHEMA["runJsonSupervisor"]), change)

    def test_a_bad_evaluation_is_kept_for_later(self):
        config = run_config.SupervisorConfig({"supervisor": dict(PLAN, evaluation={"image": "x"})}, None)
        self.assertIsNone(config.evaluation)
        self.assertIn("command", config.evaluation_error)


class Evaluation(TempRun):
    def evaluator(self, plan=PLAN):
        self.errors = []
        config = run_config.SupervisorConfig({"id": "r-1", "supervisor": plan}, None)
        state = run_folder.StateFile(self.paths.state, run_folder.initial_state("abc"))
        events = run_folder.EventLog(self.paths.events)
        return Evaluator(
            self.paths, None, config, state, events, [], [],
            safe_event=events.write,
            thread_error=lambda where, err: self.errors.append(where),
            sleep=lambda seconds: None,
            check_shutdown=lambda: None,
        )

    def check_files(self):
        self.assertValid(json.load(open(self.paths.state)), SCHEMA["state"])
        for event in read_events(self.paths.events):
            self.assertValid(event, SCHEMA["event"])

    def test_no_final_model_is_no_model(self):
        self.assertEqual(self.evaluator().run(), 0)
        self.assertEqual(json.load(open(self.paths.state))["status"], "no-model")
        self.assertEqual(json.load(open(self.paths.eval_json))["reason"], "workspace/final_model/ does not exist")
        self.check_files()

    def test_no_usable_evaluation_plan_is_evaluation_failed(self):
        os.makedirs(os.path.join(self.paths.workspace, "final_model"))
        open(os.path.join(self.paths.workspace, "final_model", "config.json"), "w").close()
        self.evaluator(dict(PLAN, evaluation={"image": "x"})).run()
        self.assertEqual(json.load(open(self.paths.state))["status"], "evaluation-failed")
        self.assertEqual(
            [e["type"] for e in read_events(self.paths.events)], ["supervisor-error", "evaluation-finished"]
        )
        self.check_files()

    def test_final_model_must_be_a_folder_in_the_workspace_with_a_config(self):
        model = os.path.join(self.paths.workspace, "final_model")
        self.assertEqual(final_model_dir(self.paths.workspace)[1], "workspace/final_model/ does not exist")
        os.symlink(self._dir.name, model)
        self.assertEqual(final_model_dir(self.paths.workspace)[1], "workspace/final_model points outside the workspace")
        os.unlink(model)
        os.makedirs(model)
        self.assertEqual(final_model_dir(self.paths.workspace)[1], "workspace/final_model/ has no config.json")
        open(os.path.join(model, "config.json"), "w").close()
        self.assertEqual(final_model_dir(self.paths.workspace), (os.path.realpath(model), None))

    def test_metrics(self):
        out = self.paths.eval_out
        os.makedirs(out)
        self.assertEqual(read_metrics(out)[2], "the evaluation wrote no metrics.json")
        with open(os.path.join(out, "metrics.json"), "w") as handle:
            json.dump({"accuracy": 0.5, "stderr": 0.01, "n": True, "by": {"x": 1}}, handle)
        data, metrics, why = read_metrics(out)
        self.assertIsNone(why)
        self.assertEqual(metrics_summary(metrics), {"accuracy": 0.5, "stderr": 0.01})
        with open(os.path.join(out, "metrics.json"), "w") as handle:
            json.dump({"score": 1}, handle)
        self.assertEqual(read_metrics(out)[2], "metrics.json has no numeric accuracy")


class Arguments(TempRun):
    def test_the_flags_the_app_passes(self):
        args = supervisor.parse_args(
            ["--run-dir", "/r", "--docker-socket", "/s", "--agent-container", "c", "--resume", "--secrets-stdin",
             "--ready-fd", "3"]
        )
        self.assertEqual(
            (args.run_dir, args.docker_socket, args.agent_container, args.resume, args.secrets_stdin, args.ready_fd),
            ("/r", "/s", "c", True, True, 3),
        )
        defaults = supervisor.parse_args(["--run-dir", "/r"])
        self.assertEqual((defaults.docker_socket, defaults.resume, defaults.api_version), ("/var/run/docker.sock", False, None))

    def test_a_run_folder_without_run_json_fails_with_a_valid_state(self):
        with open(os.devnull, "w") as quiet:
            saved = os.dup(2)
            os.dup2(quiet.fileno(), 2)
            try:
                code = supervisor.main(["--run-dir", self._dir.name, "--docker-socket", "/nonexistent"])
            finally:
                os.dup2(saved, 2)
                os.close(saved)
        self.assertEqual(code, 1)
        state = json.load(open(self.paths.state))
        self.assertEqual(state["status"], "failed")
        self.assertIn("run.json", state["error"])
        self.assertValid(state, SCHEMA["state"])
        for event in read_events(self.paths.events):
            self.assertValid(event, SCHEMA["event"])
        self.assertEqual(stat.S_IMODE(os.stat(self._dir.name).st_mode), 0o700)

    def test_a_started_run_is_only_resumed_with_resume(self):
        run_folder.atomic_write(self.paths.state, run_folder.json_bytes(run_folder.initial_state("abc")))
        with open(os.devnull, "w") as quiet:
            saved = os.dup(2)
            os.dup2(quiet.fileno(), 2)
            try:
                self.assertEqual(supervisor.main(["--run-dir", self._dir.name]), 2)
            finally:
                os.dup2(saved, 2)
                os.close(saved)


if __name__ == "__main__":
    unittest.main()
