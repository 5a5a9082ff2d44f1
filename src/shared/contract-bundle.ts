import { z } from 'zod';

/**
 * Run bundles: export and import of a run as one file (issue 6).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 *
 * A bundle is a gzip'd tar: `manifest.json` first, then the run's record files (the local mirror's, see
 * docs/run-folder.md) at their relative paths. The manifest lists every file with its size and SHA-256.
 */

/** What `bundleManifestSchema.schema` this app writes and reads. */
export const BUNDLE_SCHEMA_VERSION = 1;
export const BUNDLE_FORMAT = 'ptw-run-bundle';
/** The file name suffix the app gives a bundle. */
export const BUNDLE_EXTENSION = '.ptwrun.tar.gz';

export const bundleFileSchema = z
  .object({
    /** POSIX path relative to the run folder, e.g. `eval/metrics.json`. */
    path: z.string().min(1),
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256'),
  })
  .strict();
export type BundleFile = z.infer<typeof bundleFileSchema>;

export const bundleManifestSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  /** Checked apart from the rest, so a newer bundle gets "made by a newer app" rather than a schema error. */
  schema: z.number().int().positive(),
  appVersion: z.string(),
  runId: z.string(),
  /** ISO time the bundle was written. */
  createdAt: z.string(),
  /** Where the run lived: its host and run folder there (informational; an imported run never syncs). */
  source: z.object({ host: z.string(), hostRunDir: z.string() }),
  /** The run's status when exported (a bundle of a live run is a snapshot). */
  status: z.string(),
  redaction: z.object({
    /**
     * The local record is redacted of the agent's key as it is mirrored; export redacts every file again with the
     * key values known at export time (names only here, never values).
     */
    reappliedAtExport: z.boolean(),
    secretNames: z.array(z.string()),
  }),
  files: z.array(bundleFileSchema),
});
export type BundleManifest = z.infer<typeof bundleManifestSchema>;

export const bundleExportResultSchema = z.object({
  /** Absolute path of the bundle written. */
  file: z.string(),
  bytes: z.number(),
  /** SHA-256 of the bundle file itself. */
  sha256: z.string(),
  files: z.number(),
  /** Names of the keys whose values were redacted again on export (whether or not they occurred). */
  redactedSecretNames: z.array(z.string()),
});
export type BundleExportResult = z.infer<typeof bundleExportResultSchema>;

export const bundleImportResultSchema = z.object({
  id: z.string(),
  /** Where the run's record now is (`PTW_HOME/runs/<id>`). */
  localDir: z.string(),
  files: z.number(),
  /** The example run was already imported; nothing was done (only `bundle.importExample`). */
  alreadyThere: z.boolean().default(false),
});
export type BundleImportResult = z.infer<typeof bundleImportResultSchema>;

export const bundleCommands = {
  /**
   * Writes the run's record as one bundle file on the machine running the app. `file` omitted: into the user's
   * Downloads folder (or PTW_HOME/exports) as `<id>.ptwrun.tar.gz`. An existing file is never overwritten.
   */
  'bundle.export': {
    input: z.object({ id: z.string().min(1), file: z.string().min(1).optional() }).strict(),
    output: bundleExportResultSchema,
  },
  /** Imports a bundle file (on the machine running the app) as a run with no host; refuses one that exists. */
  'bundle.import': {
    input: z.object({ file: z.string().min(1) }).strict(),
    output: bundleImportResultSchema,
  },
  /** Imports the example run the app ships (a rehearsal recorded by the app), unless it is already here. */
  'bundle.importExample': { input: z.object({}).strict(), output: bundleImportResultSchema },
  /**
   * `ptw serve` only: a one-time URL path that downloads the run's bundle (a ticket good for one download within a
   * minute, so neither the token nor a reusable credential reaches the browser's downloads list or history).
   */
  'bundle.downloadTicket': {
    input: z.object({ id: z.string().min(1) }).strict(),
    output: z.object({ path: z.string() }),
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const bundleEvents = {} as const satisfies Record<string, z.ZodType>;

/**
 * Where `ptw serve` offers a run's bundle for download, behind a one-time ticket (`bundle.downloadTicket`): the
 * browser has no save dialog for a file the server writes, so the server streams it instead.
 */
export const BUNDLE_DOWNLOAD_PREFIX = '/bundles/';
export const DOWNLOAD_TICKET_PARAM = 'ticket';

export function bundleDownloadPath(id: string, ticket?: string): string {
  const base = `${BUNDLE_DOWNLOAD_PREFIX}${encodeURIComponent(id)}${BUNDLE_EXTENSION}`;
  return ticket === undefined ? base : `${base}?${DOWNLOAD_TICKET_PARAM}=${encodeURIComponent(ticket)}`;
}
