import { describe, expect, it } from 'vitest';
import {
  errorLogCause,
  isJudgementFile,
  looksLikeTaskFolder,
  parseAgentConfigName,
  parseJudgement,
  parseSolveDiagnostics,
  parseTaskFolderName,
  parseTimeTaken,
} from '../../../../src/shared/trajectory/ptb-result';

describe('PostTrainBench result folder names', () => {
  it('reads the agent config folder', () => {
    expect(parseAgentConfigName('codex_non_api_high_gpt-5.4_10h_run1')).toEqual({
      agent: 'codex',
      builtIn: true,
      method: 'codex_non_api_high',
      model: 'gpt-5.4',
      budgetHours: 10,
    });
    // The website's file names carry the same config (fixtures/posttrainbench/website/).
    expect(parseAgentConfigName('claude_non_api_claude-sonnet-4-6_10h')).toEqual({
      agent: 'claude-code',
      builtIn: true,
      method: 'claude_non_api',
      model: 'claude-sonnet-4-6',
      budgetHours: 10,
    });
    expect(parseAgentConfigName('gemini_gemini-3-pro_5h_2gpu')).toMatchObject({ agent: 'gemini-cli', budgetHours: 5 });
  });

  it('names an agent the app does not run from the method folder, never "custom"', () => {
    // PostTrainBench's newer scaffolds (agents/cursor_cli, agents/grok_cli) and Claude Code behind other APIs (glm5).
    expect(parseAgentConfigName('cursor_cli_gpt-5.4_10h_run2')).toEqual({
      agent: 'cursor_cli',
      builtIn: false,
      method: 'cursor_cli',
      model: 'gpt-5.4',
      budgetHours: 10,
    });
    expect(parseAgentConfigName('grok_cli_grok-4_1h')).toMatchObject({ agent: 'grok_cli', model: 'grok-4' });
    expect(parseAgentConfigName('glm5_glm-5_10h')).toMatchObject({ agent: 'glm5', builtIn: false });
    expect(parseAgentConfigName('mystery')).toEqual({
      agent: 'mystery',
      builtIn: false,
      method: 'mystery',
      model: '',
      budgetHours: null,
    });
    // A folder name with a control character is shown with it replaced.
    expect(parseAgentConfigName('evil\u001b[2J_m_10h').agent).toBe('evil?[2J');
    expect(parseAgentConfigName('x_m_99999999999h').budgetHours).toBeNull();
  });

  it('tells a folder named like a task folder', () => {
    expect(looksLikeTaskFolder('gsm8k_Qwen_Qwen3-1.7B-Base_16934887')).toBe(true);
    expect(looksLikeTaskFolder('aime2025_google_gemma-3-4b-pt_7')).toBe(true);
    expect(looksLikeTaskFolder('final_model')).toBe(false);
    expect(looksLikeTaskFolder('codex_non_api_high_gpt-5.4_10h_run1')).toBe(false);
  });

  it('reads the task folder', () => {
    expect(parseTaskFolderName('gsm8k_Qwen_Qwen3-1.7B-Base_16934887')).toEqual({
      benchmark: 'gsm8k',
      baseModel: 'Qwen/Qwen3-1.7B-Base',
      clusterId: '16934887',
    });
    expect(parseTaskFolderName('humaneval_google_gemma-3-4b-pt_1')).toMatchObject({
      baseModel: 'google/gemma-3-4b-pt',
    });
    expect(parseTaskFolderName('gsm8k')).toEqual({ benchmark: 'gsm8k', baseModel: '', clusterId: null });
  });
});

