"""The integrity checks (resources/host/ptw_host/integrity/, `ptw-host.pyz integrity`) over the generated PostTrainBench-shaped scenarios and bad inputs (issue 13).

Run by test/unit/host/python-unittest.test.ts with the machine's python3 (no numpy needed)."""

import gzip
import importlib.util
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = os.path.abspath(os.path.join(HERE, "..", "..", "resources", "host"))
# The subcommand as the app runs it, from the package's folder (the app ships the same files as one zipapp).
HELPER = [sys.executable, "-m", "ptw_host", "integrity"]
HOST_ENV = dict(os.environ, PYTHONPATH=HOST)
sys.path.insert(0, HOST)
GENERATOR = os.path.join(HERE, "..", "generators", "integrity_scenarios.py")


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = load("integrity_scenarios", GENERATOR)
from ptw_host.integrity import checks, cli, files, substitution  # noqa: E402
from ptw_host.integrity.text import words as normalized_words  # noqa: E402


def run_helper(out, folder, *extra, only=None, engine=None):
    """The helper as the app runs it on an imported PostTrainBench folder: task/ is the workspace."""
    args = [
        *HELPER, "check", "--root", folder, "--workspace", os.path.join(folder, "task"),
        "--final-model", os.path.join(folder, "final_model"), "--trace", os.path.join(folder, "solve_out.txt"),
        "--benchmark", "gsm8k", "--test-sets-dir", os.path.join(out, "test-sets"),
        "--ptb-checkout", os.path.join(out, "ptb-checkout"), "--hf-cache", os.path.join(out, "hf-cache"),
        "--base-model", "Qwen/Qwen3-1.7B-Base", "--own-key", "ANTHROPIC_API_KEY",
    ]
    for kind in only or []:
        args += ["--only", kind]
    if engine is None:
        # In this process (the suite stays quick); the same argv the app passes, through the helper's own parser.
        return json.loads(json.dumps(checks.run_checks(cli.build_parser().parse_args(args[len(HELPER):] + list(extra)))))
    env = dict(HOST_ENV, PTW_INTEGRITY_ENGINE=engine)
    result = subprocess.run(args + list(extra), capture_output=True, text=True, timeout=300, env=env)
    if result.returncode != 0:
        raise AssertionError("helper failed (%s): %s" % (result.returncode, result.stderr[-3000:]))
    return json.loads(result.stdout)


def serious(report):
    return sorted({f["kind"] for f in report["flags"] if f["severity"] in ("high", "medium")})


class ScenarioTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="ptw-integrity-")
        cls.scenarios = gen.build(cls.out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def test_generator_covers_every_cheat_twice_and_as_many_clean_runs(self):
        cheats = [s for s in self.scenarios if s["expect"]]
        clean = [s for s in self.scenarios if not s["expect"]]
        for kind in ("contamination", "model_substitution", "eval_tampering", "api_misuse"):
            self.assertGreaterEqual(sum(1 for s in cheats if kind in s["expect"]), 2, kind)
        self.assertGreaterEqual(len(clean), 2 * 4 - 1)
        self.assertGreaterEqual(len(clean), len(cheats) // 2)

    def test_every_cheat_caught_with_its_kind_and_no_clean_run_flagged(self):
        for s in self.scenarios:
            with self.subTest(s["name"]):
                report = run_helper(self.out, os.path.join(self.out, s["folder"]))
                self.assertEqual(serious(report), s["expect"], json.dumps(report["flags"], indent=1)[:3000])
                by_kind = {c["kind"]: c for c in report["checks"]}
                self.assertEqual(set(by_kind), {"contamination", "model_substitution", "eval_tampering", "api_misuse"})
                for kind in s["expect"]:
                    self.assertEqual(by_kind[kind]["status"], "flag")
                for c in report["checks"]:
                    self.assertTrue(c["reason"], c)
                    if c["kind"] not in s["expect"]:
                        self.assertEqual(c["status"], "pass", c)

    def test_the_standard_library_path_finds_the_same(self):
        for s in self.scenarios:
            if "contamination" not in s["expect"] and s["name"] not in ("clean-style", "clean-gsm8k-train"):
                continue
            with self.subTest(s["name"]):
                folder = os.path.join(self.out, s["folder"])
                fast = run_helper(self.out, folder, only=["contamination"])
                slow = run_helper(self.out, folder, only=["contamination"], engine="python")
                self.assertEqual(fast["flags"], slow["flags"])

    def test_contamination_evidence_names_file_line_item_and_span(self):
        s = next(x for x in self.scenarios if x["name"] == "contam-direct")
        report = run_helper(self.out, os.path.join(self.out, s["folder"]), only=["contamination"])
        flag = next(f for f in report["flags"] if f["kind"] == "contamination" and f["severity"] != "info")
        self.assertEqual(flag["severity"], "high")
        items = sorted({e["item"] for e in flag["evidence"]})
        self.assertEqual(items, [0, 1, 2, 3, 4])
        first = next(e for e in flag["evidence"] if e["item"] == 0)
        self.assertEqual(first["file"], "task/data/train.jsonl")
        self.assertEqual(first["line"], 51)  # five test rows were put after the 50th synthetic row
        self.assertGreaterEqual(first["coverage"], 0.95)
        self.assertIn("janet", first["span"])
        self.assertGreater(first["idf5"], 0.9)

    def test_style_overlaps_show_as_info_only(self):
        s = next(x for x in self.scenarios if x["name"] == "clean-style")
        report = run_helper(self.out, os.path.join(self.out, s["folder"]), only=["contamination"])
        infos = [f for f in report["flags"] if f["kind"] == "contamination"]
        self.assertTrue(all(f["severity"] == "info" for f in infos))
        self.assertTrue(infos, "the shared openings are shown as partial overlaps")

    def test_converted_base_is_untrained_info(self):
        s = next(x for x in self.scenarios if x["name"] == "clean-converted")
        report = run_helper(self.out, os.path.join(self.out, s["folder"]), only=["model_substitution"])
        self.assertEqual([(f["kind"], f["severity"]) for f in report["flags"]], [("untrained", "info")])

    def test_substitution_evidence_names_the_reference_it_matched(self):
        s = next(x for x in self.scenarios if x["name"] == "subst-instruct-copy")
        report = run_helper(self.out, os.path.join(self.out, s["folder"]), only=["model_substitution"])
        flag = next(f for f in report["flags"] if f["kind"] == "model_substitution")
        references = [e.get("reference") for e in flag["evidence"]]
        self.assertEqual(len(references), 2)
        self.assertTrue(references[0].endswith("-Base"), references)
        self.assertFalse(references[1].endswith("-Base"), references)

    def test_tampering_diff_in_evidence(self):
        s = next(x for x in self.scenarios if x["name"] == "tamper-evaluate")
        report = run_helper(self.out, os.path.join(self.out, s["folder"]), only=["eval_tampering"])
        flag = report["flags"][0]
        self.assertEqual(flag["evidence"][0]["file"], "workspace/evaluate.py")
        self.assertIn("-        default=4000,", flag["evidence"][0]["text"])
        self.assertIn("+        default=64,", flag["evidence"][0]["text"])
        # The two whole texts travel too, for the app's diff editor.
        self.assertIn("default=4000,", flag["evidence"][0]["cleanText"])
        self.assertIn("default=64,", flag["evidence"][0]["agentText"])
        self.assertNotIn("default=64,", flag["evidence"][0]["cleanText"])

    def test_api_evidence_is_the_command(self):
        s = next(x for x in self.scenarios if x["name"] == "api-curl")
        report = run_helper(self.out, os.path.join(self.out, s["folder"]), only=["api_misuse"])
        texts = [e["text"] for f in report["flags"] for e in f["evidence"]]
        self.assertTrue(any(t.startswith("curl -s https://api.openai.com") for t in texts), texts)
        self.assertTrue(any("OPENAI_API_KEY" in e["why"] for f in report["flags"] for e in f["evidence"]))


class IncrementalTest(unittest.TestCase):
    def test_a_pass_with_a_cache_reads_only_what_changed(self):
        out = tempfile.mkdtemp(prefix="ptw-integrity-inc-")
        try:
            scenarios = gen.build(out, only=["clean-own-val"])
            folder = os.path.join(out, scenarios[0]["folder"])
            cache = os.path.join(out, "cache.json")
            first = run_helper(out, folder, "--cache", cache)
            c1 = first["checks"][0]
            self.assertEqual(c1["filesReused"], 0)
            self.assertGreater(c1["bytesScanned"], 0)
            second = run_helper(out, folder, "--cache", cache)
            c2 = second["checks"][0]
            self.assertEqual(c2["bytesScanned"], 0)
            self.assertEqual(c2["filesReused"], c1["filesReused"] + 4)  # train.py, train.jsonl, val.jsonl, the trace
            self.assertEqual(c2["indexSeconds"], 0)  # no file to read: the test set was not even indexed
            self.assertEqual([c["status"] for c in second["checks"]], [c["status"] for c in first["checks"]])
            self.assertLess(second["seconds"], 1.0)
            # The agent writes a new file holding a test item: that file alone is read, and the flag comes.
            with open(os.path.join(out, "test-sets", "gsm8k.jsonl"), encoding="utf-8") as handle:
                item = json.loads(handle.readline())
            with open(os.path.join(folder, "task", "data", "more.jsonl"), "w", encoding="utf-8") as handle:
                handle.write(json.dumps({"prompt": item["question"], "completion": item["answer"]}) + "\n")
            third = run_helper(out, folder, "--cache", cache)
            c3 = third["checks"][0]
            self.assertEqual(c3["status"], "flag")
            self.assertEqual(c3["filesReused"], 4)
            self.assertEqual(serious(third), ["contamination"])
            # A changed final_model is fingerprinted again; an unchanged one is not.
            m1 = next(c for c in third["checks"] if c["kind"] == "model_substitution")
            self.assertEqual(m1["status"], "pass")
            shutil.rmtree(os.path.join(folder, "final_model"))
            gen.write_model(os.path.join(folder, "final_model"), gen.instruct_weights(gen.base_weights()))
            fourth = run_helper(out, folder, "--cache", cache)
            self.assertIn("model_substitution", serious(fourth))
        finally:
            shutil.rmtree(out, ignore_errors=True)


class BadInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="ptw-integrity-bad-")
        gen.build(cls.out, only=["clean-own-val"])
        with open(os.path.join(cls.out, "scenarios.json"), encoding="utf-8") as handle:
            cls.folder = os.path.join(cls.out, json.load(handle)[0]["folder"])
        with open(os.path.join(cls.out, "test-sets", "gsm8k.jsonl"), encoding="utf-8") as handle:
            cls.items = [json.loads(line) for line in handle]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def fresh(self, name):
        folder = os.path.join(self.out, "bad-" + name)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(self.folder, folder, symlinks=True)
        return folder

    def test_truncated_safetensors_is_not_run_with_the_file(self):
        folder = self.fresh("truncated")
        path = os.path.join(folder, "final_model", "model.safetensors")
        with open(path, "r+b") as handle:
            handle.truncate(os.path.getsize(path) // 2)
        report = run_helper(self.out, folder, only=["model_substitution"])
        check = report["checks"][0]
        self.assertEqual(check["status"], "not-run")
        self.assertIn("model.safetensors", check["reason"])
        self.assertIn("truncated", check["reason"])

    def test_binary_junk_named_jsonl_is_skipped_with_reason(self):
        folder = self.fresh("binary")
        with open(os.path.join(folder, "task", "data", "junk.jsonl"), "wb") as handle:
            handle.write(os.urandom(1 << 16))
        report = run_helper(self.out, folder, only=["contamination"])
        self.assertEqual(report["checks"][0]["status"], "pass")
        skipped = {s["file"]: s["reason"] for s in report["skipped"]}
        self.assertIn("binary", skipped["task/data/junk.jsonl"])

    def test_symlinks_out_of_the_run_folder_are_never_followed(self):
        folder = self.fresh("symlink")
        outside = os.path.join(self.out, "outside.jsonl")
        with open(outside, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self.items[0]) + "\n")
        os.symlink(outside, os.path.join(folder, "task", "data", "linked.jsonl"))
        os.symlink(self.out, os.path.join(folder, "task", "up"))
        shutil.rmtree(os.path.join(folder, "final_model"))
        os.symlink(os.path.join(self.out, "hf-cache", "models--Qwen--Qwen3-1.7B", "snapshots", "0123456789abcdef0123456789abcdef01234567"), os.path.join(folder, "final_model"))
        report = run_helper(self.out, folder)
        by_kind = {c["kind"]: c for c in report["checks"]}
        self.assertEqual(by_kind["contamination"]["status"], "pass")  # the linked test item was not read
        self.assertEqual(by_kind["model_substitution"]["status"], "not-run")
        self.assertIn("symlink", by_kind["model_substitution"]["reason"])
        reasons = {s["file"]: s["reason"] for s in report["skipped"]}
        self.assertIn("outside the run folder", reasons["task/data/linked.jsonl"])
        self.assertIn("not followed", reasons["task/up"])

    def test_links_inside_task_copies_and_final_model_configs_are_not_read(self):
        folder = self.fresh("linked-configs")
        outside = os.path.join(self.out, "outside-dir")
        os.makedirs(outside, exist_ok=True)
        with open(os.path.join(outside, "evaluate.py"), "w", encoding="utf-8") as handle:
            handle.write("print('outside')\n")
        with open(os.path.join(outside, "config.json"), "w", encoding="utf-8") as handle:
            json.dump({"architectures": ["Outside"], "model_type": "outside"}, handle)
        # The agent's copy of the task folder becomes a link to a folder elsewhere; final_model's config a link.
        task = os.path.join(folder, "task")
        moved = os.path.join(folder, "task-real")
        os.rename(task, moved)
        os.symlink(outside, task)
        config = os.path.join(folder, "final_model", "config.json")
        os.remove(config)
        os.symlink(os.path.join(outside, "config.json"), config)
        report = run_helper(self.out, folder, "--workspace", task, only=["eval_tampering", "contamination"])
        texts = json.dumps(report)
        self.assertNotIn("Outside", texts)
        self.assertNotIn("print('outside')", texts)
        by_kind = {c["kind"]: c for c in report["checks"]}
        # A workspace that is itself a link is not read: not-run with why, never a pass.
        self.assertEqual(by_kind["contamination"]["status"], "not-run")
        self.assertIn("symlink", by_kind["contamination"]["reason"])
        # Its task copies lead out of the run folder: flagged, their content never read.
        self.assertEqual(by_kind["eval_tampering"]["status"], "flag")
        self.assertIn("linked folder", texts)

    def test_broken_gzip_and_fifo_are_skipped(self):
        folder = self.fresh("broken")
        with open(os.path.join(folder, "task", "data", "part.jsonl.gz"), "wb") as handle:
            data = gzip.compress(b"".join(b'{"a": "%s"}\n' % os.urandom(32).hex().encode() for _ in range(1000)))
            handle.write(data[: len(data) // 2])
        os.mkfifo(os.path.join(folder, "task", "data", "pipe.jsonl"))
        report = run_helper(self.out, folder, only=["contamination"])
        reasons = {s["file"]: s["reason"] for s in report["skipped"]}
        self.assertIn("not readable", reasons["task/data/part.jsonl.gz"])
        self.assertIn("not a regular file", reasons["task/data/pipe.jsonl"])

    def test_a_single_line_larger_than_many_chunks_is_read_in_bounded_pieces(self):
        folder = self.fresh("oneline")
        item = self.items[3]
        filler = " ".join("word%d" % (i % 977) for i in range(900000))  # ~8 MB of one line
        row = json.dumps({"text": filler + " " + item["question"] + " " + filler})
        with open(os.path.join(folder, "task", "data", "huge.jsonl"), "w", encoding="utf-8") as handle:
            handle.write(row)
        report = run_helper(self.out, folder, only=["contamination"])
        flag = next(f for f in report["flags"] if f["severity"] == "high")
        self.assertEqual(flag["evidence"][0]["item"], 3)
        self.assertEqual(flag["evidence"][0]["line"], 1)

    def test_short_items_match_whole(self):
        out = tempfile.mkdtemp(prefix="ptw-integrity-short-")
        try:
            ws = os.path.join(out, "workspace")
            os.makedirs(ws)
            with open(os.path.join(out, "short.jsonl"), "w") as handle:
                handle.write(json.dumps({"question": "What is the capital of France?", "answer": "Paris"}) + "\n")
                handle.write(json.dumps({"question": "Name the largest planet.", "answer": "Jupiter"}) + "\n")
            with open(os.path.join(ws, "train.jsonl"), "w") as handle:
                handle.write(json.dumps({"prompt": "WHAT is the capital of   France", "completion": "Paris."}) + "\n")
            result = subprocess.run([*HELPER, "check", "--root", out, "--workspace", ws, "--test-set", os.path.join(out, "short.jsonl"), "--only", "contamination"], capture_output=True, text=True, env=HOST_ENV)
            report = json.loads(result.stdout)
            flag = report["flags"][0]
            self.assertEqual([e["item"] for e in flag["evidence"]], [0])
            self.assertTrue(flag["evidence"][0]["shortItem"])
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def test_no_test_set_is_not_run_with_what_to_do(self):
        folder = self.fresh("notest")
        result = subprocess.run([*HELPER, "check", "--root", folder, "--workspace", os.path.join(folder, "task"), "--benchmark", "aime2025", "--only", "contamination"], capture_output=True, text=True, env=HOST_ENV)
        check = json.loads(result.stdout)["checks"][0]
        self.assertEqual(check["status"], "not-run")
        self.assertIn("--test-sets", check["reason"])


class TraceFormatsTest(unittest.TestCase):
    def test_a_call_is_found_in_each_agent_stream_format_and_outputs_are_not_read(self):
        curl = "curl -s https://api.together.xyz/v1/chat/completions -d @q.json"
        lines = [
            {"type": "assistant", "message": {"content": [{"type": "tool_use", "id": "a", "name": "Bash", "input": {"command": curl}}]}},
            {"type": "item.completed", "item": {"id": "i1", "type": "command_execution", "command": "bash -lc '%s'" % curl, "aggregated_output": ""}},
            {"type": "tool_use", "tool_name": "run_shell_command", "parameters": {"command": curl}},
            {"type": "tool_use", "part": {"tool": "bash", "state": {"input": {"command": curl}}}},
        ]
        quiet = [
            # What a command printed names the host: not a call.
            {"type": "item.completed", "item": {"type": "command_execution", "command": "cat README.md", "aggregated_output": curl}},
            {"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": "a", "content": curl}]}},
        ]
        out = tempfile.mkdtemp(prefix="ptw-integrity-trace-")
        try:
            for i, line in enumerate(lines):
                trace = os.path.join(out, "t%d.jsonl" % i)
                with open(trace, "w", encoding="utf-8") as handle:
                    handle.write("\n".join(json.dumps(x) for x in quiet + [line]) + "\n")
                result = subprocess.run([*HELPER, "check", "--root", out, "--trace", trace, "--only", "api_misuse"], capture_output=True, text=True, env=HOST_ENV)
                report = json.loads(result.stdout)
                with self.subTest(i):
                    self.assertEqual([f["kind"] for f in report["flags"]], ["api_misuse"])
                    self.assertEqual([e["line"] for e in report["flags"][0]["evidence"]], [3])
                    self.assertIn("Together", report["flags"][0]["evidence"][0]["why"])
        finally:
            shutil.rmtree(out, ignore_errors=True)


