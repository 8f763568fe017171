// Sessions: a 256-bit random token held by the client; the store keeps only
// its SHA-256, with idle and absolute expiry and a revocation time.

import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { writeTransaction, type Store } from '../store/store.js';
import { recordAuditEvent } from './audit.js';
import { DEFAULT_SESSION_IDLE_SECONDS, SESSION_TOKEN_BYTES, SESSION_TOUCH_INTERVAL_SECONDS } from './constants.js';
import { AuthError } from './errors.js';
import { isDisabled, type UserRow } from './records.js';

export interface NewSession {
  token: string;
  expiresAt: string;
}

/** The logged-in user with the session that proved it. */
export interface Actor {
  user: UserRow;
  sessionId: number;
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const LOG_IN_AGAIN = 'log in again with "twofa login"';

/**
 * Creates a session for userId. A lifetime shorter than the idle timeout also
 * caps the idle time.
 */
export async function createSession(
  db: Kysely<Database>,
  options: { userId: number; now: Date; ttlSeconds: number },
): Promise<NewSession> {
  const token = randomBytes(SESSION_TOKEN_BYTES).toString('base64url');
  const nowIso = options.now.toISOString();
  const expiresAt = new Date(options.now.getTime() + options.ttlSeconds * 1000).toISOString();

  await db
    .insertInto('sessions')
    .values({
      user_id: options.userId,
      token_hash: hashToken(token),
      created_at: nowIso,
      last_used_at: nowIso,
      idle_timeout_seconds: Math.min(DEFAULT_SESSION_IDLE_SECONDS, options.ttlSeconds),
      expires_at: expiresAt,
      revoked_at: null,
    })
    .execute();
  return { token, expiresAt };
}

/**
 * Resolves a token to its user, re-reading the session and the user on every
 * call. Throws AuthError when the session is unknown, revoked, expired, idle
 * too long, or its user is disabled or gone.
 */
export async function authenticate(store: Store, token: string, now: Date): Promise<Actor> {
  if (!TOKEN_PATTERN.test(token)) {
    throw new AuthError(`the saved session token is malformed; ${LOG_IN_AGAIN}`, 'session_invalid');
  }

  const session = await store.db
    .selectFrom('sessions')
    .selectAll()
    .where('token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!session) {
    throw new AuthError(`the saved session is not known to this store; ${LOG_IN_AGAIN}`, 'session_invalid');
  }
  if (session.revoked_at !== null) {
    throw new AuthError(`your session was ended; ${LOG_IN_AGAIN}`, 'session_revoked');
  }

  const nowMs = now.getTime();
  const idleEndMs = Date.parse(session.last_used_at) + session.idle_timeout_seconds * 1000;
  if (nowMs >= Date.parse(session.expires_at) || nowMs >= idleEndMs) {
    throw new AuthError(`your session expired; ${LOG_IN_AGAIN}`, 'session_expired');
  }

  const user = await store.db.selectFrom('users').selectAll().where('id', '=', session.user_id).executeTakeFirst();
  if (!user || isDisabled(user)) {
    throw new AuthError(`your account is disabled or was removed; ask an admin`, 'account_unavailable');
  }

  if (nowMs - Date.parse(session.last_used_at) >= SESSION_TOUCH_INTERVAL_SECONDS * 1000) {
    await touchSession(store, session.id, now);
  }
  return { user, sessionId: session.id };
}

/** Revokes the session of a token; returns false when there was none to end. */
export async function revokeSessionByToken(store: Store, token: string, now: Date, reason = 'logout'): Promise<boolean> {
  if (!TOKEN_PATTERN.test(token)) {
    return false;
  }
  return writeTransaction(store, async (trx) => {
    const session = await trx
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select(['sessions.id', 'sessions.user_id', 'users.username'])
      .where('token_hash', '=', hashToken(token))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!session) {
      return false;
    }

    const nowIso = now.toISOString();
    await trx.updateTable('sessions').set({ revoked_at: nowIso }).where('id', '=', session.id).execute();
    const party = { id: session.user_id, username: session.username };
    await recordAuditEvent(trx, { action: 'session.revoked', nowIso, actor: party, target: party, detail: { reason } });
    return true;
  });
}

/**
 * Revokes every open session of a user, except keepSessionId when given.
 * Returns how many were revoked.
 */
export async function revokeUserSessions(
  db: Kysely<Database>,
  options: { userId: number; nowIso: string; keepSessionId?: number },
): Promise<number> {
  let query = db
    .updateTable('sessions')
    .set({ revoked_at: options.nowIso })
    .where('user_id', '=', options.userId)
    .where('revoked_at', 'is', null);
  if (options.keepSessionId !== undefined) {
    query = query.where('id', '!=', options.keepSessionId);
  }
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Records the last use of a session. A read-only store still serves reads:
 * the idle time then counts from the last recorded use.
 */
async function touchSession(store: Store, sessionId: number, now: Date): Promise<void> {
  try {
    await store.db
      .updateTable('sessions')
      .set({ last_used_at: now.toISOString() })
      .where('id', '=', sessionId)
      .where('revoked_at', 'is', null)
      .execute();
  } catch (error) {
    if (!String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_READONLY')) {
      throw error;
    }
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
