#!/bin/sh
# PostTrain Workbench rehearsal agent: a scripted stand-in for a coding agent, so a whole run (sandbox, terminal
# recording, agent stream, budget, evaluation) can be tried in a minute with no API key and no GPU.
#
# POSIX sh + python3 (standard library only). Run in the workspace, like an agent:
#   sh rehearsal-agent.sh [PROMPT_FILE]            (default /ptw/prompt.txt)
# It prints coloured progress with a carriage-return progress bar, a few Claude-style stream-json lines, curates
# data/train.jsonl, "trains" for a while, writes final_model/ (config.json + model.safetensors with one F32
# tensor), checks itself with evaluate.py --limit 3, shows the timer and exits 0.
#
# Environment:
#   PTW_REHEARSAL_SECONDS  length of the training phase, whole seconds (default 45)
#   PTW_REHEARSAL_MODE     normal | forever (never finishes; stop it) | fail (crashes, no model)
#                          | no-model (finishes without writing final_model)
#                          | linger (writes final_model, then keeps training until stopped: uses its whole budget)
#   PTW_TIMER              the time-left script (default /ptw/timer)
#   TMPDIR                 where the quick check writes quick.json (default /tmp)

set -u

seconds=${PTW_REHEARSAL_SECONDS:-45}
mode=${PTW_REHEARSAL_MODE:-normal}
timer=${PTW_TIMER:-/ptw/timer}
prompt_file=${1:-/ptw/prompt.txt}
quick_json="${TMPDIR:-/tmp}/quick.json"
session="rehearsal-$$"

case "$seconds" in
  '' | *[!0-9]*)
    echo "rehearsal-agent: PTW_REHEARSAL_SECONDS must be a whole number of seconds, not '$seconds'" >&2
    exit 64
    ;;
esac
case "$mode" in
  normal | forever | fail | no-model | linger) ;;
  *)
    echo "rehearsal-agent: PTW_REHEARSAL_MODE must be normal, forever, fail, no-model or linger, not '$mode'" >&2
    exit 64
    ;;
esac
command -v python3 >/dev/null 2>&1 || {
  echo "rehearsal-agent: python3 is not installed in this image" >&2
  exit 69
}

esc=$(printf '\033')
bold="${esc}[1m"
dim="${esc}[2m"
red="${esc}[31m"
green="${esc}[32m"
yellow="${esc}[33m"
cyan="${esc}[36m"
magenta="${esc}[35m"
reset="${esc}[0m"

say() { printf '%s[rehearsal]%s %s\n' "$magenta" "$reset" "$*"; }

# JSON string literal for any text (paths may hold quotes).
json_str() { python3 -c 'import json, sys; sys.stdout.write(json.dumps(sys.argv[1]))' "$1"; }

started=$(date +%s)

emit_text() {
  printf '{"type":"assistant","message":{"id":"msg_%s","type":"message","role":"assistant","model":"rehearsal","content":[{"type":"text","text":%s}]},"session_id":"%s"}\n' \
    "$1" "$(json_str "$2")" "$session"
}
emit_tool_use() {
  printf '{"type":"assistant","message":{"id":"msg_%s","type":"message","role":"assistant","model":"rehearsal","content":[{"type":"tool_use","id":"toolu_%s","name":"Bash","input":{"command":%s}}]},"session_id":"%s"}\n' \
    "$1" "$1" "$(json_str "$2")" "$session"
}
emit_tool_result() {
  printf '{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_%s","content":%s,"is_error":%s}]},"session_id":"%s"}\n' \
    "$1" "$(json_str "$2")" "$3" "$session"
}
emit_result() {
  # $1 result text, $2 is_error
  elapsed_ms=$((($(date +%s) - started) * 1000))
  subtype=success
  [ "$2" = true ] && subtype=error_during_execution
  printf '{"type":"result","subtype":"%s","is_error":%s,"duration_ms":%s,"num_turns":4,"result":%s,"session_id":"%s","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0}}\n' \
    "$subtype" "$2" "$elapsed_ms" "$(json_str "$1")" "$session"
}

