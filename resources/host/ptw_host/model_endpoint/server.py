"""The scripted model endpoint's HTTP side: routes each provider's paths to its protocol, picks the turn the request's
history asks for, checks the tools, and records problems (docs/model-script.md, "The endpoint")."""

import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from ptw_host.model_endpoint.protocols import Anthropic, Chat, Gemini, Responses, estimate_tokens
from ptw_host.model_endpoint.script import Turn

MAX_BODY_BYTES = 64 * 1024 * 1024
GEMINI_PATH = re.compile(r"/models/([^/:]+):(generateContent|streamGenerateContent|countTokens)$")


class Problem(Exception):
    """Stops the replay: the agent gets an error response, the problems file a line naming the turn."""

    def __init__(self, turn, message):
        super().__init__(message)
        self.turn = turn
        self.message = message


class Replay:
    """The script's state for one run: picks turns, checks tools, keeps the first fatal problem. Thread-safe."""

    def __init__(self, script, problems_path=None, log_path=None, expected_key=None):
        self.script = script
        self.problems_path = problems_path
        self.log_path = log_path
        self.expected_key = expected_key
        self.lock = threading.Lock()
        self.stopped = None  # the first fatal Problem
        self.served = set()  # turn numbers answered at least once
        self.finished = threading.Event()  # the last turn was served

    def record(self, path, entry):
        if not path:
            return
        entry = dict({"at": int(time.time() * 1000)}, **entry)
        with self.lock:
            with open(path, "a", encoding="utf-8") as out:
                out.write(json.dumps(entry, separators=(",", ":")) + "\n")

    def fail(self, problem):
        with self.lock:
            first = self.stopped is None
            if first:
                self.stopped = problem
        if first:
            self.record(self.problems_path, {"turn": problem.turn, "message": problem.message})
        return self.stopped

    def turn_for(self, protocol, body):
        """The turn the request asks for (its history's assistant turns + 1), or a Problem."""
        if self.stopped is not None:
            raise self.stopped
        index = protocol.history_turns(body)
        turns = self.script.turns
        if index >= len(turns):
            raise self.fail(
                Problem(
                    index + 1,
                    "the agent asked for turn %d but the script has only %d turns; "
                    "end the script with a turn the agent stops after" % (index + 1, len(turns)),
                )
            )
        turn = turns[index]
        declared = protocol.declared_tools(body) or {}
        for call in turn.tool_calls:
            if call.name not in declared:
                have = ", ".join(sorted(declared)) or "none"
                raise self.fail(
                    Problem(turn.number, "turn %d calls the tool %r, which the agent does not have (it has: %s)"
                            % (turn.number, call.name, have))
                )
        with self.lock:
            self.served.add(turn.number)
            if turn.number == len(turns):
                self.finished.set()
        return turn

    def key_ok(self, headers, query):
        if not self.expected_key:
            return True
        offered = [headers.get("x-api-key"), headers.get("x-goog-api-key")] + query.get("key", [])
        auth = headers.get("authorization") or ""
        if auth.lower().startswith("bearer "):
            offered.append(auth[7:].strip())
        return self.expected_key in offered


