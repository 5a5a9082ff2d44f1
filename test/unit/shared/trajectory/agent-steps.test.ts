import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAgentStream, sniffDialect } from '../../../../src/shared/trajectory/agent-steps';
import { streamLines } from '../../../../src/shared/trajectory/stream-lines';

const fixtures = path.resolve(__dirname, '../../../fixtures');
const read = (rel: string) => readFileSync(path.join(fixtures, rel), 'utf8');
/** A pretty-printed single event as the one JSON line the CLI prints. */
const compact = (rel: string) => JSON.stringify(JSON.parse(read(rel)));

describe('Claude Code stream-json', () => {
  it('parses the real basic_query stream with its totals', () => {
    const parsed = parseAgentStream(read('agent-streams/claude-code/gleam-sdk__basic_query.stream.ndjson'));
    expect(parsed.dialect).toBe('claude-stream-json');
    expect(parsed.steps.map((s) => [s.line, s.kind])).toEqual([
      [1, 'system'],
      [2, 'message'],
      [3, 'usage'],
    ]);
    expect(parsed.steps[0]!.title).toContain('claude-opus-4-5-20251101');
    expect(parsed.steps[1]!.text).toBe('4');
    // The result's usage and cost win over the per-message sum.
    expect(parsed.totals).toMatchObject({
      inputTokens: 10 + 21570 + 0,
      cachedInputTokens: 0,
      outputTokens: 25,
      costUsd: 0.1354875,
      rawLines: 0,
    });
  });

  it('pairs a tool_use with its tool_result by id (real events, one per line)', () => {
    const stream = [
      compact('agent-streams/claude-code/gleam-sdk__system_message.json'),
      compact('agent-streams/claude-code/gleam-sdk__assistant_message.json'),
      compact('agent-streams/claude-code/gleam-sdk__user_message.json'),
      compact('agent-streams/claude-code/gleam-sdk__result_success.json'),
    ].join('\n');
    const parsed = parseAgentStream(stream, { dialect: 'claude-stream-json' });
    const shell = parsed.steps.find((s) => s.kind === 'shell')!;
    expect(shell).toMatchObject({
      line: 2,
      endLine: 3,
      toolId: 'toolu_01BeipFBP3sUY3EAwVg3qQnE',
      toolName: 'Bash',
      command: 'ls -la',
      status: 'completed',
      isError: false,
    });
    expect(shell.output).toContain('total 1976');
    // The result line's pairing consumed it: no orphan result step.
    expect(parsed.steps.filter((s) => s.kind === 'tool')).toHaveLength(0);
    expect(parsed.totals).toMatchObject({ toolCalls: 1, unfinishedCalls: 0, costUsd: 0.24722425, outputTokens: 424 });
    expect(parsed.totals.inputTokens).toBe(18 + 25067 + 17254);
  });
});