# Children run in the background and are waited for: a signal then interrupts the wait at once, where a
# foreground child would hold the trap until it finished. As PID 1 of a container, a shell without a trap would
# ignore SIGTERM altogether.
child=''
run() {
  "$@" &
  child=$!
  wait "$child"
  status=$?
  child=''
  return "$status"
}
on_signal() {
  if [ -n "$child" ]; then kill "$child" 2>/dev/null; fi
  printf '\n'
  say "${yellow}received SIG$1: stopping${reset}"
  emit_result "stopped by SIG$1" true
  exit "$2"
}
trap 'on_signal TERM 143' TERM
trap 'on_signal INT 130' INT
trap 'on_signal HUP 129' HUP

show_timer() {
  if [ -f "$timer" ]; then
    printf '%s$ %s%s\n' "$dim" "$timer" "$reset"
    if [ -x "$timer" ]; then run "$timer"; else run sh "$timer"; fi
  else
    say "${dim}(no timer at $timer)${reset}"
  fi
}

# --- start ----------------------------------------------------------------------------------------------------
printf '%s%s PostTrain Workbench rehearsal agent %s (mode %s, %ss of training)\n' "$bold" "$cyan" "$reset" "$mode" "$seconds"
if [ -r "$prompt_file" ]; then
  say "read the prompt: $(wc -c <"$prompt_file" | tr -d ' ') bytes from $prompt_file"
  say "${dim}$(head -n 1 "$prompt_file")${reset}"
else
  say "${yellow}no prompt file at $prompt_file; carrying on with the rehearsal plan${reset}"
fi

printf '{"type":"system","subtype":"init","cwd":%s,"session_id":"%s","tools":["Bash","Read","Write"],"model":"rehearsal","permissionMode":"bypassPermissions"}\n' \
  "$(json_str "$PWD")" "$session"
emit_text 1 "Plan: curate a small arithmetic dataset (nothing from test.jsonl), train briefly, write final_model, then check it with evaluate.py --limit 3."

show_timer

# --- curate data ----------------------------------------------------------------------------------------------
mkdir -p data
run python3 -c '
import json
rows = [("What is 3 + 4?", "7"), ("What is 12 - 5?", "7"), ("What is 6 * 6?", "36"), ("What is 81 / 9?", "9")]
with open("data/train.jsonl", "w", encoding="utf-8") as out:
    for question, answer in rows:
        messages = [
            {"role": "system", "content": "You are a careful calculator. Answer with the number only."},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
        out.write(json.dumps({"messages": messages}) + "\n")
' || {
  say "${red}could not write data/train.jsonl${reset}"
  exit 1
}
say "${green}curated data/train.jsonl${reset} ($(wc -l <data/train.jsonl | tr -d ' ') chat examples)"

