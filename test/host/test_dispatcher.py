"""The host-side run queue and its dispatcher (ptw_host/run_queue.py, ptw_host/dispatcher.py): claims, placement,
retries and recovery, on real files in a temporary run root (no Docker: starting a container is the integration
test's part, test/integration/experiment.test.ts)."""

import json
import os
import shutil
import tempfile
import threading
import unittest

import host_support  # noqa: F401  (puts the package on sys.path)
from host_support import FIXTURES
from ptw_host import dispatcher as d
from ptw_host.run_queue import HostQueue

APPS_CSV = os.path.join(FIXTURES, "nvidia-smi", "extracted", "h100-80gb-hbm3__load__query-compute-apps.csv.txt")


def entry(entry_id, root, priority=0, enqueued=0, gpus=1, retries=None):
    run_dir = os.path.join(root, entry_id)
    return {
        "id": entry_id,
        "priority": priority,
        "enqueuedAt": enqueued,
        "gpusPerRun": gpus,
        "deviceRequests": True,
        "gpuUlimits": [{"Name": "memlock", "Soft": -1, "Hard": -1}],
        "dockerSocket": os.path.join(root, "no-docker.sock"),
        "template": {"dir": "", "runId": entry_id, "runDir": run_dir},
        "container": {"Image": "x", "Labels": {"ptw.run-id": entry_id, "ptw.run-dir": run_dir}, "HostConfig": {}},
        "runJson": {
            "id": entry_id,
            "supervisor": {"gpuIndices": [], "evaluation": {"deviceRequests": [], "labels": {"ptw.run-dir": run_dir}}},
            "launch": {"gpus": []},
        },
        "secrets": {"secrets": [{"name": "K", "value": "v"}], "evaluationEnv": []},
        "retries": retries or {"infrastructure": 0, "agent": 0},
        "attempts": [],
    }


class QueueTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="ptw-queue-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.queue = HostQueue(self.root)

    def test_an_entry_is_claimed_once_whoever_races_for_it(self):
        for i in range(20):
            self.queue.enqueue(entry("run-%02d" % i, self.root))
        wins = []
        lock = threading.Lock()

        def claimer():
            other = HostQueue(self.root)  # a second process's view of the same folder
            for i in range(20):
                got = other.claim("run-%02d" % i)
                if got is not None:
                    with lock:
                        wins.append(got["id"])

        threads = [threading.Thread(target=claimer) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(wins), ["run-%02d" % i for i in range(20)])
        self.assertEqual(self.queue.ids("pending"), [])

    def test_withdraw_and_claim_exclude_each_other(self):
        self.queue.enqueue(entry("a", self.root))
        self.assertTrue(self.queue.withdraw("a"))
        self.assertIsNone(self.queue.claim("a"))
        self.queue.enqueue(entry("b", self.root))
        self.assertIsNotNone(self.queue.claim("b"))
        self.assertFalse(self.queue.withdraw("b"))

    def test_pending_runs_by_priority_then_age(self):
        self.queue.enqueue(entry("late", self.root, enqueued=3))
        self.queue.enqueue(entry("early", self.root, enqueued=1))
        self.queue.enqueue(entry("urgent", self.root, priority=5, enqueued=9))
        self.assertEqual([e["id"] for e in self.queue.pending()], ["urgent", "early", "late"])

    def test_status_never_repeats_secrets(self):
        self.queue.enqueue(entry("a", self.root))
        text = json.dumps(self.queue.status())
        self.assertNotIn('"value"', text)
        self.assertEqual(self.queue.status()["entries"][0]["state"], "pending")
        self.assertEqual(os.stat(self.queue.path("pending", "a")).st_mode & 0o777, 0o600)


