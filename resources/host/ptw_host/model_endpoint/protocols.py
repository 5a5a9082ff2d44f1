"""The four provider protocols the scripted endpoint speaks: how each one's request tells which turn comes next and
which tools the agent has, and how a turn is written back, streamed (server-sent events) as the real APIs do or as
one JSON body.

References for the wire formats (fields the CLIs read):
- Anthropic Messages streaming: https://docs.anthropic.com/en/api/messages-streaming
- OpenAI Responses streaming: https://platform.openai.com/docs/api-reference/responses-streaming
- OpenAI Chat Completions streaming: https://platform.openai.com/docs/api-reference/chat-streaming
- Gemini generateContent / streamGenerateContent?alt=sse: https://ai.google.dev/api/generate-content
"""

import json
import time

from ptw_host.model_endpoint.script import Turn

CHUNK = 24  # characters per streamed delta: several deltas per block, as the real APIs send


def chunks(text):
    return [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]


def estimate_tokens(text):
    return max(1, len(text) // 4)


def sse(event, data):
    head = "event: %s\n" % event if event else ""
    return ("%sdata: %s\n\n" % (head, json.dumps(data, separators=(",", ":")))).encode("utf-8")


def role_turns(items, role):
    """The assistant turns in a list of role-tagged messages: runs of consecutive ones with `role`."""
    return contiguous_runs(isinstance(item, dict) and item.get("role") == role for item in items or [])


def declared(tools, entries):
    """{name: kind} of a request's tools, `entries(tool)` giving (name, kind) pairs; None when it offers none."""
    if not tools:
        return None
    out = {}
    for tool in tools:
        if isinstance(tool, dict):
            for name, kind in entries(tool):
                if isinstance(name, str) and name:
                    out[name] = kind
    return out


def openai_error(status, message):
    return {"error": {"message": message, "type": "invalid_request_error", "code": status, "param": None}}


def contiguous_runs(flags):
    """How many runs of consecutive True values `flags` holds: the assistant turns in a history of items."""
    runs, previous = 0, False
    for flag in flags:
        if flag and not previous:
            runs += 1
        previous = flag
    return runs


class Ids:
    """Deterministic ids, so two replays of one script produce the same stream."""

    def __init__(self, prefix, turn):
        self.prefix = prefix
        self.turn = turn
        self.count = 0

    def next(self, kind):
        self.count += 1
        return "%s%sptw%03d_%d" % (kind, self.prefix, self.turn.number, self.count)


class Protocol:
    """What the four protocols share: the assistant turns are the runs of `history_role` messages in the request's
    `history_key` list, the tools are in `tools` (`tool_entries(tool)` gives a tool's (name, kind) pairs), and a
    request streams when it says `"stream": true` (Gemini's goes by its path instead, which the server reads)."""

    name = None
    history_key, history_role = "messages", "assistant"

    @classmethod
    def history_turns(cls, body):
        return role_turns(body.get(cls.history_key), cls.history_role)

    @classmethod
    def declared_tools(cls, body):
        return declared(body.get("tools"), cls.tool_entries)

    @staticmethod
    def tool_entries(tool):
        return [(tool.get("name"), "function")]

    @staticmethod
    def wants_stream(body):
        return bool(body.get("stream"))


# ---- Anthropic Messages ----------------------------------------------------------------------------------------


class Anthropic(Protocol):
    name = "anthropic-messages"

    @staticmethod
    def blocks(turn):
        ids = Ids("", turn)
        out = []
        if turn.thinking:
            out.append({"type": "thinking", "thinking": turn.thinking, "signature": "ptw-scripted"})
        if turn.text:
            out.append({"type": "text", "text": turn.text})
        for call in turn.tool_calls:
            out.append({"type": "tool_use", "id": ids.next("toolu_"), "name": call.name, "input": call.input})
        return out

    @classmethod
    def message(cls, turn, model, input_tokens):
        content = cls.blocks(turn)
        return {
            "id": "msg_ptw%03d" % turn.number,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": "tool_use" if turn.tool_calls else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": estimate_tokens(json.dumps(content))},
        }

    @classmethod
    def respond_json(cls, turn, model, input_tokens):
        return cls.message(turn, model, input_tokens)

    @classmethod
    def respond_stream(cls, turn, model, input_tokens):
        message = cls.message(turn, model, input_tokens)
        start = dict(message, content=[], stop_reason=None, usage={"input_tokens": input_tokens, "output_tokens": 1})
        yield sse("message_start", {"type": "message_start", "message": start})
        yield sse("ping", {"type": "ping"})
        for index, block in enumerate(message["content"]):
            kind = block["type"]
            if kind == "thinking":
                empty, deltas = {"type": "thinking", "thinking": "", "signature": ""}, [
                    {"type": "thinking_delta", "thinking": part} for part in chunks(block["thinking"])
                ] + [{"type": "signature_delta", "signature": block["signature"]}]
            elif kind == "text":
                empty = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": part} for part in chunks(block["text"])]
            else:
                empty = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                deltas = [
                    {"type": "input_json_delta", "partial_json": part} for part in chunks(json.dumps(block["input"]))
                ]
            yield sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": empty})
            for delta in deltas:
                yield sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
            yield sse("content_block_stop", {"type": "content_block_stop", "index": index})
        yield sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": message["usage"]["output_tokens"]},
            },
        )
        yield sse("message_stop", {"type": "message_stop"})

    @staticmethod
    def side_reply(text, model):
        return {
            "id": "msg_ptw_side",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": estimate_tokens(text)},
        }

    @staticmethod
    def error(status, message):
        kind = "authentication_error" if status == 401 else "invalid_request_error"
        return {"type": "error", "error": {"type": kind, "message": message}}


