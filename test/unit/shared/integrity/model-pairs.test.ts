import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_MODEL_PAIRS,
  editUserModelPairs,
  modelTable,
  parseModelPairArg,
  parseUserModelPairs,
} from '../../../../src/shared/integrity/model-pairs';

describe('the base ↔ instruct model table', () => {
  it("is the host package's MODEL_PAIRS (one table, declared twice: the helper runs without the app)", () => {
    const py = readFileSync(path.resolve('resources/host/ptw_host/integrity/substitution.py'), 'utf8');
    const block = /MODEL_PAIRS = \{([^}]*)\}/.exec(py)![1]!;
    const pairs = [...block.matchAll(/"([^"]+)":\s*"([^"]+)"/g)].map((m) => ({ base: m[1], instruct: m[2] }));
    expect(pairs).toEqual(BUILT_IN_MODEL_PAIRS);
    expect(pairs).toHaveLength(4);
  });

  it('parses BASE=INSTRUCT and refuses what is not two model names, saying which side', () => {
    expect(parseModelPairArg(' a/b = c/d.1 ')).toEqual({ base: 'a/b', instruct: 'c/d.1' });
    expect(() => parseModelPairArg('a/b')).toThrow(/BASE=INSTRUCT/);
    expect(() => parseModelPairArg('ab=c/d')).toThrow(/the base model 'ab'/);
    expect(() => parseModelPairArg('a/b=../x')).toThrow(/the instruct model/);
  });

  it('reads the user file strictly, naming the file and the entry', () => {
    expect(parseUserModelPairs(undefined, 'f.json')).toEqual({});
    expect(parseUserModelPairs({ 'a/b': 'c/d' }, 'f.json')).toEqual({ 'a/b': 'c/d' });
    expect(() => parseUserModelPairs([], 'f.json')).toThrow(/f.json must be a JSON object/);
    expect(() => parseUserModelPairs({ 'a/b': 1 }, 'f.json')).toThrow(/f.json: the entry for 'a\/b'/);
  });

  it('adds, replaces a built-in base, and removes only what the user added', () => {
    let user = editUserModelPairs({}, [{ base: 'x/base', instruct: 'x/chat' }], []);
    user = editUserModelPairs(user, [{ base: 'Qwen/Qwen3-4B-Base', instruct: 'me/qwen-chat' }], []);
    const table = modelTable(user);
    expect(table.find((p) => p.base === 'Qwen/Qwen3-4B-Base')).toEqual({
      base: 'Qwen/Qwen3-4B-Base',
      instruct: 'me/qwen-chat',
      source: 'user',
    });
    expect(table.at(-1)).toEqual({ base: 'x/base', instruct: 'x/chat', source: 'user' });
    expect(table).toHaveLength(5);
    expect(() => editUserModelPairs(user, [], ['google/gemma-3-4b-pt'])).toThrow(/built-in/);
    expect(() => editUserModelPairs(user, [], ['y/none'])).toThrow(/no pair for y\/none/);
    const back = editUserModelPairs(user, [], ['Qwen/Qwen3-4B-Base']);
    expect(modelTable(back).find((p) => p.base === 'Qwen/Qwen3-4B-Base')?.source).toBe('built-in');
  });
});
