import { z } from 'zod';
import { supervisorPlanSchema } from './run-json';
import { runEventSchema, runStateSchema, RUN_STATUSES, stopReasonSchema } from './run-status';

/**
 * The run folder's files as JSON Schema, made from their zod declarations (run-status.ts, run-json.ts), for the host
 * package's tests: test/host checks what resources/host/ptw_host writes against it and takes the statuses, stop
 * reasons and event types from it. Checked in as test/host/run-folder.schema.json; `npm run schema:run-folder`
 * writes it again (formatted by prettier), and a unit test fails when the file and this differ.
 */

export const RUN_FOLDER_SCHEMA_FILE = 'test/host/run-folder.schema.json';

export function runFolderJsonSchema(): Record<string, unknown> {
  // `output`: the shape as written (every defaulted key present, no key that is not declared).
  const schema = (type: z.ZodType) => {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(type, { io: 'output' });
    return rest;
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $comment: `Generated from src/shared/runs (run-folder-schema.ts); do not edit: npm run schema:run-folder`,
    statuses: [...RUN_STATUSES],
    stopReasons: [...stopReasonSchema.options],
    eventTypes: runEventSchema.options.map((option) => option.shape.type.value),
    runJsonSupervisor: schema(supervisorPlanSchema),
    state: schema(runStateSchema),
    event: schema(runEventSchema),
  };
}
