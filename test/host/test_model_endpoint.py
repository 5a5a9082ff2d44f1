"""The scripted model endpoint driven over HTTP with urllib, one protocol at a time, as the agent CLIs speak them:
streamed turns reassemble into the script's turns, side requests take no turn, and a bad script, an unknown tool or
running out of turns is a problem naming the turn."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
HOST_DIR = os.path.join(HERE, "..", "..", "resources", "host")
sys.path.insert(0, HOST_DIR)
from ptw_host.model_endpoint.script import ScriptError, parse_script  # noqa: E402
from ptw_host.model_endpoint.sidecar import (  # noqa: E402
    ProblemWatch,
    endpoint_problems,
    model_problem_stop_due,
    problems_recorded,
)
from ptw_host.model_endpoint.server import serve  # noqa: E402

KEY = "sk-ptw-scripted-0123456789"
SCRIPT = {
    "format": "ptw-model-script/1",
    "agent": "claude-code",
    "turns": [
        {
            "thinking": "First look at the task files, then write a training script that is long enough to chunk.",
            "text": "Let me look around.",
            "toolCalls": [{"name": "Bash", "input": {"command": "ls -la && cat prompt.txt"}}],
        },
        {"text": "All done: final_model is in place."},
    ],
}


def sse_events(raw):
    """Server-sent events -> [(event name or None, data string)]."""
    events = []
    for block in raw.decode("utf-8").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if data:
            events.append((name, "\n".join(data)))
    return events


class Endpoint(unittest.TestCase):
    def start(self, script=SCRIPT, key=KEY):
        self.dir = tempfile.mkdtemp(prefix="ptw-endpoint-")
        self.problems = os.path.join(self.dir, "problems.jsonl")
        self.log = os.path.join(self.dir, "requests.jsonl")
        self.server = serve(parse_script(script), problems_path=self.problems, log_path=self.log, expected_key=key)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]

    def post(self, path, body, headers=None, key=KEY):
        auth = {"x-api-key": key} if key else {}
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode("utf-8"),
            headers=dict({"content-type": "application/json"}, **auth, **(headers or {})),
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers.get("content-type"), response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers.get("content-type"), err.read()

    def logged(self, field, count):
        """The request log's `field`s once it has `count` lines (a line is written after its response is sent)."""
        deadline = time.monotonic() + 5
        while True:
            with open(self.log, encoding="utf-8") as handle:
                lines = [json.loads(line) for line in handle]
            if len(lines) >= count or time.monotonic() > deadline:
                return [line.get(field) for line in lines]
            time.sleep(0.02)

    def problem_lines(self):
        if not os.path.exists(self.problems):
            return []
        with open(self.problems, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle]


