"""The supervisor's sandbox walls (ptw_host.sandbox, the evaluator's container), with Python's own unittest (no Docker
needed): run by test/unit/host."""

import os
import stat
import tempfile
import unittest

import host_support  # noqa: F401  (puts the host package on sys.path)
from ptw_host import evaluation, run_config, sandbox

PLAN = {
    "image": "ptb/eval:1",
    "workdir": "/eval/task",
    "command": ["python3", "evaluate.py"],
    "attempts": [{"extraArgs": ["--max-tokens", "4096"], "timeoutSeconds": 60}],
    "deviceRequests": [],
    "networkMode": "none",
    "labels": {"ptw.run-dir": "/runs/r"},
    "shmSizeBytes": 1 << 30,
    "user": "61000:61000",
    "memoryBytes": 8 << 30,
    "pidsLimit": 2048,
}


class EvaluatorContainer(unittest.TestCase):
    def body(self, plan=None, secret_env=()):
        config = run_config.EvaluationConfig(dict(PLAN, **(plan or {})))
        return evaluation.evaluator_container_body(
            config,
            config.attempts[0],
            {"ptw.role": "evaluator"},
            task_dir="/runs/r/task",
            model_dir="/runs/r/workspace/final_model",
            out_dir="/runs/r/eval/out",
            secret_env=secret_env,
        )

    def test_runs_unprivileged_with_no_capability_and_limits(self):
        body = self.body()
        host = body["HostConfig"]
        self.assertEqual(body["User"], "61000:61000")
        self.assertEqual(host["CapDrop"], ["ALL"])
        self.assertNotIn("CapAdd", host)
        self.assertEqual(host["SecurityOpt"], ["no-new-privileges"])
        self.assertFalse(host["Privileged"])
        self.assertEqual(host["PidsLimit"], 2048)
        self.assertEqual(host["Memory"], 8 << 30)
        self.assertEqual(host["MemorySwap"], 8 << 30)
        self.assertEqual(host["ShmSize"], 1 << 30)
        self.assertEqual(body["Cmd"], ["python3", "evaluate.py", "--max-tokens", "4096"])

    def test_gpu_attempts_get_the_ulimits_gpu_jobs_need(self):
        self.assertNotIn("Ulimits", self.body()["HostConfig"])
        gpu = self.body({"deviceRequests": [{"Driver": "nvidia", "DeviceIDs": ["0"], "Capabilities": [["gpu"]]}]})
        limits = {u["Name"]: u["Hard"] for u in gpu["HostConfig"]["Ulimits"]}
        self.assertEqual(limits, {"memlock": -1, "stack": 64 * 1024 * 1024})

    def test_writes_only_its_own_output_folder(self):
        mounts = self.body()["HostConfig"]["Mounts"]
        writable = [m["Source"] for m in mounts if not m["ReadOnly"]]
        self.assertEqual(writable, ["/runs/r/eval/out"])

    def test_grader_keys_join_the_environment_without_replacing_it(self):
        env = self.body(secret_env=[("OPENAI_API_KEY", "sk-x")])["Env"]
        self.assertIn("HOME=/tmp", env)
        self.assertIn("OPENAI_API_KEY=sk-x", env)

    def test_never_root_even_for_an_old_run_json(self):
        old = dict(PLAN)
        del old["user"], old["pidsLimit"], old["memoryBytes"]
        config = run_config.EvaluationConfig(old)
        self.assertNotEqual(config.uid, 0)
        self.assertEqual(config.pids_limit, run_config.EVALUATION_PIDS_LIMIT)
        # On a rootless Docker the container's root is the SSH user: allowed there, and only there.
        self.assertEqual(run_config.EvaluationConfig(dict(PLAN, user="0:0", rootlessDocker=True)).uid, 0)
        for bad in ("0:0", "root", "0", "1000"):
            with self.assertRaises(run_config.ConfigError, msg=bad):
                run_config.EvaluationConfig(dict(PLAN, user=bad))

    def test_default_user_is_the_supervisors_own_unless_it_is_root(self):
        user = sandbox.default_sandbox_user()
        if os.geteuid() == 0:
            self.assertEqual(user, "61000:61000")
        else:
            self.assertEqual(user, "%d:%d" % (os.geteuid(), os.getegid()))


class SanitizeTree(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name

    def tearDown(self):
        self.dir.cleanup()

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def test_clears_set_id_bits_everywhere_and_keeps_the_rest(self):
        os.makedirs(self.path("deep", "er"))
        for rel, mode in (("sh", 0o4755), ("deep/er/g", 0o2711), ("plain", 0o644)):
            with open(self.path(rel), "w") as handle:
                handle.write("x")
            os.chmod(self.path(rel), mode)
        os.chmod(self.path("deep"), 0o2775)
        report = sandbox.sanitize_tree(self.root)
        self.assertEqual(stat.S_IMODE(os.lstat(self.path("sh")).st_mode), 0o755)
        self.assertEqual(stat.S_IMODE(os.lstat(self.path("deep/er/g")).st_mode), 0o711)
        self.assertEqual(stat.S_IMODE(os.lstat(self.path("deep")).st_mode), 0o775)
        self.assertEqual(stat.S_IMODE(os.lstat(self.path("plain")).st_mode), 0o644)
        self.assertEqual(report["count"], 3)
        self.assertEqual(sorted(report["cleared"]), ["deep", "deep/er/g", "sh"])

    def test_never_follows_a_link_out_of_the_tree(self):
        outside = tempfile.NamedTemporaryFile(delete=False)
        try:
            os.chmod(outside.name, 0o4755)
            os.symlink(outside.name, self.path("link"))
            report = sandbox.sanitize_tree(self.root)
            self.assertEqual(report["count"], 0)
            self.assertEqual(stat.S_IMODE(os.stat(outside.name).st_mode), 0o4755)
        finally:
            os.unlink(outside.name)

    @unittest.skipUnless(os.geteuid() == 0, "making a device node needs root")
    def test_removes_device_nodes(self):
        os.mknod(self.path("mem"), 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        report = sandbox.sanitize_tree(self.root)
        self.assertFalse(os.path.lexists(self.path("mem")))
        self.assertEqual(report["removed"], ["mem"])

    def test_reports_cap_names_but_counts_all(self):
        for i in range(5):
            with open(self.path("f%d" % i), "w"):
                pass
            os.chmod(self.path("f%d" % i), 0o4700)
        report = sandbox.sanitize_tree(self.root, report_limit=2)
        self.assertEqual(report["count"], 5)
        self.assertEqual(len(report["cleared"]), 2)

    def test_a_missing_folder_is_nothing_to_do(self):
        self.assertEqual(sandbox.sanitize_tree(self.path("nope"))["count"], 0)


if __name__ == "__main__":
    unittest.main()
