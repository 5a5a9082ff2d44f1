"""The supervisor's integrity passes (resources/host/ptw_host/integrity_watch.py) and what makes them incremental: a
grown JSONL or trace re-read from where the last pass stopped (issue 13). Real child processes and files, no Docker.

Run by test/unit/host/python-unittest.test.ts with the machine's python3 (no numpy needed)."""

import importlib.util
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

from host_support import REPO, run_folder_schema, schema_errors

from ptw_host import integrity_watch as watch_module
from ptw_host.evaluation import Evaluator
from ptw_host.integrity import checks, cli
from ptw_host.integrity_watch import IntegrityPlan, IntegrityWatch, first_seen, flag_key, live_pass_due, verdict_of
from ptw_host.run_folder import EventLog, RunPaths, StateFile, initial_state

spec = importlib.util.spec_from_file_location("integrity_scenarios", os.path.join(REPO, "test", "generators", "integrity_scenarios.py"))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)


def read_events(paths):
    with open(paths.events, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class RunFolder:
    """A run folder as the launcher lays it out, with GSM8K's first test items as the test set."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ptw-watch-")
        self.root = os.path.join(self.dir, "run")
        for sub in ("workspace", "record", "task", "eval", "control"):
            os.makedirs(os.path.join(self.root, sub))
        self.tests = gen.load_test_items()
        gen.write_jsonl(os.path.join(self.dir, "test-sets", "gsm8k.jsonl"), self.tests)
        self.paths = RunPaths(self.root)
        self.events = EventLog(self.paths.events)
        self.state = StateFile(self.paths.state, initial_state("c1"))
        self.errors = []
        self.plan = IntegrityPlan({"intervalSeconds": 0.3, "benchmark": "gsm8k", "testSetsDirs": [os.path.join(self.dir, "test-sets")], "hfCaches": [], "ownKeys": ["ANTHROPIC_API_KEY"], "pairs": []})

    def watch(self):
        return IntegrityWatch(self.paths, self.plan, "r-20260101-000000-abcd", self.events, self.state, lambda where, err: self.errors.append((where, err)))

    def write(self, rel, rows, mode="w"):
        with open(os.path.join(self.paths.workspace, rel), mode, encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")

    def record(self):
        with open(os.path.join(self.root, "integrity", "record.json"), encoding="utf-8") as handle:
            return json.load(handle)

    def close(self):
        self.events._file.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def contamination(record):
    return next(d for d in record["details"] if d["kind"] == "contamination")


class PureRulesTest(unittest.TestCase):
    def test_a_live_pass_is_due_an_interval_after_the_last_one_or_the_agent_start(self):
        self.assertFalse(live_pass_due(None, 1000, 300, 1000 + 299_999))
        self.assertTrue(live_pass_due(None, 1000, 300, 1000 + 300_000))
        self.assertFalse(live_pass_due(500_000, 1000, 300, 700_000))
        self.assertTrue(live_pass_due(500_000, 1000, 300, 800_000))

    def test_verdict_rules_match_the_app(self):
        every = [{"kind": k, "status": "pass"} for k in watch_module.CHECK_KINDS]
        self.assertEqual(verdict_of(every, []), "clean")
        self.assertEqual(verdict_of(every, [{"severity": "info"}]), "clean")
        self.assertEqual(verdict_of(every[:3] + [{"kind": "api_misuse", "status": "not-run"}], []), "incomplete")
        self.assertEqual(verdict_of(every[:3], [{"severity": "medium"}]), "flagged")

    def test_flag_key_hashes_utf16_code_units_like_flagKey(self):
        # FNV-1a 32 over UTF-16 code units: "a" is one unit 0x61; a character past the BMP is two (a surrogate pair).
        h = (2166136261 ^ 0x61) * 16777619 & 0xFFFFFFFF
        self.assertEqual(flag_key({"kind": "api_misuse", "summary": "a"}), "api_misuse:%08x" % h)
        h2 = 2166136261
        for unit in (0xD83D, 0xDE00):
            h2 = (h2 ^ unit) * 16777619 & 0xFFFFFFFF
        self.assertEqual(flag_key({"kind": "contamination", "summary": "\U0001F600"}), "contamination:%08x" % h2)

    def test_first_seen_keeps_the_earlier_moment_and_takes_the_evidence_time_for_new_flags(self):
        old = {"kind": "contamination", "summary": "old", "evidence": [{"mtime": 5}]}
        new = {"kind": "api_misuse", "summary": "new", "evidence": [{"mtime": 9}, {"mtime": 7}, {"mtime": None}]}
        seen = first_seen([old, new], {flag_key(old): {"at": 1, "evidenceAt": 5}}, 100)
        self.assertEqual(seen[flag_key(old)], {"at": 1, "evidenceAt": 5})
        self.assertEqual(seen[flag_key(new)], {"at": 100, "evidenceAt": 7})

    def test_a_plan_the_supervisor_cannot_use_names_the_field(self):
        with self.assertRaisesRegex(watch_module.PlanError, "intervalSeconds"):
            IntegrityPlan({"intervalSeconds": 0})
        with self.assertRaisesRegex(watch_module.PlanError, "testSetsDirs"):
            IntegrityPlan({"testSetsDirs": "x"})


class PassesTest(unittest.TestCase):
    def setUp(self):
        self.run = RunFolder()
        self.addCleanup(self.run.close)

    def test_a_pass_writes_the_verdict_and_one_flag_event_per_new_flag_with_when_the_evidence_appeared(self):
        run = self.run
        run.write("train.jsonl", gen.synthetic_rows(1, 30))
        watch = run.watch()
        self.assertEqual(watch.run_pass(final=False), "incomplete")  # no weights, no HF cache: substitution not-run
        self.assertEqual(run.errors, [])
        first = contamination(run.record())
        self.assertGreater(first["bytesScanned"], 0)
        # The agent copies a test item into a new file: the next pass flags it, once, at the file's mtime.
        run.write("more.jsonl", [gen.chat_row(run.tests[3]["question"], run.tests[3]["answer"])])
        mtime = int(os.lstat(os.path.join(run.paths.workspace, "more.jsonl")).st_mtime * 1000)
        self.assertEqual(watch.run_pass(final=False), "flagged")
        self.assertEqual(watch.run_pass(final=False), "flagged")
        events = read_events(run.paths)
        flags = [e for e in events if e["type"] == "integrity-flag"]
        self.assertEqual(len(flags), 1)
        self.assertEqual((flags[0]["kind"], flags[0]["severity"]), ("contamination", "high"))
        self.assertEqual(flags[0]["evidenceAt"], mtime)
        self.assertEqual([e["type"] for e in events if e["type"].startswith("integrity-pass")], ["integrity-pass"] * 3)
        with open(os.path.join(run.root, "integrity", "verdict.json"), encoding="utf-8") as handle:
            verdict = json.load(handle)
        self.assertEqual(sorted(verdict), ["checks", "flags", "run", "verdict"])
        self.assertEqual(verdict["verdict"], "flagged")
        self.assertEqual(run.state.get("integrity")["passes"], 3)
        self.assertEqual(contamination(run.record())["bytesScanned"], 0)  # nothing changed since the second pass
        schema = run_folder_schema()
        for event in events:
            self.assertEqual(schema_errors(event, schema["event"]), [], event)
        self.assertEqual(schema_errors(run.state.data, schema["state"]), [])

    def test_a_grown_jsonl_and_trace_are_read_from_where_the_last_pass_stopped(self):
        run = self.run
        rows = gen.synthetic_rows(2, 200)
        run.write("train.jsonl", rows)
        with open(run.paths.agent_stream, "w", encoding="utf-8") as handle:
            handle.write(json.dumps({"type": "assistant", "message": {"content": [{"type": "tool_use", "input": {"command": "ls"}}]}}) + "\n" * 1)
            handle.write("".join(json.dumps({"type": "note", "text": "x" * 100}) + "\n" for _ in range(60)))
        watch = run.watch()
        watch.run_pass(final=False)
        # The agent appends a test item to its training file and an API call to its trace.
        item = run.tests[5]
        appended = json.dumps(gen.chat_row(item["question"], item["answer"])) + "\n"
        with open(os.path.join(run.paths.workspace, "train.jsonl"), "a", encoding="utf-8") as handle:
            handle.write(appended)
        call = json.dumps({"type": "assistant", "message": {"content": [{"type": "tool_use", "input": {"command": "curl https://api.openai.com/v1/chat/completions"}}]}}) + "\n"
        with open(run.paths.agent_stream, "a", encoding="utf-8") as handle:
            handle.write(call)
        self.assertEqual(watch.run_pass(final=False), "flagged")
        record = run.record()
        self.assertEqual(contamination(record)["bytesScanned"], len(appended.encode()) + len(call.encode()))
        hit = next(f for f in record["verdict"]["flags"] if f["kind"] == "contamination" and f["severity"] == "high")
        self.assertEqual([(e["file"], e["line"], e["item"]) for e in hit["evidence"]], [("workspace/train.jsonl", 201, 5)])
        api = next(f for f in record["verdict"]["flags"] if f["kind"] == "api_misuse")
        self.assertEqual([(e["file"], e["line"]) for e in api["evidence"]], [("record/agent-stream.jsonl", 62)])
        # The same as a pass that reads everything afresh (no cache).
        fresh = checks.run_checks(cli.build_parser().parse_args(watch_module.check_argv(run.paths, run.plan, os.path.join(run.dir, "none.json"))))
        strip = lambda flags: [(f["kind"], f["severity"], f["summary"], [(e.get("file"), e.get("line"), e.get("item"), e.get("coverage")) for e in f["evidence"]]) for f in flags]  # noqa: E731
        self.assertEqual(strip(record["verdict"]["flags"]), strip(fresh["flags"]))

    def test_a_rewritten_file_is_read_whole_again(self):
        run = self.run
        run.write("train.jsonl", gen.synthetic_rows(3, 100))
        watch = run.watch()
        watch.run_pass(final=False)
        size = os.path.getsize(os.path.join(run.paths.workspace, "train.jsonl"))
        # Same start, different bytes before the old end, longer: not an append.
        rows = gen.synthetic_rows(3, 100)
        rows[60] = gen.chat_row(run.tests[2]["question"], run.tests[2]["answer"])
        run.write("train.jsonl", rows + gen.synthetic_rows(4, 5))
        self.assertEqual(watch.run_pass(final=False), "flagged")
        self.assertGreater(contamination(run.record())["bytesScanned"], size)

    def test_live_passes_come_every_interval_one_at_a_time_until_the_agent_stops(self):
        run = self.run
        run.write("train.jsonl", gen.synthetic_rows(5, 10))
        watch = run.watch()
        stop = threading.Event()
        started = watch_module.now_ms()
        thread = watch.start_live(stop, started)
        deadline = time.time() + 30
        while watch.passes < 2 and time.time() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join(30)
        self.assertFalse(thread.is_alive())
        passes = [e for e in read_events(run.paths) if e["type"] == "integrity-pass"]
        self.assertGreaterEqual(len(passes), 2)
        # None before the first interval; each after the one before had finished and an interval had passed.
        self.assertGreaterEqual(passes[0]["t"] - started, 300)
        for a, b in zip(passes, passes[1:]):
            self.assertGreaterEqual(b["t"] - a["t"], 300)

    def test_the_final_pass_stops_a_live_one_and_the_score_waits_for_it(self):
        run = self.run
        run.write("train.jsonl", [gen.chat_row(run.tests[0]["question"], run.tests[0]["answer"])])
        watch = run.watch()
        # A live pass that would run long (a slow host; here a python that only sleeps): the final pass stops it.
        slow = threading.Thread(target=watch.run_pass, kwargs={"final": False})
        watch.python = os.path.join(run.dir, "slow-python")
        with open(watch.python, "w", encoding="utf-8") as handle:
            handle.write('#!/bin/sh\nsleep 30\n')
        os.chmod(watch.python, 0o755)
        slow.start()
        deadline = time.time() + 10
        while watch.child is None and time.time() < deadline:
            time.sleep(0.02)
        watch.python = sys.executable
        began = time.time()
        # The evaluation's end as the Evaluator writes it (no model: nothing to run), behind the final pass.
        held = []

        def before_publish():
            watch.start_final()
            watch.final_done.wait(60)
            held.append(watch.final_done.is_set())

        config = type("Config", (), {"evaluation": None, "evaluation_error": None, "run_id": None})()
        evaluator = Evaluator(run.paths, None, config, run.state, run.events, [], [], lambda *a, **k: None, lambda *a: None, time.sleep, lambda: None, before_publish=before_publish)
        self.assertEqual(evaluator.run(), 0)
        slow.join(30)
        self.assertLess(time.time() - began, 20)
        self.assertEqual(held, [True])
        types = [e["type"] for e in read_events(run.paths)]
        self.assertNotIn("integrity-pass", types)  # the cancelled live pass reports nothing
        self.assertLess(types.index("integrity-final"), types.index("evaluation-finished"))
        final = next(e for e in read_events(run.paths) if e["type"] == "integrity-final")
        self.assertEqual(final["verdict"], "flagged")
        self.assertEqual(run.state.get("status"), "no-model")
        self.assertIsNotNone(run.state.get("integrity")["finalAt"])
        self.assertTrue(run.record()["final"])
        # A supervisor resumed after the final pass does not run it again.
        again = run.watch()
        self.assertTrue(again.final_done.is_set())


if __name__ == "__main__":
    unittest.main()
