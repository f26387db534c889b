/**
 * Typed errors. Callers branch on `code`, never on message text; messages say what to do next.
 * Only the CLI turns these into exit codes and printed lines.
 */
export type ErrorCode =
  | 'USAGE' // bad flags, arguments or configuration (exit 2)
  | 'CONFIG' // configuration problems found before any write (exit 2): packpub.yaml and what it names, packpub's work folder, a service's setting it needs (push --palette-sync: a Palette registry whose sync is off)
  | 'PACK_INVALID' // validation found errors
  | 'IMAGE_NOT_FOUND' // push --check-images: an image the pack lists does not exist; nothing published
  | 'PACK_FILE' // a file in the pack cannot be archived (symlink escape, special file, ...)
  | 'REFERENCE' // a name, tag, host or base path is not valid for an OCI reference
  | 'CONFLICT' // a different artifact already sits under this version
  | 'NOT_FOUND' // pack, version or repository does not exist
  | 'AUTH' // credentials rejected or missing permission
  | 'CREDENTIALS' // a credential provider applied but failed (helper crashed, AWS creds missing)
  | 'REGISTRY' // the registry answered with an error we do not map more precisely
  | 'NETWORK' // DNS, refused connection, reset, timeout
  | 'TLS' // certificate verification failed
  | 'DIGEST_MISMATCH' // content did not match its digest
  | 'LOCAL_WRITE' // a local file or folder could not be written: disk full, quota, read-only filesystem, I/O error
  | 'UNSAFE_ARCHIVE' // an archive tried to write outside its target, a device file, a bomb
  | 'ABORTED' // interrupted by the user (SIGINT, SIGTERM, SIGHUP: cli/io.ts INTERRUPT_SIGNALS)
  | 'PALETTE' // Palette's API answered an error, or a Palette registry sync failed
  | 'PALETTE_NOT_VISIBLE' // published, but Palette does not list the pack (exit 3)
  | 'INTERNAL';

export interface PackpubErrorOptions {
  /** One line telling the user what to do about it. */
  hint?: string;
  cause?: unknown;
}

export class PackpubError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: PackpubErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PackpubError';
    this.code = code;
    this.hint = options.hint;
  }
}

export function isPackpubError(err: unknown, code?: ErrorCode): err is PackpubError {
  return err instanceof PackpubError && (code === undefined || err.code === code);
}

export function usageError(message: string, hint?: string): PackpubError {
  return new PackpubError('USAGE', message, hint === undefined ? {} : { hint });
}

/** Message of any thrown value, for wrapping causes. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