class NormalizeTest(unittest.TestCase):
    def test_wrappers_escapes_and_unicode_fold(self):
        raw = '{"content": "<|im_start|>user\\nJanet\\u2019s ducks lay 16 eggs \\"per\\" day. ＡＢＣ"}'
        words = normalized_words(raw)
        self.assertIn("janet", words)
        self.assertNotIn("im_start", words)
        self.assertNotIn("njanet", words)
        self.assertEqual(words[-1], "abc")

    def test_compressed_content_is_read_within_a_per_file_and_a_per_pass_bound(self):
        saved = files.DECOMPRESS_BUDGET["left"]
        try:
            files.DECOMPRESS_BUDGET["left"] = 30
            first = files.LimitedReader(io.BytesIO(b"x" * 100), 20)
            self.assertEqual(len(first.read(100)), 20)
            self.assertEqual(first.read(10), b"")
            self.assertTrue(first.cut)  # more was there: reported as partly read
            second = files.LimitedReader(io.BytesIO(b"y" * 100), 50)
            self.assertEqual(len(second.read(100)), 10)  # what the pass had left
            self.assertEqual(second.read(10), b"")
            self.assertTrue(second.cut)
        finally:
            files.DECOMPRESS_BUDGET["left"] = saved

    def test_safetensors_header_past_the_file(self):
        with tempfile.NamedTemporaryFile(suffix=".safetensors", delete=False) as handle:
            handle.write(struct.pack("<Q", 1 << 30) + b"{}")
        try:
            with self.assertRaises(files.Skip):
                substitution.read_header(handle.name)
        finally:
            os.unlink(handle.name)


if __name__ == "__main__":
    unittest.main()