class AnthropicMessages(Endpoint):
    TOOLS = [{"name": "Bash", "input_schema": {"type": "object"}}, {"name": "Write", "input_schema": {}}]

    def test_streamed_turns_reassemble_into_the_script_and_follow_the_history(self):
        self.start()
        status, kind, raw = self.post(
            "/v1/messages?beta=true",
            {"model": "claude-x", "stream": True, "tools": self.TOOLS, "messages": [{"role": "user", "content": "go"}]},
        )
        self.assertEqual((status, kind), (200, "text/event-stream"))
        events = sse_events(raw)
        names = [name for name, _ in events]
        self.assertEqual(names[0], "message_start")
        self.assertEqual(names[-2:], ["message_delta", "message_stop"])
        blocks, stop = {}, None
        for name, data in events:
            event = json.loads(data)
            self.assertEqual(event["type"], name)
            if name == "content_block_start":
                blocks[event["index"]] = dict(event["content_block"], partial="")
            elif name == "content_block_delta":
                delta, block = event["delta"], blocks[event["index"]]
                block["partial"] += delta.get("thinking") or delta.get("text") or delta.get("partial_json") or ""
            elif name == "message_delta":
                stop = event["delta"]["stop_reason"]
        self.assertEqual([b["type"] for b in blocks.values()], ["thinking", "text", "tool_use"])
        self.assertEqual(blocks[0]["partial"], SCRIPT["turns"][0]["thinking"])
        self.assertGreater(sum(1 for n, _ in events if n == "content_block_delta"), 4)  # really streamed in pieces
        self.assertEqual(blocks[1]["partial"], "Let me look around.")
        self.assertEqual(blocks[2]["name"], "Bash")
        self.assertEqual(json.loads(blocks[2]["partial"]), {"command": "ls -la && cat prompt.txt"})
        self.assertEqual(stop, "tool_use")

        history = [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": blocks[2]["id"], "name": "Bash"}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": blocks[2]["id"], "content": "ok"}]},
        ]
        status, kind, raw = self.post("/v1/messages", {"model": "claude-x", "tools": self.TOOLS, "messages": history})
        self.assertEqual((status, kind), (200, "application/json"))
        message = json.loads(raw)
        self.assertEqual(message["content"], [{"type": "text", "text": "All done: final_model is in place."}])
        self.assertEqual(message["stop_reason"], "end_turn")
        self.assertTrue(self.server.replay.finished.is_set())
        self.assertEqual(self.problem_lines(), [])

    def test_a_side_request_without_tools_takes_no_turn_and_count_tokens_answers(self):
        self.start()
        status, _, raw = self.post("/v1/messages", {"model": "haiku", "messages": [{"role": "user", "content": "t"}]})
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(raw)["content"][0]["text"], "OK.")
        status, _, raw = self.post("/v1/messages/count_tokens", {"messages": [{"role": "user", "content": "hello"}]})
        self.assertEqual(status, 200)
        self.assertGreater(json.loads(raw)["input_tokens"], 0)
        status, _, raw = self.post("/v1/messages", {"model": "m", "tools": self.TOOLS, "messages": []})
        self.assertEqual(json.loads(raw)["content"][-1]["name"], "Bash")  # still turn 1
        self.assertEqual(self.logged("action", 3), ["side", "count", "turn"])

    def test_a_tool_the_agent_does_not_have_stops_the_replay_naming_the_turn(self):
        self.start()
        status, _, raw = self.post("/v1/messages", {"model": "m", "tools": [{"name": "Read"}], "messages": []})
        self.assertEqual(status, 400)
        error = json.loads(raw)["error"]
        self.assertEqual(error["type"], "invalid_request_error")
        self.assertIn("turn 1 calls the tool 'Bash', which the agent does not have (it has: Read)", error["message"])
        [problem] = self.problem_lines()
        self.assertEqual(problem["turn"], 1)
        # Stopped for good: the next request gets the same problem, and it is recorded once.
        status, _, _ = self.post("/v1/messages", {"model": "m", "tools": self.TOOLS, "messages": []})
        self.assertEqual(status, 400)
        self.assertEqual(len(self.problem_lines()), 1)

    def test_running_out_of_turns_is_a_problem_naming_the_turn(self):
        self.start()
        history = [{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}] * 2
        status, _, raw = self.post("/v1/messages", {"model": "m", "tools": self.TOOLS, "messages": history})
        self.assertEqual(status, 400)
        self.assertIn("asked for turn 3 but the script has only 2 turns", json.loads(raw)["error"]["message"])
        self.assertEqual(self.problem_lines()[0]["turn"], 3)

    def test_a_wrong_or_missing_key_is_refused_like_a_real_provider(self):
        self.start()
        status, _, raw = self.post("/v1/messages", {"model": "m", "tools": self.TOOLS, "messages": []}, key="sk-wrong")
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(raw)["error"]["type"], "authentication_error")
        status, _, _ = self.post("/v1/messages", {"model": "m", "messages": []}, key=None)
        self.assertEqual(status, 401)
        self.assertEqual(self.logged("status", 2), [401, 401])
        with open(self.log, encoding="utf-8") as handle:
            self.assertNotIn("sk-wrong", handle.read())  # the log never holds headers


