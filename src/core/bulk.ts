// Bulk creation of users, for imports. Hashing and writing are separate
// steps: hashPasswords runs bcrypt on the libuv thread pool before any
// transaction, and insertUsers takes only finished hashes, so the write lock
// is never held while bcrypt works.

import { MAX_BCRYPT_COST, MIN_BCRYPT_COST } from './constants.js';
import type { CoreContext } from './context.js';
import { ConflictError, InputError, PermissionError } from './errors.js';
import { isDisabled, roleOf } from './records.js';
import type { Actor } from './sessions.js';
import { createTotpSecret, normalizeTotpSecret } from './totp.js';
import { validateEmail, validateFullName, validateRole, validateUsername, type Role } from './validation.js';

/** One user to create, with a password that is already a bcrypt hash. */
export interface BulkUserRow {
  username: string;
  email?: string | null;
  fullName?: string | null;
  /** Default 'user'. */
  role?: Role;
  /** A bcrypt hash ($2a$, $2b$ or $2y$), stored as given. */
  hashedPassword: string;
  /**
   * A base32 TOTP secret that the user already enrolled in an app; the user
   * then counts as enrolled. Without one, the user gets a new secret and
   * enrolls at the first login.
   */
  otpSecret?: string | null;
}

export interface BulkInsertResult {
  /** Ids of the new users, in the order of the rows. */
  ids: number[];
}

/** Called after each finished hash with the count so far and the total. */
export type HashProgress = (done: number, total: number) => void;

// libuv's default pool size; libuv reads UV_THREADPOOL_SIZE when it starts the pool.
const DEFAULT_THREAD_POOL_SIZE = 4;
const BCRYPT_HASH_PATTERN = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

interface ValidRow {
  username: string;
  email: string | null;
  fullName: string | null;
  role: Role;
  hashedPassword: string;
  otpSecret: string | null;
}

/**
 * Hashes passwords with bcrypt at the given cost, as many at once as the
 * libuv thread pool has threads, and returns the hashes in input order.
 * The passwords must already have passed validateNewPassword (which also
 * puts them in Unicode NFC). Call it before insertUsers, never inside a
 * transaction.
 */
export async function hashPasswords(passwords: readonly string[], cost: number, onProgress?: HashProgress): Promise<string[]> {
  if (!Number.isInteger(cost) || cost < MIN_BCRYPT_COST || cost > MAX_BCRYPT_COST) {
    throw new InputError(`invalid bcrypt cost ${cost}: use a whole number from ${MIN_BCRYPT_COST} to ${MAX_BCRYPT_COST}`);
  }
  const bcryptModule = await import('bcrypt');
  const bcrypt = (bcryptModule.default ?? bcryptModule) as typeof import('bcrypt');

  const hashes = new Array<string>(passwords.length);
  let nextIndex = 0;
  let done = 0;
  // Each worker keeps one hash on the pool; more would only queue there.
  const hashInTurn = async (): Promise<void> => {
    while (nextIndex < passwords.length) {
      const index = nextIndex;
      nextIndex += 1;
      hashes[index] = await bcrypt.hash(passwords[index] as string, cost);
      done += 1;
      onProgress?.(done, passwords.length);
    }
  };

  const workerCount = Math.min(threadPoolSize(), passwords.length);
  await Promise.all(Array.from({ length: workerCount }, hashInTurn));
  return hashes;
}

/**
 * Creates users from rows whose passwords are already hashed (admin only),
 * all in one IMMEDIATE transaction: either every row is written or none.
 * Each row is validated like a single new user. A username or email that
 * repeats in the rows or exists in the store, compared case-insensitively,
 * is rejected with an error that names the row (counted from 1).
 */
