import { z } from 'zod';

/**
 * Error codes are named for what the user (or the calling code) must do about them.
 * Later features add their own codes here so the renderer can switch on them exhaustively.
 */
export const errorCodes = [
  'INVALID_INPUT',
  'UNKNOWN_COMMAND',
  'UNAUTHORIZED',
  'NOT_FOUND',
  'CONFLICT',
  'TRANSPORT_CLOSED',
  'TIMEOUT',
  'HOST_KEY_UNKNOWN',
  'HOST_KEY_CHANGED',
  'HOST_KEY_REVOKED',
  'AUTH_FAILED',
  'PASSPHRASE_REQUIRED',
  'HOST_UNREACHABLE',
  'SSH_CONFIG_INVALID',
  'DOCKER_UNAVAILABLE',
  'DOCKER_UNSUPPORTED',
  // Launching runs: each says what to fix before trying again.
  /** The agent's key is in neither PTW_SECRET_<NAME> nor the keychain. */
  'SECRET_MISSING',
  /** The run's image is not on the host: pull or build it there. */
  'IMAGE_MISSING',
  /** A requested GPU has processes on it (or none is free): pick another or wait. */
  'GPU_BUSY',
  /** The host's run root cannot be created or written by the SSH user. */
  'RUN_ROOT_NOT_WRITABLE',
  /** The disk holding the host's run root has too little free space for the run. */
  'RUN_ROOT_FULL',
  /** The host lacks something runs need there (python3 ≥ 3.8 for the supervisor, nvidia-smi for GPUs). */
  'HOST_REQUIREMENT_MISSING',
  'INTERNAL',
] as const;

export const errorCodeSchema = z.enum(errorCodes);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

export const appErrorSchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
  retryable: z.boolean(),
});
export type AppErrorData = z.infer<typeof appErrorSchema>;

/** Thrown inside services; converted to {@link AppErrorData} at the process boundary, never thrown across it. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }

  toData(): AppErrorData {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

export type Result<T> = { ok: true; data: T } | { ok: false; error: AppErrorData };

export function toErrorData(err: unknown): AppErrorData {
  if (err instanceof AppError) return err.toData();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message, retryable: false };
}