class OpenAIResponses(Endpoint):
    SCRIPT = {
        "format": "ptw-model-script/1",
        "turns": [
            {
                "thinking": "Plan the patch.",
                "toolCalls": [
                    {"name": "shell", "input": {"command": ["bash", "-lc", "ls"]}},
                    {"name": "apply_patch", "input": "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"},
                ],
            },
            {"text": "Done."},
        ],
    }
    TOOLS = [{"type": "function", "name": "shell"}, {"type": "custom", "name": "apply_patch"}]

    def test_streamed_items_reassemble_into_function_and_custom_tool_calls(self):
        self.start(self.SCRIPT)
        body = {"model": "gpt-x", "stream": True, "tools": self.TOOLS, "input": [{"role": "user", "content": "go"}]}
        status, kind, raw = self.post("/v1/responses", body, headers={"authorization": "Bearer " + KEY}, key=None)
        self.assertEqual((status, kind), (200, "text/event-stream"))
        events = [(name, json.loads(data)) for name, data in sse_events(raw)]
        self.assertEqual([e["sequence_number"] for _, e in events], list(range(len(events))))
        self.assertEqual(events[0][0], "response.created")
        self.assertEqual(events[-1][0], "response.completed")
        args, patch, summary = "", "", ""
        for name, event in events:
            if name == "response.function_call_arguments.delta":
                args += event["delta"]
            elif name == "response.custom_tool_call_input.delta":
                patch += event["delta"]
            elif name == "response.reasoning_summary_text.delta":
                summary += event["delta"]
        self.assertEqual(json.loads(args), {"command": ["bash", "-lc", "ls"]})
        self.assertEqual(patch, self.SCRIPT["turns"][0]["toolCalls"][1]["input"])
        self.assertEqual(summary, "Plan the patch.")
        done = [e["item"] for name, e in events if name == "response.output_item.done"]
        self.assertEqual([i["type"] for i in done], ["reasoning", "function_call", "custom_tool_call"])
        self.assertEqual(events[-1][1]["response"]["output"], done)

        history = body["input"] + [
            {"type": "reasoning", "summary": []},
            dict(done[1]),
            {"type": "function_call_output", "call_id": done[1]["call_id"], "output": "a.txt"},
        ]
        status, _, raw = self.post("/v1/responses", dict(body, input=history, stream=False), key=KEY)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(raw)["output"][0]["content"][0]["text"], "Done.")


class OpenAIChat(Endpoint):
    SCRIPT = {
        "format": "ptw-model-script/1",
        "turns": [
            {"thinking": "hmm", "toolCalls": [{"name": "bash", "input": {"command": "echo hi"}}]},
            {"text": "Finished the rehearsal task."},
        ],
    }

    def test_chunks_carry_reasoning_tool_call_deltas_usage_and_done(self):
        self.start(self.SCRIPT)
        body = {
            "model": "m",
            "stream": True,
            "stream_options": {"include_usage": True},
            "tools": [{"type": "function", "function": {"name": "bash"}}],
            "messages": [{"role": "user", "content": "go"}],
        }
        status, kind, raw = self.post("/v1/chat/completions", body)
        self.assertEqual((status, kind), (200, "text/event-stream"))
        events = sse_events(raw)
        self.assertEqual(events[-1][1], "[DONE]")
        chunks = [json.loads(data) for _, data in events[:-1]]
        reasoning, args, finish, name = "", "", None, None
        for chunk in chunks:
            for choice in chunk["choices"]:
                delta = choice["delta"]
                reasoning += delta.get("reasoning_content", "")
                for call in delta.get("tool_calls", []):
                    name = call.get("function", {}).get("name") or name
                    args += call["function"].get("arguments", "")
                finish = choice["finish_reason"] or finish
        self.assertEqual((reasoning, name, finish), ("hmm", "bash", "tool_calls"))
        self.assertEqual(json.loads(args), {"command": "echo hi"})
        self.assertEqual(chunks[-1]["choices"], [])
        self.assertGreater(chunks[-1]["usage"]["total_tokens"], 0)

        body["messages"] += [{"role": "assistant", "tool_calls": []}, {"role": "tool", "content": "hi"}]
        status, _, raw = self.post("/v1/chat/completions", dict(body, stream=False))
        self.assertEqual(json.loads(raw)["choices"][0]["message"]["content"], "Finished the rehearsal task.")