export async function insertUsers(ctx: CoreContext, actor: Actor, rows: readonly BulkUserRow[]): Promise<BulkInsertResult> {
  if (roleOf(actor.user) !== 'admin') {
    throw new PermissionError(`only admins can create users; you are logged in as ${actor.user.username ?? actor.user.id}, a user`);
  }
  const valid = rows.map((row, index) => validateRow(row, index + 1));
  requireDistinctRows(valid);
  if (valid.length === 0) {
    return { ids: [] };
  }

  const sqlite = ctx.store.sqlite;
  const nowIso = ctx.now().toISOString();
  const actorRow = sqlite.prepare('SELECT role, disabled FROM users WHERE id = ?');
  const usernameOwner = sqlite.prepare('SELECT id FROM users WHERE lower(username) = ? LIMIT 1').pluck();
  const emailOwner = sqlite.prepare('SELECT id FROM users WHERE lower(email) = ? LIMIT 1').pluck();
  const insertUser = sqlite.prepare(
    `INSERT INTO users (username, email, full_name, hashed_password, otp_secret, disabled, role, otp_pending, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?)`,
  );
  const insertEvent = sqlite.prepare(
    `INSERT INTO audit_events (at, action, actor_id, actor_username, target_id, target_username, detail)
     VALUES (?, 'user.created', ?, ?, ?, ?, ?)`,
  );

  const writeAll = sqlite.transaction((): number[] => {
    // The actor was read before the lock; an admin may have demoted them since.
    const current = actorRow.get(actor.user.id) as { role: string | null; disabled: number | null } | undefined;
    if (!current || isDisabled(current) || roleOf(current) !== 'admin') {
      throw new PermissionError('only admins can create users; your role changed meanwhile');
    }

    const ids: number[] = [];
    valid.forEach((row, index) => {
      const rowNumber = index + 1;
      if (usernameOwner.get(row.username.toLowerCase()) !== undefined) {
        throw new ConflictError(`row ${rowNumber}: username "${row.username}" is taken in the store; choose another`, 'username_taken');
      }
      if (row.email !== null && emailOwner.get(row.email.toLowerCase()) !== undefined) {
        throw new ConflictError(`row ${rowNumber}: email "${row.email}" is taken in the store; use another address`, 'email_taken');
      }

      const secret = row.otpSecret ?? createTotpSecret();
      const pending = row.otpSecret === null ? 1 : 0;
      const { lastInsertRowid } = insertUser.run(row.username, row.email, row.fullName, row.hashedPassword, secret, row.role, pending, nowIso, nowIso);
      const id = Number(lastInsertRowid);
      ids.push(id);
      insertEvent.run(nowIso, actor.user.id, actor.user.username, id, row.username, JSON.stringify({ role: row.role, bulk: true }));
    });
    return ids;
  });

  return { ids: writeAll.immediate() };
}

function validateRow(row: BulkUserRow, rowNumber: number): ValidRow {
  try {
    if (typeof row.username !== 'string') {
      throw new InputError('missing username', 'invalid_username');
    }
    if (typeof row.hashedPassword !== 'string' || !BCRYPT_HASH_PATTERN.test(row.hashedPassword)) {
      throw new InputError('invalid password hash: expected a bcrypt hash starting with $2a$, $2b$ or $2y$', 'invalid_password_hash');
    }
    const hasSecret = row.otpSecret !== undefined && row.otpSecret !== null && row.otpSecret !== '';
    return {
      username: validateUsername(row.username),
      email: row.email === undefined || row.email === null ? null : validateEmail(row.email),
      fullName: row.fullName === undefined || row.fullName === null ? null : validateFullName(row.fullName),
      role: row.role === undefined ? 'user' : validateRole(row.role),
      hashedPassword: row.hashedPassword,
      otpSecret: hasSecret ? normalizeTotpSecret(row.otpSecret as string) : null,
    };
  } catch (error) {
    if (error instanceof InputError) {
      throw new InputError(`row ${rowNumber}: ${error.message}`, error.code);
    }
    throw error;
  }
}

/** Rejects a username or email that two rows share, ignoring case. */
function requireDistinctRows(rows: readonly ValidRow[]): void {
  const usernameRows = new Map<string, number>();
  const emailRows = new Map<string, number>();

  rows.forEach((row, index) => {
    const rowNumber = index + 1;
    const username = row.username.toLowerCase();
    const firstWithUsername = usernameRows.get(username);
    if (firstWithUsername !== undefined) {
      throw new ConflictError(
        `row ${rowNumber}: username "${row.username}" repeats row ${firstWithUsername} (usernames are compared ignoring case)`,
        'username_taken',
      );
    }
    usernameRows.set(username, rowNumber);

    if (row.email !== null) {
      const email = row.email.toLowerCase();
      const firstWithEmail = emailRows.get(email);
      if (firstWithEmail !== undefined) {
        throw new ConflictError(
          `row ${rowNumber}: email "${row.email}" repeats row ${firstWithEmail} (emails are compared ignoring case)`,
          'email_taken',
        );
      }
      emailRows.set(email, rowNumber);
    }
  });
}

function threadPoolSize(): number {
  const configured = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(configured) && configured > 0 ? configured : DEFAULT_THREAD_POOL_SIZE;
}