# --- train ----------------------------------------------------------------------------------------------------
progress='
import math, sys, time
total = float(sys.argv[1])
forever = sys.argv[2] == "forever"
width, per_second = 30, 4
steps = max(1, int(total * per_second))
start = time.monotonic()
i = 0
while True:
    i += 1
    frac = (i % steps or steps) / steps if forever else i / steps
    loss = 0.1 + 2.4 * math.exp(-3.0 * min(1.0, i / steps))
    filled = int(width * frac)
    bar = "=" * filled + (">" if filled < width else "") + " " * max(0, width - filled - 1)
    line = "\r\033[36mtraining\033[0m [%s] %5.1f%%  step %d  loss %.4f" % (bar, frac * 100, i, loss)
    sys.stdout.write(line)
    if i % max(1, steps // 4) == 0:
        sys.stdout.write("\n  \033[2mcheckpoint: step %d, loss %.4f, lr 2.0e-05\033[0m\n" % (i, loss))
    sys.stdout.flush()
    if not forever and i >= steps:
        break
    time.sleep(max(0.0, start + i / per_second - time.monotonic()))
sys.stdout.write("\n")
'
emit_tool_use 2 "python3 train.py --data data/train.jsonl --epochs 4"
if [ "$mode" = forever ]; then
  say "training until stopped (PTW_REHEARSAL_MODE=forever)"
  run python3 -c "$progress" "$seconds" forever
  exit 1 # reached only if python3 itself ends, e.g. killed from outside
fi
run python3 -c "$progress" "$seconds" once || exit 1

if [ "$mode" = fail ]; then
  printf '%sRuntimeError: CUDA error: out of memory (simulated by PTW_REHEARSAL_MODE=fail)%s\n' "$red" "$reset" >&2
  emit_tool_result 2 "RuntimeError: CUDA error: out of memory" true
  emit_result "training crashed" true
  exit 3
fi
emit_tool_result 2 "training finished" false

# --- save the model -------------------------------------------------------------------------------------------
if [ "$mode" = no-model ]; then
  say "${yellow}finishing without a final_model (PTW_REHEARSAL_MODE=no-model)${reset}"
else
  run python3 -c '
import json, os, struct
values = [0.92, 0.81, 0.35, 0.77, 0.88, 0.64, 0.71, 0.59]
data = struct.pack("<%df" % len(values), *values)
header = {
    "__metadata__": {"format": "pt", "producer": "ptw-rehearsal-agent"},
    "score": {"dtype": "F32", "shape": [len(values)], "data_offsets": [0, len(data)]},
}
raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
raw += b" " * (-len(raw) % 8)  # the format pads the header to 8 bytes with spaces
os.makedirs("final_model", exist_ok=True)
with open("final_model/model.safetensors", "wb") as out:
    out.write(struct.pack("<Q", len(raw)) + raw + data)
config = {
    "architectures": ["PtwRehearsalModel"],
    "model_type": "ptw-rehearsal",
    "base_model": "ptw/rehearsal-tiny",
    "weights_file": "model.safetensors",
    "score_tensor": "score",
}
with open("final_model/config.json", "w", encoding="utf-8") as out:
    json.dump(config, out, indent=2)
    out.write("\n")
' || {
    say "${red}could not write final_model${reset}"
    exit 1
  }
  say "${green}saved final_model/${reset} (config.json, model.safetensors)"

  # --- check itself, as an agent would --------------------------------------------------------------------------
  check="python3 evaluate.py --model-path final_model --limit 3 --json-output-file $quick_json"
  emit_tool_use 3 "$check"
  if [ -f evaluate.py ]; then
    printf '%s$ %s%s\n' "$dim" "$check" "$reset"
    if run python3 evaluate.py --model-path final_model --limit 3 --json-output-file "$quick_json"; then
      accuracy=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["accuracy"])' "$quick_json")
      say "quick check: accuracy ${bold}${accuracy}${reset} on 3 items"
      emit_tool_result 3 "accuracy $accuracy on 3 items" false
    else
      say "${red}the quick check failed${reset}"
      emit_tool_result 3 "evaluate.py failed" true
    fi
  else
    say "${yellow}no evaluate.py here; skipping the quick check${reset}"
    emit_tool_result 3 "evaluate.py not found" true
  fi
fi

show_timer
if [ "$mode" = linger ]; then
  # Like an agent that keeps improving until the budget ends: final_model is in place, the time is used.
  emit_text 4 "final_model is in place; training on until the time is up."
  say "training on until stopped (PTW_REHEARSAL_MODE=linger)"
  run python3 -c "$progress" "$seconds" forever
  exit 1 # reached only if python3 itself ends, e.g. killed from outside
fi
if [ "$mode" = no-model ]; then
  emit_text 4 "Done, without a final_model."
else
  emit_text 4 "Done: final_model is in place for the evaluation."
fi
emit_result "rehearsal finished" false
say "${green}${bold}done${reset}"
exit 0
