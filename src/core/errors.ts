// The failures a user can cause. Each class carries the exit code and the
// machine-readable code that the CLI prints; anything else is a bug (exit 1).

export abstract class TwofaError extends Error {
  abstract readonly exitCode: number;
  abstract readonly code: string;
  /** Extra fields for the JSON error object, never a secret. */
  readonly details: Record<string, unknown> = {};
}

/** Invalid usage or input: a bad flag, value or password (exit 2). */
export class InputError extends TwofaError {
  readonly exitCode = 2;
  readonly code: string;

  constructor(message: string, code = 'invalid_input') {
    super(message);
    this.name = 'InputError';
    this.code = code;
  }
}

/** Not logged in, a session that ended, or wrong credentials (exit 3). */
export class AuthError extends TwofaError {
  readonly exitCode = 3;
  readonly code: string;

  constructor(message: string, code = 'not_authenticated', details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'AuthError';
    this.code = code;
    Object.assign(this.details, details);
  }
}

/** Logged in, but the role or target does not allow the action (exit 4). */
export class PermissionError extends TwofaError {
  readonly exitCode = 4;
  readonly code = 'permission_denied';

  constructor(message: string) {
    super(message);
    this.name = 'PermissionError';
  }
}

/** No such user (exit 5). */
export class NotFoundError extends TwofaError {
  readonly exitCode = 5;
  readonly code = 'not_found';

  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** A taken username or email, an existing admin, or the last admin (exit 6). */
export class ConflictError extends TwofaError {
  readonly exitCode = 6;
  readonly code: string;

  constructor(message: string, code = 'conflict') {
    super(message);
    this.name = 'ConflictError';
    this.code = code;
  }
}

/** Too many failed logins: the account is locked for now (exit 7). */
export class LockedError extends TwofaError {
  readonly exitCode = 7;
  readonly code = 'locked';

  constructor(message: string, lockedUntil: string) {
    super(message);
    this.name = 'LockedError';
    this.details.lockedUntil = lockedUntil;
  }
}

/** A store that cannot be used: busy, read-only, not SQLite, too new (exit 1). */
export class StoreError extends TwofaError {
  readonly exitCode = 1;
  readonly code: string;

  constructor(message: string, code = 'store_error') {
    super(message);
    this.name = 'StoreError';
    this.code = code;
  }
}

/** The person pressed Ctrl-C at a prompt (exit 130, as for SIGINT). */
export class CancelledError extends TwofaError {
  readonly exitCode = 130;
  readonly code = 'cancelled';

  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}
