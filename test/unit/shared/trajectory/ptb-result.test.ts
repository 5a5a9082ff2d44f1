import { describe, expect, it } from 'vitest';
import {
  errorLogCause,
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
      model: 'gpt-5.4',
      budgetHours: 10,
    });
    // The website's file names carry the same config (fixtures/posttrainbench/website/).
    expect(parseAgentConfigName('claude_non_api_claude-sonnet-4-6_10h')).toEqual({
      agent: 'claude-code',
      model: 'claude-sonnet-4-6',
      budgetHours: 10,
    });
    expect(parseAgentConfigName('gemini_gemini-3-pro_5h_2gpu')).toMatchObject({ agent: 'gemini-cli', budgetHours: 5 });
    expect(parseAgentConfigName('mystery')).toEqual({ agent: 'custom', model: '', budgetHours: null });
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
    expect(parseJudgement('contamination_judgement.txt', 'No contamination found.\n')).toEqual([
      { check: 'contamination', flagged: null, text: 'No contamination found.' },
    ]);
  });
});