class GeminiGenerateContent(Endpoint):
    SCRIPT = {
        "format": "ptw-model-script/1",
        "turns": [
            {
                "thinking": "Think first.",
                "text": "Running it.",
                "toolCalls": [{"name": "run_shell_command", "input": {"command": "ls"}}],
            },
            {"text": "Done."},
        ],
    }
    TOOLS = [{"functionDeclarations": [{"name": "run_shell_command"}, {"name": "write_file"}]}]

    def test_stream_parts_thoughts_function_call_and_the_next_speaker_check(self):
        self.start(self.SCRIPT)
        path = "/v1beta/models/gemini-x:streamGenerateContent?alt=sse"
        body = {"contents": [{"role": "user", "parts": [{"text": "go"}]}], "tools": self.TOOLS}
        status, kind, raw = self.post(path, body, headers={"x-goog-api-key": KEY}, key=None)
        self.assertEqual((status, kind), (200, "text/event-stream"))
        parts = []
        chunks = [json.loads(data) for _, data in sse_events(raw)]
        for chunk in chunks:
            parts += chunk["candidates"][0]["content"]["parts"]
        self.assertEqual("".join(p["text"] for p in parts if p.get("thought")), "Think first.")
        self.assertEqual("".join(p["text"] for p in parts if "text" in p and not p.get("thought")), "Running it.")
        self.assertEqual(parts[-1], {"functionCall": {"name": "run_shell_command", "args": {"command": "ls"}}})
        self.assertEqual(chunks[-1]["candidates"][0]["finishReason"], "STOP")
        self.assertIn("usageMetadata", chunks[-1])

        # The "who speaks next" check: no tools, JSON requested; it takes no turn.
        check = {"contents": [], "generationConfig": {"responseMimeType": "application/json"}}
        status, _, raw = self.post("/v1beta/models/gemini-flash:generateContent", check)
        verdict = json.loads(json.loads(raw)["candidates"][0]["content"]["parts"][0]["text"])
        self.assertEqual(verdict["next_speaker"], "user")
        status, _, raw = self.post("/v1beta/models/gemini-x:countTokens", {"contents": []})
        self.assertGreater(json.loads(raw)["totalTokens"], 0)

        body["contents"] += [{"role": "model", "parts": parts}, {"role": "user", "parts": [{"functionResponse": {}}]}]
        status, _, raw = self.post("/v1beta/models/gemini-x:generateContent", body)
        self.assertEqual(json.loads(raw)["candidates"][0]["content"]["parts"], [{"text": "Done."}])


