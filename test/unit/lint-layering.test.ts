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

  it('keeps renderer features apart: they import the low folders, pages compose them, low folders import none', async () => {
    const use = (from: string) => `import { x } from '${from}'; export const a = x;`;
    // A feature imports another feature's files: refused (from either depth of a low folder, too).
    expect(await violations('src/renderer/steps/x.tsx', use('../replay/replay-view'))).toHaveLength(1);
    expect(await violations('src/renderer/runs/x.tsx', use('../monitor/gpu-sparkline'))).toHaveLength(1);
    expect(await violations('src/renderer/store/slices/x.ts', use('../../hosts/preflight-run'))).toHaveLength(1);
    expect(await violations('src/renderer/common/x.ts', use('../live/terminal-surface'))).toHaveLength(1);
    expect(await violations('src/renderer/shell/x.tsx', use('../pages/runs-view'))).toHaveLength(1);
    expect(await violations('src/renderer/datasets/x.tsx', use('../pages/run-detail-view'))).toHaveLength(1);
    // Its own folder, the low folders and src/shared: fine; pages and the root compose features.
    expect(await violations('src/renderer/steps/x.tsx', use('./step-row'))).toHaveLength(0);
    expect(await violations('src/renderer/steps/x.tsx', use('../common/run-tabs'))).toHaveLength(0);
    expect(await violations('src/renderer/steps/x.tsx', use('../store/use-query'))).toHaveLength(0);
    expect(await violations('src/renderer/steps/x.tsx', use('../../shared/contract'))).toHaveLength(0);
    expect(await violations('src/renderer/pages/x.tsx', use('../replay/replay-view'))).toHaveLength(0);
    expect(await violations('src/renderer/app.tsx', use('./pages/runs-view'))).toHaveLength(0);
    // The folder rules keep the renderer's own: no node, no main.
    expect(await violations('src/renderer/steps/x.ts', "import os from 'os'; export const a = os;")).toHaveLength(1);
    expect(await violations('src/renderer/store/x.ts', use('../../main/app-services'))).toHaveLength(1);
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

  it('keeps src/main features apart: shared pieces from low folders, registrations listed by the root only', async () => {
    const feature = (file: string, code: string) => violations(`src/main/${file}`, code);
    // A feature reads another feature's files: refused; the run model in runs/ and shared/ are fine.
    expect(
      await feature('leaderboard/x.ts', "import { T } from '../trajectory/trajectory-service'; export const a = T;"),
    ).toHaveLength(1);
    expect(
      await feature('leaderboard/x.ts', "import { RunMirror } from '../runs/run-mirror'; export const a = RunMirror;"),
    ).toHaveLength(0);
    expect(
      await feature(
        'leaderboard/x.ts',
        "import { f } from '../../shared/integrity/integrity-verdict'; export const a = f;",
      ),
    ).toHaveLength(0);
    // A low folder never reaches up into a feature.
    expect(
      await feature('runs/x.ts', "import { L } from '../live/live-stream-service'; export const a = L;"),
    ).toHaveLength(1);
    // Registrations are listed by the composition root alone.
    expect(await feature('runs/x.ts', "import { f } from './runs-feature'; export const a = f;")).toHaveLength(1);
    expect(
      await feature('app-services.ts', "import { f } from './runs/runs-feature'; export const a = f;"),
    ).toHaveLength(0);
    // The CLI calls the router: a service's types are fine, the service itself is not.
    expect(
      await feature('cli/x.ts', "import { RunService } from '../runs/run-service'; export const a = RunService;"),
    ).toHaveLength(1);
    expect(
      await feature('cli/x.ts', "import type { RunService } from '../runs/run-service'; export type A = RunService;"),
    ).toHaveLength(0);
    // The folder rules keep electron out as before.
    expect(await feature('runs/x.ts', "import { app } from 'electron'; export const a = app;")).toHaveLength(1);
  });
});