# ---- OpenAI Responses ------------------------------------------------------------------------------------------

RESPONSES_ASSISTANT_ITEMS = ("function_call", "custom_tool_call", "local_shell_call", "reasoning")


class Responses(Protocol):
    name = "openai-responses"

    @staticmethod
    def history_turns(body):
        items = body.get("input")
        if not isinstance(items, list):
            return 0

        def assistant(item):
            if not isinstance(item, dict):
                return False
            return item.get("role") == "assistant" or item.get("type") in RESPONSES_ASSISTANT_ITEMS

        return contiguous_runs(assistant(item) for item in items)

    @staticmethod
    def tool_entries(tool):
        kind = tool.get("type")
        if kind == "namespace":  # Codex groups sub-agent tools under one namespace
            inner = [t for t in tool.get("tools") or [] if isinstance(t, dict)]
            return [(t.get("name"), t.get("type") or "function") for t in inner]
        if kind in ("function", "custom"):
            return [(tool.get("name"), kind)]
        return [(kind, kind)]  # built-ins such as local_shell or web_search go by their type

    @staticmethod
    def output_items(turn, tools):
        ids = Ids("", turn)
        items = []
        if turn.thinking:
            summary = [{"type": "summary_text", "text": turn.thinking}]
            items.append({"id": ids.next("rs_"), "type": "reasoning", "summary": summary})
        if turn.text:
            items.append(
                {
                    "id": ids.next("msg_"),
                    "type": "message",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": turn.text, "annotations": []}],
                }
            )
        for call in turn.tool_calls:
            call_id = ids.next("call_")
            if (tools or {}).get(call.name) == "custom":
                items.append(
                    {
                        "id": ids.next("ctc_"),
                        "type": "custom_tool_call",
                        "status": "completed",
                        "call_id": call_id,
                        "name": call.name,
                        "input": call.arguments_json(),
                    }
                )
            else:
                items.append(
                    {
                        "id": ids.next("fc_"),
                        "type": "function_call",
                        "status": "completed",
                        "call_id": call_id,
                        "name": call.name,
                        "arguments": call.arguments_json(),
                    }
                )
        return items

    @classmethod
    def response(cls, turn, model, input_tokens, tools, status="completed"):
        output = cls.output_items(turn, tools)
        output_tokens = estimate_tokens(json.dumps(output))
        return {
            "id": "resp_ptw%03d" % turn.number,
            "object": "response",
            "created_at": int(time.time()),
            "status": status,
            "model": model,
            "output": output,
            "usage": {
                "input_tokens": input_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": output_tokens,
                "output_tokens_details": {"reasoning_tokens": estimate_tokens(turn.thinking or "")},
                "total_tokens": input_tokens + output_tokens,
            },
        }

    @classmethod
    def respond_json(cls, turn, model, input_tokens, tools=None):
        return cls.response(turn, model, input_tokens, tools)

    @classmethod
    def respond_stream(cls, turn, model, input_tokens, tools=None):
        final = cls.response(turn, model, input_tokens, tools)
        seq = [0]

        def event(kind, **fields):
            data = dict({"type": kind, "sequence_number": seq[0]}, **fields)
            seq[0] += 1
            return sse(kind, data)

        started = dict(final, status="in_progress", output=[], usage=None)
        yield event("response.created", response=started)
        yield event("response.in_progress", response=started)
        for index, item in enumerate(final["output"]):
            at = {"item_id": item["id"], "output_index": index}
            kind = item["type"]
            if kind == "reasoning":
                yield event("response.output_item.added", output_index=index, item=dict(item, summary=[]))
                text = item["summary"][0]["text"]
                part = {"type": "summary_text", "text": ""}
                yield event("response.reasoning_summary_part.added", summary_index=0, part=part, **at)
                for piece in chunks(text):
                    yield event("response.reasoning_summary_text.delta", summary_index=0, delta=piece, **at)
                yield event("response.reasoning_summary_text.done", summary_index=0, text=text, **at)
                yield event("response.reasoning_summary_part.done", summary_index=0, part=item["summary"][0], **at)
            elif kind == "message":
                text = item["content"][0]["text"]
                yield event(
                    "response.output_item.added",
                    output_index=index,
                    item=dict(item, status="in_progress", content=[]),
                )
                empty = {"type": "output_text", "text": "", "annotations": []}
                yield event("response.content_part.added", content_index=0, part=empty, **at)
                for piece in chunks(text):
                    yield event("response.output_text.delta", content_index=0, delta=piece, **at)
                yield event("response.output_text.done", content_index=0, text=text, **at)
                yield event("response.content_part.done", content_index=0, part=item["content"][0], **at)
            elif kind == "custom_tool_call":
                yield event(
                    "response.output_item.added", output_index=index, item=dict(item, status="in_progress", input="")
                )
                for piece in chunks(item["input"]):
                    yield event("response.custom_tool_call_input.delta", delta=piece, **at)
                yield event("response.custom_tool_call_input.done", input=item["input"], **at)
            else:
                yield event(
                    "response.output_item.added",
                    output_index=index,
                    item=dict(item, status="in_progress", arguments=""),
                )
                for piece in chunks(item["arguments"]):
                    yield event("response.function_call_arguments.delta", delta=piece, **at)
                yield event("response.function_call_arguments.done", arguments=item["arguments"], **at)
            yield event("response.output_item.done", output_index=index, item=item)
        yield event("response.completed", response=final)

    @staticmethod
    def side_reply(text, model):
        return Responses.response(Turn(0, None, text, []), model, 1, None)

    error = staticmethod(openai_error)