def route(method, path):
    """(protocol, action) for a request path; action is turn, count, models, health or None."""
    if method == "GET":
        if path.rstrip("/") in ("", "/health"):
            return None, "health"
        if path.endswith("/models"):
            return None, "models"
        return None, None
    if path.endswith("/messages/count_tokens"):
        return Anthropic, "count"
    if path.endswith("/messages"):
        return Anthropic, "turn"
    if path.endswith("/responses"):
        return Responses, "turn"
    if path.endswith("/chat/completions"):
        return Chat, "turn"
    match = GEMINI_PATH.search(path)
    if match:
        return Gemini, "count" if match.group(2) == "countTokens" else "turn"
    return None, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ptw-model-endpoint"

    @property
    def replay(self):
        return self.server.replay

    def log_message(self, fmt, *args):  # the request log is --log, without headers (they hold the key)
        pass

    def send_json(self, status, data):
        raw = json.dumps(data, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def send_stream(self, events):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in events:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("the request body is larger than %d bytes" % MAX_BODY_BYTES)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("the request body is not a JSON object")
        return data

    def do_GET(self):
        self.handle_request("GET")

    def do_POST(self):
        self.handle_request("POST")

    def handle_request(self, method):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        protocol, action = route(method, url.path)
        entry = {"method": method, "path": url.path, "protocol": protocol.name if protocol else None, "action": action}
        status = 200
        try:
            status = self.dispatch(method, url.path, query, protocol, action, entry)
        except Problem as problem:
            status = 400
            entry["problem"] = problem.message
            self.send_json(status, (protocol or Anthropic).error(status, "ptw scripted model: %s" % problem.message))
        except (ValueError, UnicodeDecodeError) as err:
            status = 400
            entry["error"] = str(err)
            self.send_json(status, (protocol or Anthropic).error(status, "ptw scripted model: %s" % err))
        except (BrokenPipeError, ConnectionResetError):
            entry["error"] = "the client closed the connection"
        entry["status"] = status
        self.replay.record(self.replay.log_path, entry)

    def dispatch(self, method, path, query, protocol, action, entry):
        if action == "health":
            self.send_json(200, {"ok": True, "turns": len(self.replay.script.turns)})
            return 200
        if action is None:
            self.send_json(404, {"error": {"message": "the scripted model does not serve %s %s" % (method, path)}})
            return 404
        if not self.replay.key_ok({k.lower(): v for k, v in self.headers.items()}, query):
            self.send_json(401, (protocol or Anthropic).error(401, "invalid API key"))
            return 401
        if action == "models":
            model_ids = ["ptw-scripted"]
            listing = [{"id": m, "object": "model", "created": 0, "owned_by": "ptw"} for m in model_ids]
            self.send_json(200, {"object": "list", "data": listing, "models": []})
            return 200
        body = self.read_body()
        input_tokens = estimate_tokens(json.dumps(body))
        if action == "count":
            count = {"input_tokens": input_tokens} if protocol is Anthropic else {"totalTokens": input_tokens}
            self.send_json(200, count)
            return 200
        model = body.get("model") or (GEMINI_PATH.search(path).group(1) if protocol is Gemini else "ptw-scripted")
        stream = protocol.wants_stream(body) if protocol is not Gemini else path.endswith(":streamGenerateContent")
        tools = protocol.declared_tools(body)
        if tools is None:
            # No tools offered: a side request (a title, a quota probe, a next-speaker check), not a turn.
            entry["action"] = "side"
            reply = Gemini.side_reply(self.replay.script.side_reply, model, body) if protocol is Gemini else (
                protocol.side_reply(self.replay.script.side_reply, model)
            )
            if stream:
                self.send_stream(side_stream(protocol, reply, model, self.replay.script.side_reply, body))
            else:
                self.send_json(200, reply)
            return 200
        turn = self.replay.turn_for(protocol, body)
        entry["turn"] = turn.number
        if stream:
            if protocol is Anthropic:
                self.send_stream(protocol.respond_stream(turn, model, input_tokens))
            elif protocol is Chat:
                include = bool((body.get("stream_options") or {}).get("include_usage"))
                self.send_stream(protocol.respond_stream(turn, model, input_tokens, tools, include))
            else:
                self.send_stream(protocol.respond_stream(turn, model, input_tokens, tools))
        else:
            reply = protocol.respond_json(turn, model, input_tokens) if protocol is Anthropic else (
                protocol.respond_json(turn, model, input_tokens, tools)
            )
            self.send_json(200, reply)
        return 200


def side_stream(protocol, reply, model, text, body):
    if protocol is Gemini:
        return iter([b"data: " + json.dumps(reply).encode("utf-8") + b"\n\n"])
    if protocol is Chat:
        return protocol.respond_stream(Turn(0, None, text, []), model, 1, None, True)
    return protocol.respond_stream(Turn(0, None, text, []), model, 1)


class EndpointServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, replay):
        super().__init__(address, Handler)
        self.replay = replay


def serve(script, host="127.0.0.1", port=0, problems_path=None, log_path=None, expected_key=None):
    """Starts the endpoint on a thread; returns the server (server.server_address has the port)."""
    for path in (problems_path, log_path):
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    server = EndpointServer((host, port), Replay(script, problems_path, log_path, expected_key))
    threading.Thread(target=server.serve_forever, name="model-endpoint", daemon=True).start()
    return server