class MoveTest(unittest.TestCase):
    """Giving queued runs to another host (run_queue.move_out; the app's side: src/main/experiments/rebalancer.ts)."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="ptw-move-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.queue = HostQueue(self.root)

    def to(self, entry_id):
        return {"host": "b", "entryId": entry_id, "runRoot": "/runs-b"}

    def test_a_run_is_claimed_here_or_moved_never_both_and_names_one_replacement(self):
        ids = ["run-%02d" % i for i in range(40)]
        for i in ids:
            self.queue.enqueue(entry(i, self.root))
        results = {"claimed": [], "moved": {}}
        lock = threading.Lock()

        def claimer():
            other = HostQueue(self.root)
            for i in ids:
                if other.claim(i) is not None:
                    with lock:
                        results["claimed"].append(i)

        def mover(name):
            other = HostQueue(self.root)
            for i in reversed(ids):  # from the other end, so the two kinds meet in the middle
                got = other.move_out(i, self.to("%s-for-%s" % (name, i)))
                if got is not None:
                    with lock:
                        results["moved"].setdefault(i, []).append(got["entryId"])

        threads = [threading.Thread(target=claimer) for _ in range(2)]
        threads += [threading.Thread(target=mover, args=(n,)) for n in ("app1", "app2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        claimed, moved = results["claimed"], results["moved"]
        self.assertEqual(len(claimed), len(set(claimed)))
        self.assertEqual(set(claimed) & set(moved), set())
        self.assertEqual(sorted(claimed + list(moved)), ids)
        for i, names in moved.items():
            # Both app instances may learn of the move; they name the same replacement, the one on the host.
            self.assertEqual(len(set(names)), 1, names)
            self.assertEqual(self.queue.moved_to(i)["entryId"], names[0])
        self.assertEqual(sorted(self.queue.ids("claimed")), sorted(claimed))
        self.assertEqual(sorted(self.queue.ids("moved")), sorted(moved))
        self.assertEqual(self.queue.ids("pending"), [])

    def test_a_claimed_run_or_a_waiting_retry_stays(self):
        self.queue.enqueue(entry("claimed", self.root))
        self.queue.claim("claimed")
        retry = entry("retry", self.root)
        retry["attempts"] = [{"runId": "retry", "final": "failed"}]
        self.queue.enqueue(retry)
        self.assertIsNone(self.queue.move_out("claimed", self.to("x")))
        self.assertIsNone(self.queue.move_out("retry", self.to("y")))
        self.assertIsNone(self.queue.move_out("nowhere", self.to("z")))
        self.assertEqual(self.queue.ids("pending"), ["retry"])
        self.assertEqual(self.queue.ids("moved"), [])

    def test_a_move_left_half_done_is_finished_with_one_replacement_and_never_requeued(self):
        self.queue.enqueue(entry("a", self.root))
        os.makedirs(self.queue.template_dir("a"))
        self.queue.move("a", "pending", "moved")  # an app died after the rename, before the pointer
        self.assertIsNone(self.queue.moved_to("a"))
        self.assertEqual(self.queue.move_out("a", self.to("second"))["entryId"], "second")
        self.assertEqual(self.queue.move_out("a", self.to("third"))["entryId"], "second")
        self.assertFalse(os.path.exists(self.queue.template_dir("a")))
        self.assertNotIn("secrets", self.queue.read("moved", "a"))
        self.assertFalse(self.queue.move("a", "withdrawn", "pending"))  # what --requeue does
        self.assertIsNone(self.queue.claim("a"))
        [status] = self.queue.status()["entries"]
        self.assertEqual((status["state"], status["movedTo"]["entryId"]), ("moved", "second"))

    def test_a_held_replacement_waits_until_activated(self):
        self.queue.ensure()
        self.queue.write("held", entry("r", self.root))
        self.assertEqual(self.queue.pending(), [])
        self.assertFalse(d.Dispatcher(self.root).busy())
        self.assertTrue(self.queue.activate("r"))
        self.assertFalse(self.queue.activate("r"))
        self.assertEqual([e["id"] for e in self.queue.pending()], ["r"])
        self.queue.write("held", entry("lost", self.root))
        self.assertTrue(self.queue.drop_held("lost"))
        self.assertFalse(self.queue.drop_held("r"))  # activated: not held any more
        self.assertEqual(self.queue.ids("held"), [])
        self.queue.write("held", entry("stopped", self.root))
        self.assertTrue(self.queue.withdraw("stopped"))  # a stop reaches a replacement not yet activated
        self.assertFalse(self.queue.activate("stopped"))


class PlacementTest(unittest.TestCase):
    def test_gpus_with_other_peoples_processes_are_left_alone(self):
        with open(APPS_CSV, encoding="utf-8") as handle:
            rows = [line.split(", ") for line in handle.read().splitlines()[1:]]
        # The capture's rows projected as the dispatcher asks: gpu_uuid, pid, used_memory (noheader, nounits).
        apps = d.parse_compute_apps("\n".join("%s, %s, %s" % (r[4], r[5], r[7].split()[0]) for r in rows))
        uuid = rows[0][4]
        inventory = d.parse_gpu_inventory("0, %s\n1, GPU-other\n" % uuid)
        self.assertEqual(inventory, [(0, uuid), (1, "GPU-other")])
        self.assertEqual(d.free_gpus(inventory, apps, held=set()), [1])
        self.assertEqual(d.free_gpus(inventory, apps, held=set(), threshold_mib=100_000), [0, 1])
        self.assertEqual(d.free_gpus(inventory, apps, held={1}, threshold_mib=100_000), [0])
        self.assertEqual(d.free_gpus(inventory, [(uuid, 1, None)], held=set(), threshold_mib=100_000), [1])

    def test_place_in_queue_order_without_starving_a_bigger_run(self):
        pending = [{"id": "a", "gpusPerRun": 1}, {"id": "b", "gpusPerRun": 2}, {"id": "c", "gpusPerRun": 1}]
        self.assertEqual([(e["id"], g) for e, g in d.place(pending, [0, 1, 2])], [("a", [0]), ("b", [1, 2])])
        self.assertEqual([(e["id"], g) for e, g in d.place(pending, [3, 5])], [("a", [3])])
        self.assertEqual(d.place(pending, []), [])


class RetryTest(unittest.TestCase):
    def test_classify(self):
        self.assertEqual(d.classify({"status": "scored"}), ("result", None))
        self.assertEqual(d.classify({"status": "failed", "error": "attaching failed"})[0], "infrastructure")
        self.assertEqual(d.classify({"status": "no-model", "exitCode": None, "stopReason": "agent-exited"})[0],
                         "infrastructure")
        self.assertEqual(d.classify({"status": "no-model", "exitCode": 1, "stopReason": "agent-exited"})[0], "agent")
        self.assertEqual(d.classify({"status": "no-model", "exitCode": None, "stopReason": "budget"})[0], "agent")
        self.assertEqual(d.classify({"status": "evaluation-failed"}, '{"message": "No space left on device"}')[0],
                         "infrastructure")

    def test_agent_failures_are_never_retried_by_default(self):
        e = entry("a", "/r")
        self.assertFalse(d.should_retry(e, "agent"))
        self.assertFalse(d.should_retry(e, "infrastructure"))
        e["retries"] = {"infrastructure": 2, "agent": 0}
        self.assertTrue(d.should_retry(e, "infrastructure"))
        e["attempts"] = [{"runId": "a"}, {"runId": "ar2", "retryOf": "infrastructure"},
                         {"runId": "ar3", "retryOf": "infrastructure"}]
        self.assertFalse(d.should_retry(e, "infrastructure"))
        self.assertFalse(d.should_retry(e, "result"))

    def test_an_attempt_gets_its_own_folder_and_the_chosen_gpus(self):
        e = entry("r-20260101-120000-abc123", "/runs")
        run_id, run_dir, container, run_json = d.attempt_plan(e, 2, [3])
        self.assertEqual((run_id, run_dir), ("r-20260101-120000-abc123r2", "/runs/r-20260101-120000-abc123r2"))
        self.assertEqual(container["Labels"], {"ptw.run-id": run_id, "ptw.run-dir": run_dir})
        self.assertEqual(container["HostConfig"]["DeviceRequests"][0]["DeviceIDs"], ["3"])
        self.assertEqual(run_json["supervisor"]["gpuIndices"], [3])
        self.assertEqual(run_json["supervisor"]["evaluation"]["labels"], {"ptw.run-dir": run_dir})
        self.assertEqual(run_json["id"], run_id)
        self.assertEqual(d.attempt_plan(e, 1, [0])[0], "r-20260101-120000-abc123")


class DispatcherFilesTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="ptw-dispatch-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.queue = HostQueue(self.root)
        self.dispatcher = d.Dispatcher(self.root)

    def test_recovery_requeues_a_claim_that_never_started_and_keeps_one_that_did(self):
        self.queue.enqueue(entry("never", self.root))
        self.queue.enqueue(entry("began", self.root))
        self.queue.claim("never")
        self.queue.claim("began")
        os.makedirs(os.path.join(self.root, "never", ".supervisor"))  # copied, but no marker
        os.makedirs(os.path.join(self.root, "began", ".supervisor"))
        open(os.path.join(self.root, "began", d.START_MARKER), "w").close()
        self.dispatcher.recover()
        self.assertEqual(self.queue.ids("pending"), ["never"])
        self.assertFalse(os.path.exists(os.path.join(self.root, "never")))
        self.assertEqual(self.queue.ids("started"), ["began"])
        self.assertEqual(self.queue.read("started", "began")["attempts"][0]["runId"], "began")

    def finish(self, entry_id, state):
        self.queue.enqueue(entry(entry_id, self.root, retries={"infrastructure": 1, "agent": 0}))
        e = self.queue.claim(entry_id)
        run_dir = os.path.join(self.root, entry_id)
        os.makedirs(run_dir)
        with open(os.path.join(run_dir, "state.json"), "w") as handle:
            json.dump(state, handle)
        e["attempts"].append({"runId": entry_id, "runDir": run_dir, "gpus": [0], "final": None})
        self.queue.write("claimed", e)
        self.queue.move(entry_id, "claimed", "started")

    def test_an_infrastructure_failure_is_retried_and_recorded_an_agent_failure_is_not(self):
        self.finish("lost", {"status": "failed", "error": "the agent container x does not exist"})
        self.finish("gave-up", {"status": "no-model", "exitCode": 2, "stopReason": "agent-exited"})
        # Final runs free their GPU at once, before the tick that files them (the app's rebalancing reads it).
        self.assertEqual(self.dispatcher.held_gpus(), set())
        self.dispatcher.watch_started()
        self.assertEqual(self.queue.ids("pending"), ["lost"])
        retried = self.queue.read("pending", "lost")
        self.assertEqual(retried["nextRetryOf"], "infrastructure")
        self.assertEqual(retried["attempts"][0]["outcome"], "infrastructure")
        self.assertEqual(self.queue.ids("done"), ["gave-up"])
        self.assertNotIn("secrets", self.queue.read("done", "gave-up"))
        with open(os.path.join(self.queue.dir, "retries.jsonl")) as handle:
            lines = [json.loads(line) for line in handle]
        self.assertEqual([(l["id"], l["kind"], l["attempt"]) for l in lines], [("lost", "infrastructure", 2)])
        self.assertEqual(self.dispatcher.held_gpus(), set())

    def test_a_started_run_holds_its_gpus_until_its_folder_says_final(self):
        self.finish("busy", {"status": "running"})
        self.assertEqual(self.dispatcher.held_gpus(), {0})
        with open(os.path.join(self.root, "busy", "state.json"), "w") as handle:
            json.dump({"status": "scored"}, handle)
        self.assertEqual(self.dispatcher.held_gpus(), set())

    def test_a_full_disk_pauses_the_host_with_the_reason(self):
        self.queue.enqueue(entry("a", self.root))
        full = d.Dispatcher(self.root, min_free_bytes=2 ** 62)
        full.tick()
        self.assertRegex(self.queue.paused()["reason"], "disk has .* MiB free")
        self.assertEqual(self.queue.ids("pending"), ["a"])
        self.queue.resume()
        self.assertIsNone(self.queue.paused())

    def test_one_dispatcher_per_run_root(self):
        first = d.acquire_lock(self.queue)
        self.addCleanup(first.close)
        self.assertIsNotNone(first)
        self.assertIsNone(d.acquire_lock(HostQueue(self.root)))


if __name__ == "__main__":
    unittest.main()