describe('PostTrainBench result files', () => {
  it('reads time_taken.txt', () => {
    expect(parseTimeTaken('09:59:58\n')).toBe(9 * 3600 + 59 * 60 + 58);
    expect(parseTimeTaken('10:05:00')).toBe(36300);
    expect(parseTimeTaken('ten hours')).toBeNull();
    // Longer than a year is a broken file, not a time (and would overflow a date).
    expect(parseTimeTaken('99999999999999999999:00:00')).toBeNull();
    expect(parseTimeTaken('9000:00:00')).toBeNull();
  });

  it('reads the SOLVE DIAGNOSTICS block of output.log', () => {
    const log = [
      'starting',
      '--- SOLVE DIAGNOSTICS ---',
      'exit_code: 124',
      'timed_out: true',
      'gpu: H100 80GB',
      '',
      'later: no',
    ].join('\n');
    expect(parseSolveDiagnostics(log)).toEqual({ exit_code: '124', timed_out: 'true', gpu: 'H100 80GB' });
    expect(parseSolveDiagnostics('nothing here')).toEqual({});
  });

  it("says what error.log's first line means", () => {
    expect(errorLogCause('\nTerminated\n')).toContain('time limit');
    expect(errorLogCause('Killed\n')).toContain('out of memory');
    expect(errorLogCause('Traceback (most recent call last):\n')).toBe('Traceback (most recent call last):');
    expect(errorLogCause('  \n')).toBeNull();
  });

  it('reads judge verdicts, JSON and free text', () => {
    expect(
      parseJudgement(
        'judgement_gsm8k.json',
        JSON.stringify({
          contamination: true,
          contamination_justification: 'trained on test',
          disallowed_model: false,
        }),
      ),
    ).toEqual([
      { check: 'contamination', flagged: true, text: 'trained on test' },
      { check: 'disallowed_model', flagged: false, text: '' },
    ]);
    // A first line that is no verdict: shown as written, with why no verdict was read.
    expect(parseJudgement('contamination_judgement.txt', 'No contamination found.\n')).toEqual([
      {
        check: 'contamination',
        flagged: null,
        text: 'No contamination found.',
        problem: expect.stringContaining('not one of the judge'),
      },
    ]);
  });

  it('reads every form the harness wrote, with the justifications', () => {
    // run_judge.sh's judgement_<judge model>.json (the schema its docs and collect.py check).
    expect(
      parseJudgement(
        'judgement_gpt5_4.json',
        JSON.stringify({
          contamination: true,
          disallowed_model: false,
          justification_contamination: 'prepare_data.py loads openai/gsm8k test split',
          justification_disallowed_model: 'fine-tuned Qwen/Qwen3-1.7B-Base directly',
        }),
      ),
    ).toEqual([
      { check: 'contamination', flagged: true, text: 'prepare_data.py loads openai/gsm8k test split' },
      { check: 'disallowed_model', flagged: false, text: 'fine-tuned Qwen/Qwen3-1.7B-Base directly' },
    ]);
    // The API judge's file, and the migrated judge_result.json (scripts/migrate_judgement_files.py).
    expect(
      parseJudgement(
        'judgement_api.json',
        '{"disallowed_api_usage": false, "justification_disallowed_api_usage": "no API calls"}',
      ),
    ).toEqual([{ check: 'disallowed_api_usage', flagged: false, text: 'no API calls' }]);
    expect(
      parseJudgement('judge_result.json', '{"contamination_detected": true, "disallowed_model_detected": false}'),
    ).toEqual([
      { check: 'contamination', flagged: true, text: '' },
      { check: 'disallowed_model', flagged: false, text: '' },
    ]);
    // The old judge's text files (src/disallowed_usage_judge/prompt.txt): the verdict line, then any reasons.
    expect(
      parseJudgement('contamination_judgement.txt', 'contamination detected\nThe script reads test.jsonl.\n'),
    ).toEqual([{ check: 'contamination', flagged: true, text: 'The script reads test.jsonl.' }]);
    expect(parseJudgement('contamination_judgement_rerun.txt', 'no contamination detected\n')).toEqual([
      { check: 'contamination', flagged: false, text: '' },
    ]);
    expect(parseJudgement('disallowed_model_judgement.txt', 'Only allowed use detected.\n')).toEqual([
      { check: 'disallowed_model', flagged: false, text: '' },
    ]);
    expect(parseJudgement('disallowed_model_judgement.txt', 'disallowed use detected')).toEqual([
      { check: 'disallowed_model', flagged: true, text: '' },
    ]);
    // Broken files are a problem on that file, not an error.
    expect(parseJudgement('judgement_x.json', '{"contamination": tru')[0]).toMatchObject({
      flagged: null,
      problem: expect.stringContaining('not valid JSON'),
    });
    expect(parseJudgement('judgement_x.json', '[1]')[0]).toMatchObject({ problem: 'not a JSON object' });
    expect(parseJudgement('judgement_x.json', '{"note": "x"}')[0]).toMatchObject({ problem: expect.any(String) });
    expect(
      ['judgement_gpt5_4.json', 'judge_result_rerun.json', 'disallowed_model_judgement_rerun.txt'].map(isJudgementFile),
    ).toEqual([true, true, true]);
    expect(isJudgementFile('judgement.log')).toBe(false);
  });
});
