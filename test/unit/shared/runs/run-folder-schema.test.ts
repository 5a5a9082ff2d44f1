import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { RUN_FOLDER_SCHEMA_FILE, runFolderJsonSchema } from '../../../../src/shared/runs/run-folder-schema';

// The host package's tests read the checked-in JSON Schema; it must be what the zod declarations give today.
it('test/host/run-folder.schema.json is generated from src/shared/runs (npm run schema:run-folder)', () => {
  const file = path.resolve(__dirname, '..', '..', '..', '..', RUN_FOLDER_SCHEMA_FILE);
  const checkedIn: unknown = JSON.parse(readFileSync(file, 'utf8'));
  expect(checkedIn, 'stale: run `npm run schema:run-folder` and commit the file').toEqual(runFolderJsonSchema());
});