describe('PostTrainBench Codex trace', () => {
  const trace = read(
    'posttrainbench/runs/codex_non_api_high_gpt-5.4_10h_run1/gsm8k_Qwen_Qwen3-1.7B-Base_16934887/solve_out.txt',
  );

  it('keeps launcher lines raw and reads every Codex event', () => {
    const parsed = parseAgentStream(trace);
    expect(parsed.dialect).toBe('codex-exec-json');
    const raw = parsed.steps.filter((s) => s.kind === 'raw');
    // The launcher's CUDA check lines come first, as text, with their line numbers and no "problem".
    expect(raw.map((s) => s.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(raw.every((s) => s.problem === undefined)).toBe(true);
    expect(raw[1]!.title).toBe('✓ CUDA available with 1 device(s)');
    // Every line is accounted for: raw steps, steps, or completion of an earlier step (turn.started is bookkeeping).
    const covered = new Set(parsed.steps.flatMap((s) => [s.line, s.endLine ?? s.line]));
    const lines = streamLines(trace);
    const uncovered = lines.filter((l) => !covered.has(l.line)).map((l) => JSON.parse(l.text).type as string);
    expect(uncovered.every((type) => type === 'turn.started' || type === 'item.updated')).toBe(true);
  });

  it('pairs started and completed items, keeps unfinished ones, and sums usage', () => {
    const parsed = parseAgentStream(trace);
    const pwd = parsed.steps.find((s) => s.toolId === 'item_2')!;
    expect(pwd).toMatchObject({ kind: 'shell', exitCode: 127, status: 'failed', isError: true });
    expect(pwd.output).toContain('rg: command not found');
    expect(pwd.endLine).toBeGreaterThan(pwd.line);
    const timer = parsed.steps.find((s) => s.toolId === 'item_3')!;
    expect(timer.output).toContain('9:59');
    // item_4 (git status) started and never completed in this trace.
    expect(parsed.steps.find((s) => s.toolId === 'item_4')).toMatchObject({ status: 'in_progress', output: null });
    const files = parsed.steps.find((s) => s.kind === 'file')!;
    expect(files.files).toEqual([
      { path: '/home/ben/task/eval_holdout.py', action: 'add' },
      { path: '/home/ben/task/train_gsm8k.py', action: 'add' },
      { path: '/home/ben/task/gsm8k_utils.py', action: 'add' },
    ]);
    expect(parsed.steps.some((s) => s.kind === 'thinking')).toBe(true);
    expect(parsed.steps.some((s) => s.kind === 'tool' && s.toolName === 'web_search')).toBe(true);
    expect(parsed.totals).toMatchObject({
      inputTokens: 20976581,
      cachedInputTokens: 20707840,
      outputTokens: 46993,
      costUsd: null,
    });
    expect(parsed.totals.unfinishedCalls).toBeGreaterThan(0);
    // The to-do list was started, updated and completed: one step, completed, with the last list.
    const plan = parsed.steps.filter((s) => s.toolId === 'item_53');
    expect(plan).toHaveLength(1);
    expect(plan[0]).toMatchObject({ kind: 'system', status: 'completed' });
    expect(plan[0]!.text).toContain('[x] Export the chosen model');
  });

  it('takes step times from [ISO-Z] prefixes', () => {
    const lines = trace.split('\n').slice(0, 14);
    const stamped = lines.map((l, i) => (i < 9 ? l : `[2026-03-06T17:0${i - 9}:00Z] ${l}`)).join('\n');
    const parsed = parseAgentStream(stamped);
    const thread = parsed.steps.find((s) => s.kind === 'system')!;
    expect(thread.t).toBe(Date.parse('2026-03-06T17:01:00Z'));
    expect(parsed.steps.find((s) => s.line === 1)!.t).toBeNull();
  });
});

describe('Codex exec --json, older protocol-event shape', () => {
  // Shape: openai/codex codex-rs/protocol/src/protocol.rs `Event { id, msg: EventMsg }` (serde tag "type",
  // snake_case): ExecCommandBeginEvent { call_id, command: Vec<String>, cwd }, ExecCommandEndEvent { call_id, stdout,
  // stderr, aggregated_output, exit_code, duration }, PatchApplyBeginEvent { call_id, changes: {path: FileChange} }.
  const stream = [
    '{"id":"0","msg":{"type":"task_started"}}',
    '{"id":"0","msg":{"type":"agent_reasoning","text":"**Inspecting the task**"}}',
    '{"id":"0","msg":{"type":"exec_command_begin","call_id":"call_1","command":["bash","-lc","ls"],"cwd":"/w","parsed_cmd":[]}}',
    '{"id":"0","msg":{"type":"exec_command_end","call_id":"call_1","stdout":"a.py\\n","stderr":"","aggregated_output":"a.py\\n","exit_code":0,"duration":{"secs":0,"nanos":5}}}',
    '{"id":"0","msg":{"type":"patch_apply_begin","call_id":"call_2","auto_approved":true,"changes":{"/w/train.py":{"add":{"content":"print(1)"}}}}}',
    '{"id":"0","msg":{"type":"patch_apply_end","call_id":"call_2","stdout":"Success","stderr":"","success":true}}',
    '{"id":"0","msg":{"type":"token_count","input_tokens":1200,"cached_input_tokens":200,"output_tokens":345}}',
    '{"id":"0","msg":{"type":"agent_message","message":"Done."}}',
    '{"id":"0","msg":{"type":"something_new","x":1}}',
  ].join('\n');

  it('pairs begin/end by call_id and counts tokens', () => {
    const parsed = parseAgentStream(stream);
    expect(parsed.dialect).toBe('codex-exec-json');
    const shell = parsed.steps.find((s) => s.kind === 'shell')!;
    expect(shell).toMatchObject({
      command: 'ls',
      output: 'a.py\n',
      exitCode: 0,
      line: 3,
      endLine: 4,
      status: 'completed',
    });
    const file = parsed.steps.find((s) => s.kind === 'file')!;
    expect(file).toMatchObject({ files: [{ path: '/w/train.py', action: 'add' }], endLine: 6, status: 'completed' });
    expect(parsed.totals).toMatchObject({ inputTokens: 1200, cachedInputTokens: 200, outputTokens: 345 });
    expect(parsed.steps.find((s) => s.kind === 'message')!.text).toBe('Done.');
    const unknown = parsed.steps.find((s) => s.line === 9)!;
    expect(unknown.kind).toBe('raw');
    expect(unknown.problem).toContain('something_new');
  });
});

describe('Gemini CLI stream-json', () => {
  // Shape: google-gemini/gemini-cli packages/core/src/output/types.ts (InitEvent, MessageEvent with delta,
  // ToolUseEvent, ToolResultEvent, ErrorEvent, ResultEvent with StreamStats).
  const stream = [
    '{"type":"init","timestamp":"2026-01-05T10:00:00.000Z","session_id":"s1","model":"gemini-2.5-pro"}',
    '{"type":"message","timestamp":"2026-01-05T10:00:01.000Z","role":"user","content":"Train the model"}',
    '{"type":"message","timestamp":"2026-01-05T10:00:02.000Z","role":"assistant","content":"I will ","delta":true}',
    '{"type":"message","timestamp":"2026-01-05T10:00:02.500Z","role":"assistant","content":"start.","delta":true}',
    '{"type":"tool_use","timestamp":"2026-01-05T10:00:03.000Z","tool_name":"run_shell_command","tool_id":"t1","parameters":{"command":"nvidia-smi"}}',
    '{"type":"tool_use","timestamp":"2026-01-05T10:00:04.000Z","tool_name":"write_file","tool_id":"t2","parameters":{"file_path":"/w/train.py","content":"x"}}',
    '{"type":"tool_result","timestamp":"2026-01-05T10:00:05.000Z","tool_id":"t1","status":"success","output":"GPU 0: H100"}',
    '{"type":"tool_result","timestamp":"2026-01-05T10:00:06.000Z","tool_id":"t2","status":"error","error":{"type":"E","message":"denied"}}',
    '{"type":"error","timestamp":"2026-01-05T10:00:07.000Z","severity":"warning","message":"loop detected"}',
    '{"type":"result","timestamp":"2026-01-05T10:00:08.000Z","status":"success","stats":{"total_tokens":150,"input_tokens":100,"output_tokens":50,"cached":40,"input":60,"duration_ms":8000,"tool_calls":2}}',
  ].join('\n');

  it('merges deltas, pairs tool results by tool_id, reads stats and timestamps', () => {
    const parsed = parseAgentStream(stream);
    expect(parsed.dialect).toBe('gemini-stream-json');
    const reply = parsed.steps.filter((s) => s.kind === 'message' && s.role === 'assistant');
    expect(reply).toHaveLength(1);
    expect(reply[0]).toMatchObject({ text: 'I will start.', line: 3, endLine: 4 });
    expect(parsed.steps.find((s) => s.kind === 'shell')).toMatchObject({
      command: 'nvidia-smi',
      output: 'GPU 0: H100',
      endLine: 7,
      t: Date.parse('2026-01-05T10:00:03.000Z'),
    });
    expect(parsed.steps.find((s) => s.kind === 'file')).toMatchObject({
      files: [{ path: '/w/train.py', action: 'write' }],
      isError: true,
      output: 'denied',
    });
    expect(parsed.totals).toMatchObject({ inputTokens: 100, cachedInputTokens: 40, outputTokens: 50, toolCalls: 2 });
  });
});

describe('OpenCode json', () => {
  // Shape: sst/opencode packages/opencode/src/cli/cmd/run.ts `emit(type, { part })` with {type, timestamp,
  // sessionID}; tool parts carry `state` {status, input, output, metadata}, step-finish parts `cost` and `tokens`.
  const stream = [
    '{"type":"step_start","timestamp":1767036059338,"sessionID":"ses_1","part":{"id":"prt_1","type":"step-start"}}',
    '{"type":"text","timestamp":1767036060000,"sessionID":"ses_1","part":{"id":"prt_2","type":"text","text":"Checking the GPU.","time":{"start":1,"end":2}}}',
    '{"type":"tool_use","timestamp":1767036061000,"sessionID":"ses_1","part":{"id":"prt_3","type":"tool","callID":"call_1","tool":"bash","state":{"status":"completed","input":{"command":"nvidia-smi -L"},"output":"GPU 0: H100","title":"nvidia-smi -L","metadata":{"exit":0}}}}',
    '{"type":"tool_use","timestamp":1767036062000,"sessionID":"ses_1","part":{"id":"prt_4","type":"tool","callID":"call_2","tool":"write","state":{"status":"error","input":{"filePath":"/w/a.py"},"error":"EACCES"}}}',
    '{"type":"step_finish","timestamp":1767036063000,"sessionID":"ses_1","part":{"id":"prt_5","type":"step-finish","reason":"stop","cost":0.0031,"tokens":{"input":1200,"output":300,"reasoning":50,"cache":{"read":800,"write":100}}}}',
    '{"type":"error","timestamp":1767036064000,"sessionID":"ses_1","error":{"name":"APIError","data":{"message":"rate limited"}}}',
  ].join('\n');

  it('reads parts, usage and cost', () => {
    const parsed = parseAgentStream(stream, { dialect: 'opencode-json' });
    expect(parsed.steps.map((s) => s.kind)).toEqual(['message', 'shell', 'file', 'usage', 'error']);
    expect(parsed.steps[1]).toMatchObject({
      command: 'nvidia-smi -L',
      output: 'GPU 0: H100',
      exitCode: 0,
      t: 1767036061000,
    });
    expect(parsed.steps[2]).toMatchObject({ isError: true, output: 'EACCES', status: 'failed' });
    expect(parsed.steps[4]!.text).toBe('rate limited');
    expect(parsed.totals).toMatchObject({
      inputTokens: 2100,
      cachedInputTokens: 800,
      outputTokens: 350,
      costUsd: 0.0031,
    });
  });

  it('reads text as a message and reasoning as thinking, each titled by its first line or by its kind', () => {
    const parts = [
      '{"type":"reasoning","timestamp":1,"sessionID":"ses_1","part":{"id":"prt_1","type":"reasoning","text":"Plan first.\\nThen train."}}',
      '{"type":"text","timestamp":2,"sessionID":"ses_1","part":{"id":"prt_2","type":"text","text":""}}',
      '{"type":"reasoning","timestamp":3,"sessionID":"ses_1","part":{"id":"prt_3","type":"reasoning","text":""}}',
    ].join('\n');
    const parsed = parseAgentStream(parts, { dialect: 'opencode-json' });
    expect(parsed.steps.map((s) => [s.kind, s.role, s.title])).toEqual([
      ['thinking', 'assistant', 'Plan first.'],
      ['message', 'assistant', '(message)'],
      ['thinking', 'assistant', '(thinking)'],
    ]);
    expect(parsed.steps[0]!.text).toBe('Plan first.\nThen train.');
  });
});

describe('broken and unknown lines', () => {
  it('keeps each one raw with its line number and the reason', () => {
    const stream = [
      '{"type":"system","subtype":"init","model":"m"}',
      '{"type":"assistant","message":{"id":"a","content":[{"type":"text","text":"hi"}]',
      'Traceback (most recent call last):',
      '[1, 2]',
      '{"type":"mystery"}',
      '',
      '{"type":"assistant","message":{"id":"b","content":[{"type":"text","text":"bye"}]}}',
    ].join('\n');
    const parsed = parseAgentStream(stream, { dialect: 'claude-stream-json' });
    const raw = parsed.steps.filter((s) => s.kind === 'raw');
    expect(raw.map((s) => s.line)).toEqual([2, 3, 4, 5]);
    expect(raw[0]!.problem).toMatch(/not valid JSON/);
    expect(raw[0]!.text).toContain('"hi"');
    expect(raw[1]!.problem).toBeUndefined();
    expect(raw[3]!.problem).toContain('"mystery"');
    expect(parsed.steps.at(-1)).toMatchObject({ line: 7, kind: 'message', text: 'bye' });
    expect(parsed.totals.rawLines).toBe(4);
  });

  it('sniffs each dialect from its first recognisable event', () => {
    expect(sniffDialect({ type: 'item.completed' })).toBe('codex-exec-json');
    expect(sniffDialect({ id: '0', msg: { type: 'x' } })).toBe('codex-exec-json');
    expect(sniffDialect({ type: 'tool_use', tool_name: 'x' })).toBe('gemini-stream-json');
    expect(sniffDialect({ type: 'tool_use', part: {} })).toBe('opencode-json');
    expect(sniffDialect({ type: 'mystery' })).toBeNull();
  });
});

describe('agent outputs as other CLIs write them (issue 16)', () => {
  it('shows the final answer of a single-document --output-format json result (Claude, pretty-printed)', () => {
    // The real result event, as `claude -p --output-format json` prints it alone (pretty-printed here).
    const text = read('agent-streams/claude-code/gleam-sdk__result_success.json');
    const parsed = parseAgentStream(text);
    expect(parsed.dialect).toBe('claude-stream-json');
    expect(parsed.steps.map((s) => [s.line, s.kind, s.title])).toEqual([
      [1, 'message', 'Here are the files in the current directory.'],
      [1, 'usage', expect.stringContaining('finished: success · 2 turns · $0.2472')],
    ]);
    expect(parsed.totals).toMatchObject({ outputTokens: 424, cachedInputTokens: 17254, rawLines: 0 });
    // In a stream the result repeats the last message, so it is not shown twice.
    const stream = parseAgentStream(read('agent-streams/claude-code/gleam-sdk__basic_query.stream.ndjson'));
    expect(stream.steps.filter((s) => s.kind === 'message')).toHaveLength(1);
  });

  it("reads Cursor's stream-json: thinking deltas, tool_call started/completed, camelCase usage", () => {
    const events = [
      { type: 'system', subtype: 'init', apiKeySource: 'login', cwd: '/w', session_id: 's', model: 'gpt-5' },
      { type: 'thinking', subtype: 'delta', text: 'Let me ', session_id: 's', timestamp_ms: 1770823434041 },
      { type: 'thinking', subtype: 'delta', text: 'look.', session_id: 's', timestamp_ms: 1770823434100 },
      { type: 'thinking', subtype: 'completed', session_id: 's', timestamp_ms: 1770823435070 },
      {
        type: 'tool_call',
        subtype: 'started',
        call_id: 'call_1',
        tool_call: { shellToolCall: { args: { command: 'ls -la', workingDirectory: '' } } },
        session_id: 's',
        timestamp_ms: 1770823449274,
      },
      {
        type: 'tool_call',
        subtype: 'completed',
        call_id: 'call_1',
        tool_call: {
          shellToolCall: {
            args: { command: 'ls -la' },
            result: { success: { exitCode: 0, stdout: 'evaluate.py\n', stderr: '' } },
          },
        },
        session_id: 's',
        timestamp_ms: 1770823449565,
      },
      {
        type: 'tool_call',
        subtype: 'started',
        call_id: 'call_2',
        tool_call: { editToolCall: { args: { path: '/w/train.py' } } },
        session_id: 's',
      },
      {
        type: 'tool_call',
        subtype: 'completed',
        call_id: 'call_2',
        tool_call: { editToolCall: { args: { path: '/w/train.py' }, result: { error: { message: 'denied' } } } },
        session_id: 's',
      },
      {
        type: 'result',
        subtype: 'success',
        duration_ms: 4986,
        is_error: false,
        result: 'Done.',
        session_id: 's',
        usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 60, cacheWriteTokens: 5 },
      },
    ];
    const parsed = parseAgentStream(events.map((e) => JSON.stringify(e)).join('\n'));
    expect(parsed.dialect).toBe('claude-stream-json');
    expect(parsed.steps.map((s) => [s.kind, s.title])).toEqual([
      ['system', 'init · gpt-5'],
      ['thinking', 'Let me look.'],
      ['shell', '$ ls -la'],
      ['file', 'edit /w/train.py'],
      ['message', 'Done.'],
      ['usage', 'finished: success'],
    ]);
    expect(parsed.steps[1]).toMatchObject({ line: 2, endLine: 4, t: 1770823434041 });
    expect(parsed.steps[2]).toMatchObject({ endLine: 6, output: 'evaluate.py\n', exitCode: 0, status: 'completed' });
    expect(parsed.steps[3]).toMatchObject({
      isError: true,
      status: 'failed',
      files: [{ path: '/w/train.py', action: 'edit' }],
    });
    expect(parsed.totals).toMatchObject({
      inputTokens: 165,
      cachedInputTokens: 60,
      outputTokens: 20,
      toolCalls: 2,
      unfinishedCalls: 0,
      rawLines: 0,
    });
    // Cursor's single-document --output-format json.
    const single = parseAgentStream(
      JSON.stringify({
        type: 'result',
        subtype: 'success',
        is_error: false,
        duration_ms: 1234,
        result: '42',
        session_id: 's',
      }),
    );
    expect(single.steps.map((s) => [s.kind, s.title])).toEqual([
      ['message', '42'],
      ['usage', 'finished: success'],
    ]);
  });

  it("reads Claude's rate_limit_event, Gemini's --output-format json, and explains an unknown event", () => {
    const parsed = parseAgentStream(
      [
        '{"type":"system","subtype":"init","model":"claude-opus-4-6"}',
        '{"type":"rate_limit_event","rate_limit_info":{"status":"allowed_warning","resetsAt":1767600000,"rateLimitType":"five_hour"},"session_id":"s"}',
        '{"type":"mystery_event","x":1}',
        '{"no_type":true}',
      ].join('\n'),
    );
    expect(parsed.steps.map((s) => [s.kind, s.title, s.problem])).toEqual([
      ['system', 'init · claude-opus-4-6', undefined],
      ['system', 'rate limit: allowed_warning (five_hour) · resets 2026-01-05T08:00:00.000Z', undefined],
      [
        'raw',
        expect.any(String),
        'an event of type "mystery_event", which the claude-stream-json format does not describe',
      ],
      ['raw', expect.any(String), 'an event without a type, which the claude-stream-json format does not describe'],
    ]);
    expect(parsed.totals.rawLines).toBe(2);
    expect(parseAgentStream('{"type":"mystery"}').steps[0]!.problem).toBe(
      'an event of type "mystery", which no known format describes',
    );

    // gemini -p --output-format json: one pretty-printed document.
    const gemini = JSON.stringify(
      {
        response: 'The answer is 4.',
        stats: {
          models: {
            'gemini-2.5-pro': {
              api: { totalRequests: 1 },
              tokens: { prompt: 900, candidates: 12, total: 950, cached: 300 },
            },
          },
          tools: { totalCalls: 0 },
        },
      },
      null,
      2,
    );
    const g = parseAgentStream(gemini);
    expect(g.dialect).toBe('gemini-stream-json');
    expect(g.steps.map((s) => [s.kind, s.title])).toEqual([
      ['message', 'The answer is 4.'],
      ['usage', 'finished · gemini-2.5-pro'],
    ]);
    expect(g.totals).toMatchObject({ inputTokens: 900, cachedInputTokens: 300, outputTokens: 12, rawLines: 0 });
  });
});
