// The layering rules are real: ESLint rejects imports that cross a layer.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function violations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

// Loading the ESLint config (typescript-eslint, React plugins) takes seconds on a loaded 2-core box.
describe('layering lint', { timeout: 60_000 }, () => {
  it('keeps src/shared free of node, electron, DOM-side and UI imports', async () => {
    expect(await violations('src/shared/x.ts', "import fs from 'node:fs'; export const a = fs;")).toHaveLength(1);
    expect(await violations('src/shared/x.ts', "import { app } from 'electron'; export const a = app;")).toHaveLength(
      1,
    );
    expect(
      await violations('src/shared/x.ts', "import { x } from '../main/app-services'; export const a = x;"),
    ).toHaveLength(1);
    expect(await violations('src/shared/x.ts', "import React from 'react'; export const a = React;")).toHaveLength(1);
    expect(await violations('src/shared/x.ts', "import { z } from 'zod'; export const a = z;")).toHaveLength(0);
  });

  it('lets the renderer import only src/shared and browser libraries', async () => {
    expect(await violations('src/renderer/x.ts', "import os from 'os'; export const a = os;")).toHaveLength(1);
    expect(
      await violations('src/renderer/x.ts', "import { Client } from 'ssh2'; export const a = Client;"),
    ).toHaveLength(1);
    expect(
      await violations('src/renderer/x.ts', "import { x } from '../main/app-services'; export const a = x;"),
    ).toHaveLength(1);
    expect(
      await violations(
        'src/renderer/x.ts',
        "import { commands } from '../shared/contract'; export const a = commands;",
      ),
    ).toHaveLength(0);
  });

  it('confines electron to the shell and raw IPC to the preload and main entry', async () => {
    expect(
      await violations('src/main/services/x.ts', "import { app } from 'electron'; export const a = app;"),
    ).toHaveLength(1);
    expect(
      await violations(
        'src/main/electron/x.ts',
        "import { ipcRenderer } from 'electron'; export const a = ipcRenderer;",
      ),
    ).toHaveLength(1);
    expect(
      await violations(
        'src/main/electron/preload.ts',
        "import { ipcRenderer } from 'electron'; export const a = ipcRenderer;",
      ),
    ).toHaveLength(0);
  });
});
