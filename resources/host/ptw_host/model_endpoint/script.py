"""The model script: a provider-neutral list of assistant turns the scripted endpoint replays (docs/model-script.md).

    {"format": "ptw-model-script/1", "agent": "claude-code", "description": "...",
     "turns": [{"thinking": "...", "text": "...", "toolCalls": [{"name": "Bash", "input": {"command": "ls"}}]},
               {"text": "Done."}],
     "sideReply": "ok"}

The app validates the same shape with zod (src/shared/runs/model-script.ts); this module checks it again on the host,
where a hand-edited file may arrive, and every error names the turn and the field.
"""

import json

SCRIPT_FORMAT = "ptw-model-script/1"
MAX_SCRIPT_BYTES = 4 * 1024 * 1024
MAX_TURNS = 1000
AGENTS = ("claude-code", "codex", "gemini-cli", "opencode")
TURN_KEYS = ("thinking", "text", "toolCalls")
CALL_KEYS = ("name", "input")
TOP_KEYS = ("format", "agent", "description", "turns", "sideReply")


class ScriptError(ValueError):
    """The script cannot be replayed; the message names the turn and the field."""


class ToolCall:
    __slots__ = ("name", "input")

    def __init__(self, name, input_):
        self.name = name
        # A dict for function tools; a string for free-form tools (Codex's apply_patch grammar tool).
        self.input = input_

    def arguments_json(self):
        return self.input if isinstance(self.input, str) else json.dumps(self.input, separators=(",", ":"))


class Turn:
    __slots__ = ("number", "thinking", "text", "tool_calls")

    def __init__(self, number, thinking, text, tool_calls):
        self.number = number  # 1-based, as the errors and the docs count
        self.thinking = thinking
        self.text = text
        self.tool_calls = tool_calls


class Script:
    __slots__ = ("agent", "description", "turns", "side_reply")

    def __init__(self, agent, description, turns, side_reply):
        self.agent = agent
        self.description = description
        self.turns = turns
        self.side_reply = side_reply


def _unknown_keys(obj, allowed, where):
    extra = sorted(set(obj) - set(allowed))
    if extra:
        raise ScriptError("%s: unknown field %s (allowed: %s)" % (where, ", ".join(extra), ", ".join(allowed)))


def _optional_text(obj, key, where):
    value = obj.get(key)
    if value is not None and (not isinstance(value, str) or value == ""):
        raise ScriptError("%s: %s must be a non-empty string" % (where, key))
    return value


def _parse_call(call, where):
    if not isinstance(call, dict):
        raise ScriptError("%s: a tool call must be an object with name and input" % where)
    _unknown_keys(call, CALL_KEYS, where)
    name = call.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ScriptError("%s: name must be the tool's name as the agent declares it (e.g. Bash, shell)" % where)
    input_ = call.get("input", {})
    if not isinstance(input_, (dict, str)):
        raise ScriptError(
            "%s: input must be an object (a function tool's arguments) or a string (a free-form tool)" % where
        )
    return ToolCall(name, input_)


def _parse_turn(raw, number):
    where = "turn %d" % number
    if not isinstance(raw, dict):
        raise ScriptError("%s: must be an object with text, thinking and/or toolCalls" % where)
    _unknown_keys(raw, TURN_KEYS, where)
    thinking = _optional_text(raw, "thinking", where)
    text = _optional_text(raw, "text", where)
    calls = raw.get("toolCalls", [])
    if not isinstance(calls, list):
        raise ScriptError("%s: toolCalls must be a list" % where)
    tool_calls = [_parse_call(call, "%s, tool call %d" % (where, i + 1)) for i, call in enumerate(calls)]
    if text is None and not tool_calls:
        raise ScriptError("%s: needs text or at least one tool call (thinking alone says nothing to the agent)" % where)
    return Turn(number, thinking, text, tool_calls)


def parse_script(data):
    """A decoded JSON value -> Script, or ScriptError naming the turn and field."""
    if not isinstance(data, dict):
        raise ScriptError("the script must be a JSON object with format and turns")
    _unknown_keys(data, TOP_KEYS, "the script")
    if data.get("format") != SCRIPT_FORMAT:
        raise ScriptError("format must be %r, not %r" % (SCRIPT_FORMAT, data.get("format")))
    agent = data.get("agent")
    if agent is not None and agent not in AGENTS:
        raise ScriptError("agent must be one of %s, not %r" % (", ".join(AGENTS), agent))
    description = _optional_text(data, "description", "the script")
    side_reply = _optional_text(data, "sideReply", "the script") or "OK."
    raw_turns = data.get("turns")
    if not isinstance(raw_turns, list) or not raw_turns:
        raise ScriptError("turns must be a non-empty list of assistant turns")
    if len(raw_turns) > MAX_TURNS:
        raise ScriptError("turns: %d turns, more than the %d allowed" % (len(raw_turns), MAX_TURNS))
    turns = [_parse_turn(raw, i + 1) for i, raw in enumerate(raw_turns)]
    if turns[-1].tool_calls:
        raise ScriptError(
            "turn %d: the last turn calls tools, so the agent would ask for a turn the script does not have; "
            "end with a turn of text only" % turns[-1].number
        )
    return Script(agent, description, turns, side_reply)


def load_script(path):
    """Reads and validates a script file; ScriptError says what is wrong with which file."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_SCRIPT_BYTES + 1)
    except OSError as err:
        raise ScriptError("cannot read the script %s: %s" % (path, err.strerror or err))
    if len(raw) > MAX_SCRIPT_BYTES:
        raise ScriptError("the script %s is larger than %d bytes" % (path, MAX_SCRIPT_BYTES))
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ScriptError("the script %s is not JSON: %s" % (path, err))
    try:
        return parse_script(data)
    except ScriptError as err:
        raise ScriptError("%s: %s" % (path, err))
