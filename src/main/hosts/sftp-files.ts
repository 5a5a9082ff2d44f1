import type { SFTPWrapper } from 'ssh2';
import { AppError } from '../../shared/errors';

const chunk = 256 * 1024;

function sftpError(what: string, path: string, err: unknown): AppError {
  const code = (err as { code?: number }).code;
  // SFTP status 2 is "no such file".
  if (code === 2) return new AppError('NOT_FOUND', `${path} does not exist on the host`);
  return new AppError('INTERNAL', `Could not ${what} ${path} on the host: ${(err as Error).message}`, { cause: err });
}

/** Writes a whole file through SFTP (create or truncate), then sets its mode. */
export function sftpWriteFile(sftp: SFTPWrapper, path: string, data: Buffer, mode = 0o644): Promise<void> {
  return new Promise((resolve, reject) => {
    sftp.open(path, 'w', mode, (err, handle) => {
      if (err) return reject(sftpError('write', path, err));
      let offset = 0;
      const next = (): void => {
        if (offset >= data.length) {
          sftp.close(handle, (closeErr) => {
            if (closeErr) return reject(sftpError('write', path, closeErr));
            // open's mode only applies to new files and is subject to the umask.
            sftp.chmod(path, mode, (chmodErr) => (chmodErr ? reject(sftpError('chmod', path, chmodErr)) : resolve()));
          });
          return;
        }
        const length = Math.min(chunk, data.length - offset);
        sftp.write(handle, data, offset, length, offset, (writeErr) => {
          if (writeErr) return sftp.close(handle, () => reject(sftpError('write', path, writeErr)));
          offset += length;
          next();
        });
      };
      next();
    });
  });
}

/** Reads `maxBytes` (default: to the end) from `offset`; fewer bytes come back at the end of the file. */
export function sftpReadFile(
  sftp: SFTPWrapper,
  path: string,
  options: { offset?: number; maxBytes?: number } = {},
): Promise<Buffer> {
  const start = options.offset ?? 0;
  const limit = options.maxBytes ?? Number.POSITIVE_INFINITY;
  return new Promise((resolve, reject) => {
    sftp.open(path, 'r', (err, handle) => {
      if (err) return reject(sftpError('read', path, err));
      const parts: Buffer[] = [];
      let position = start;
      let total = 0;
      const finish = (failure?: unknown): void => {
        sftp.close(handle, () => (failure ? reject(sftpError('read', path, failure)) : resolve(Buffer.concat(parts))));
      };
      const next = (): void => {
        const want = Math.min(chunk, limit - total);
        if (want <= 0) return finish();
        const buffer = Buffer.alloc(want);
        sftp.read(handle, buffer, 0, want, position, (readErr, bytesRead) => {
          // ssh2 reports end of file as an error with code 1 (SSH_FX_EOF) on some servers, 0 bytes on others.
          if (readErr && (readErr as { code?: number }).code !== 1) return finish(readErr);
          if (!bytesRead) return finish();
          parts.push(buffer.subarray(0, bytesRead));
          total += bytesRead;
          position += bytesRead;
          next();
        });
      };
      next();
    });
  });
}