class ScriptValidation(unittest.TestCase):
    def error(self, script):
        with self.assertRaises(ScriptError) as caught:
            parse_script(script)
        return str(caught.exception)

    def test_errors_name_the_turn_and_the_field(self):
        base = {"format": "ptw-model-script/1"}
        self.assertIn("format must be 'ptw-model-script/1'", self.error({"turns": [{"text": "x"}]}))
        self.assertIn("turns must be a non-empty list", self.error(dict(base, turns=[])))
        end = {"text": "x"}
        thinking_only = self.error(dict(base, turns=[{"text": "a"}, {"thinking": "b"}]))
        self.assertIn("turn 2: needs text or at least one tool call", thinking_only)
        nameless = self.error(dict(base, turns=[{"toolCalls": [{"name": "a"}, {"input": {}}]}, end]))
        self.assertIn("turn 1, tool call 2: name must be", nameless)
        self.assertIn("turn 1: unknown field tool_calls", self.error(dict(base, turns=[{"tool_calls": []}])))
        bad_input = self.error(dict(base, turns=[{"toolCalls": [{"name": "a", "input": 3}]}, end]))
        self.assertIn("turn 1, tool call 1: input must be an object", bad_input)
        open_end = self.error(dict(base, turns=[{"text": "a"}, {"toolCalls": [{"name": "Bash"}]}]))
        self.assertIn("turn 2: the last turn calls tools", open_end)
        self.assertIn("agent must be one of", self.error(dict(base, agent="aider", turns=[{"text": "a"}])))

    def test_the_subcommand_checks_a_file_and_serves_until_sigterm(self):
        work = tempfile.mkdtemp(prefix="ptw-endpoint-cli-")
        bad = os.path.join(work, "bad.json")
        with open(bad, "w", encoding="utf-8") as out:
            json.dump({"format": "ptw-model-script/1", "turns": [{"text": "a"}, {"thinking": "only"}]}, out)
        command = [sys.executable, "-m", "ptw_host", "model-endpoint", "--script"]
        env = dict(os.environ, PYTHONPATH=HOST_DIR, PTW_TEST_KEY=KEY)
        result = subprocess.run(command + [bad, "--check"], env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertIn("bad.json: turn 2: needs text", result.stderr)

        good = os.path.join(work, "good.json")
        with open(good, "w", encoding="utf-8") as out:
            json.dump(SCRIPT, out)
        ready = os.path.join(work, "port")
        child = subprocess.Popen(command + [good, "--ready-file", ready, "--key-env", "PTW_TEST_KEY"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 20
            while not os.path.exists(ready) and time.monotonic() < deadline and child.poll() is None:
                time.sleep(0.05)
            with open(ready, encoding="ascii") as handle:
                port = int(handle.read())
            with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=10) as response:
                self.assertEqual(json.loads(response.read()), {"ok": True, "turns": 2})
        finally:
            child.send_signal(signal.SIGTERM)
            out, _ = child.communicate(timeout=20)
        self.assertEqual(child.returncode, 0)
        self.assertIn(b"serving 2 turns", out)


class SupervisorSide(unittest.TestCase):
    def test_the_problems_file_becomes_events_and_junk_in_it_is_skipped(self):
        run_dir = tempfile.mkdtemp(prefix="ptw-endpoint-run-")
        self.assertEqual(endpoint_problems(run_dir), [])  # a run without an endpoint
        os.makedirs(os.path.join(run_dir, "endpoint", "out"))
        with open(os.path.join(run_dir, "endpoint", "out", "problems.jsonl"), "w", encoding="utf-8") as out:
            out.write('{"at": 1, "turn": 3, "message": "turn 3 calls the tool \'x\'"}\n')
            out.write("not json\n")
            out.write('{"turn": "3", "message": "a turn that is not a number"}\n')
        self.assertEqual(endpoint_problems(run_dir), [{"turn": 3, "message": "turn 3 calls the tool 'x'"}])

    def test_an_agent_still_running_30_s_after_a_problem_is_stopped_unless_a_stop_is_under_way(self):
        self.assertFalse(model_problem_stop_due(None, 1000.0, None))  # no problem seen
        self.assertFalse(model_problem_stop_due(100.0, 129.9, None))  # the CLI has its grace period to exit
        self.assertTrue(model_problem_stop_due(100.0, 130.0, None))
        for reason in ("budget", "user-stop", "killed", "model-problem"):
            self.assertFalse(model_problem_stop_due(100.0, 200.0, reason), reason)
        self.assertTrue(model_problem_stop_due(100.0, 101.0, None, grace_seconds=1.0))

    def test_the_watch_reports_each_problem_once_and_remembers_when_the_first_came(self):
        run_dir = tempfile.mkdtemp(prefix="ptw-endpoint-run-")
        out_dir = os.path.join(run_dir, "endpoint", "out")
        os.makedirs(out_dir)
        watch = ProblemWatch(run_dir)
        self.assertEqual(watch.poll(10.0), [])  # the endpoint has not written the file
        self.assertFalse(watch.stop_due(100.0, None))
        with open(os.path.join(out_dir, "problems.jsonl"), "w", encoding="utf-8") as out:
            out.write('{"at": 1, "turn": 2, "message": "turn 2 asks for more than the script has"}\n')
        self.assertEqual(watch.poll(10.5), [])  # read at most once a second
        self.assertEqual(watch.poll(11.0), [{"turn": 2, "message": "turn 2 asks for more than the script has"}])
        self.assertEqual(watch.poll(12.0), [])
        with open(os.path.join(out_dir, "problems.jsonl"), "a", encoding="utf-8") as out:
            out.write('{"at": 2, "turn": 2, "message": "again"}\n')
        self.assertEqual(watch.poll(13.0), [{"turn": 2, "message": "again"}])
        self.assertEqual(watch.reported, 2)
        self.assertFalse(watch.stop_due(40.9, None))
        self.assertTrue(watch.stop_due(41.0, None))  # 30 s after the first

    def test_a_resumed_watch_skips_the_problems_already_recorded_and_gives_the_agent_its_grace_again(self):
        run_dir = tempfile.mkdtemp(prefix="ptw-endpoint-run-")
        os.makedirs(os.path.join(run_dir, "endpoint", "out"))
        os.makedirs(os.path.join(run_dir, "record"))
        events = os.path.join(run_dir, "record", "events.jsonl")
        self.assertEqual(problems_recorded(events), 0)  # no events file yet
        with open(events, "w", encoding="utf-8") as out:
            out.write('{"t":1,"type":"agent-started","deadline":9}\n')
            out.write('{"t":2,"type":"model-endpoint-problem","turn":2,"message":"m"}\n')
            out.write('{"t":3,"type":"supervisor-error","message":"not a model-endpoint-problem"}\n')
            out.write("torn line model-endpoint-problem\n")
        with open(os.path.join(run_dir, "endpoint", "out", "problems.jsonl"), "w", encoding="utf-8") as out:
            out.write('{"turn": 2, "message": "m"}\n{"turn": 2, "message": "again"}\n')
        self.assertEqual(problems_recorded(events), 1)
        watch = ProblemWatch(run_dir, reported=1, now=500.0)
        self.assertEqual(watch.poll(500.0), [{"turn": 2, "message": "again"}])
        self.assertFalse(watch.stop_due(529.0, None))
        self.assertTrue(watch.stop_due(530.0, None))
        self.assertIsNone(ProblemWatch(run_dir, reported=0, now=500.0).first_seen_at)


if __name__ == "__main__":
    unittest.main()
