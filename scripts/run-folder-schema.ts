// Writes test/host/run-folder.schema.json from the zod schemas in src/shared/runs (npm run schema:run-folder).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { RUN_FOLDER_SCHEMA_FILE, runFolderJsonSchema } from '../src/shared/runs/run-folder-schema';

const file = path.resolve(__dirname, '..', RUN_FOLDER_SCHEMA_FILE);
const options = { ...(await resolveConfig(file)), filepath: file };
const text = await format(JSON.stringify(runFolderJsonSchema(), null, 2), options);
writeFileSync(file, text);
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
