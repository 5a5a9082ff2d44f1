import { appendFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordTail } from '../../../../src/main/monitor/record-tail';

describe('RecordTail', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-tail-'));
    file = path.join(dir, 'events.jsonl');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns complete lines once each, holding a line and a character cut mid-write', async () => {
    const tail = new RecordTail(file);
    expect(await tail.readNew()).toEqual({ lines: [], reset: false, firstLine: 1 });
    const text = Buffer.from('{"a": "é"}\n{"b": "ü"}\n', 'utf8');
    // Cut inside "ü" (two bytes in UTF-8).
    const cut = text.indexOf(Buffer.from('ü', 'utf8')) + 1;
    await writeFile(file, text.subarray(0, cut));
    expect(await tail.readNew()).toEqual({ lines: ['{"a": "é"}'], reset: false, firstLine: 1 });
    await appendFile(file, text.subarray(cut));
    expect(await tail.readNew()).toEqual({ lines: ['{"b": "ü"}'], reset: false, firstLine: 2 });
    expect(await tail.readNew()).toEqual({ lines: [], reset: false, firstLine: 3 });
  });

  it('starts over when the file was cut back', async () => {
    const tail = new RecordTail(file);
    await writeFile(file, 'one\ntwo\n');
    await tail.readNew();
    await truncate(file, 4);
    expect(await tail.readNew()).toEqual({ lines: ['one'], reset: true, firstLine: 1 });
  });
});