# ---- OpenAI Chat Completions -----------------------------------------------------------------------------------


class Chat(Protocol):
    name = "openai-chat"

    @staticmethod
    def tool_entries(tool):
        function = tool.get("function")
        return [(function.get("name"), "function")] if isinstance(function, dict) else []

    @staticmethod
    def usage(turn, input_tokens):
        output_tokens = estimate_tokens((turn.text or "") + (turn.thinking or ""))
        output_tokens += sum(estimate_tokens(c.arguments_json()) for c in turn.tool_calls)
        return {
            "prompt_tokens": input_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        }

    @classmethod
    def respond_json(cls, turn, model, input_tokens, tools=None):
        ids = Ids("", turn)
        message = {"role": "assistant", "content": turn.text}
        if turn.thinking:
            message["reasoning_content"] = turn.thinking
        if turn.tool_calls:
            message["tool_calls"] = [
                {
                    "id": ids.next("call_"),
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments_json()},
                }
                for c in turn.tool_calls
            ]
        return {
            "id": "chatcmpl-ptw%03d" % turn.number,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if turn.tool_calls else "stop"}],
            "usage": cls.usage(turn, input_tokens),
        }

    @classmethod
    def respond_stream(cls, turn, model, input_tokens, tools=None, include_usage=True):
        ids = Ids("", turn)
        base = {"id": "chatcmpl-ptw%03d" % turn.number, "object": "chat.completion.chunk", "created": int(time.time())}
        base["model"] = model

        def chunk(delta, finish=None):
            return sse(None, dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": finish}]))

        yield chunk({"role": "assistant", "content": ""})
        for piece in chunks(turn.thinking) if turn.thinking else []:
            yield chunk({"reasoning_content": piece})
        for piece in chunks(turn.text) if turn.text else []:
            yield chunk({"content": piece})
        for index, call in enumerate(turn.tool_calls):
            head = {"index": index, "id": ids.next("call_"), "type": "function"}
            yield chunk({"tool_calls": [dict(head, function={"name": call.name, "arguments": ""})]})
            for piece in chunks(call.arguments_json()):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        yield chunk({}, "tool_calls" if turn.tool_calls else "stop")
        if include_usage:
            yield sse(None, dict(base, choices=[], usage=cls.usage(turn, input_tokens)))
        yield b"data: [DONE]\n\n"

    @staticmethod
    def side_reply(text, model):
        return Chat.respond_json(Turn(0, None, text, []), model, 1)

    error = staticmethod(openai_error)


# ---- Gemini generateContent ------------------------------------------------------------------------------------


class Gemini(Protocol):
    name = "gemini"
    history_key, history_role = "contents", "model"

    @staticmethod
    def tool_entries(tool):
        functions = tool.get("functionDeclarations") or []
        return [(f.get("name"), "function") for f in functions if isinstance(f, dict)]

    @staticmethod
    def usage(turn, input_tokens):
        output_tokens = estimate_tokens((turn.text or "") + "".join(c.arguments_json() for c in turn.tool_calls))
        thoughts = estimate_tokens(turn.thinking) if turn.thinking else 0
        return {
            "promptTokenCount": input_tokens,
            "candidatesTokenCount": output_tokens,
            "thoughtsTokenCount": thoughts,
            "totalTokenCount": input_tokens + output_tokens + thoughts,
        }

    @staticmethod
    def candidate(parts, finish):
        out = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish:
            out["finishReason"] = "STOP"
        return out

    @classmethod
    def parts(cls, turn):
        parts = []
        if turn.thinking:
            parts.append({"text": turn.thinking, "thought": True})
        if turn.text:
            parts.append({"text": turn.text})
        for call in turn.tool_calls:
            args = call.input if isinstance(call.input, dict) else {"input": call.input}
            parts.append({"functionCall": {"name": call.name, "args": args}})
        return parts

    @classmethod
    def respond_json(cls, turn, model, input_tokens, tools=None):
        return {
            "candidates": [cls.candidate(cls.parts(turn), True)],
            "usageMetadata": cls.usage(turn, input_tokens),
            "modelVersion": model,
            "responseId": "ptw%03d" % turn.number,
        }

    @classmethod
    def respond_stream(cls, turn, model, input_tokens, tools=None):
        pieces = []
        if turn.thinking:
            pieces += [{"text": p, "thought": True} for p in chunks(turn.thinking)]
        if turn.text:
            pieces += [{"text": p} for p in chunks(turn.text)]
        # Function calls arrive whole, as Gemini streams them.
        pieces += [part for part in cls.parts(turn) if "functionCall" in part]
        for i, part in enumerate(pieces):
            last = i == len(pieces) - 1
            body = {"candidates": [cls.candidate([part], last)], "modelVersion": model}
            body["responseId"] = "ptw%03d" % turn.number
            if last:
                body["usageMetadata"] = cls.usage(turn, input_tokens)
            yield sse(None, body)

    @staticmethod
    def side_reply(text, model, body=None):
        config = (body or {}).get("generationConfig") or {}
        if config.get("responseMimeType") == "application/json":
            # Gemini CLI's "who speaks next" check asks for JSON; the script's side reply would not parse.
            text = json.dumps({"reasoning": "The scripted turn is complete.", "next_speaker": "user"})
        return {
            "candidates": [Gemini.candidate([{"text": text}], True)],
            "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
            "modelVersion": model,
        }

    @staticmethod
    def error(status, message):
        state = "UNAUTHENTICATED" if status == 401 else "INVALID_ARGUMENT"
        return {"error": {"code": status, "message": message, "status": state}}
