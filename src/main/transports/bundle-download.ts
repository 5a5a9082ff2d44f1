import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BUNDLE_DOWNLOAD_PREFIX, BUNDLE_EXTENSION } from '../../shared/contract-bundle';
import { AppError } from '../../shared/errors';
import type { AppServices } from '../app-services';
import { appVersion } from '../app-version';
import { BundleService } from '../runs/bundle-service';
import { isRunId } from '../runs/run-layout';

/**
 * `GET /bundles/<id>.ptwrun.tar.gz?ticket=…` on `ptw serve`: exports the run to a private temp file (the same export
 * as `ptw bundle export`, keys redacted again) and streams it as a download, when `authorised` accepts the request's
 * one-time ticket for that run (bundle.downloadTicket). Returns false for any other path.
 */
export async function serveBundleDownload(
  services: Pick<AppServices, 'home' | 'runs' | 'secrets'>,
  pathname: string,
  res: http.ServerResponse,
  headers: Record<string, string>,
  head: boolean,
  authorised: (runId: string) => boolean,
): Promise<boolean> {
  if (!pathname.startsWith(BUNDLE_DOWNLOAD_PREFIX)) return false;
  const name = pathname.slice(BUNDLE_DOWNLOAD_PREFIX.length);
  const id = name.endsWith(BUNDLE_EXTENSION) ? name.slice(0, -BUNDLE_EXTENSION.length) : '';
  const text = (status: number, message: string): true => {
    res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`${message}\n`);
    return true;
  };
  if (!isRunId(id)) return text(404, `No run bundle at ${pathname}`);
  if (!authorised(id)) {
    return text(401, 'this download needs a fresh link: use Download bundle in the app (each link works once).');
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-download-'));
  try {
    const bundles = new BundleService({
      home: services.home,
      runs: services.runs,
      secrets: services.secrets,
      appVersion,
    });
    let file: string;
    try {
      file = (await bundles.export(id, path.join(dir, `${id}${BUNDLE_EXTENSION}`))).file;
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return text(404, err.message);
      throw err;
    }
    const { size } = await stat(file);
    res.writeHead(200, {
      ...headers,
      'Content-Type': 'application/gzip',
      'Content-Length': String(size),
      'Content-Disposition': `attachment; filename="${id}${BUNDLE_EXTENSION}"`,
      'Cache-Control': 'no-store',
    });
    if (head) res.end();
    else await pipeline(createReadStream(file), res);
    return true;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
