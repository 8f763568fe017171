// Logging in: password first, then a TOTP or recovery code. Every failure a
// guesser can cause looks the same (message, exit code, about the same time)
// and counts towards the lockout.

import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { writeTransaction } from '../store/store.js';
import { recordAuditEvent, type AuditParty } from './audit.js';
import { FAILED_LOGIN_WINDOW_SECONDS, LOCKOUT_SECONDS, MAX_FAILED_LOGINS } from './constants.js';
import type { CoreContext } from './context.js';
import { AuthError, LockedError } from './errors.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { findUserRow, isDisabled, toUserJson, type UserJson, type UserRow } from './records.js';
import { completeEnrollment, consumeRecoveryCode, countUnusedRecoveryCodes } from './recovery.js';
import { createSession } from './sessions.js';
import { buildOtpauthUri, checkTotpCode, createTotpSecret } from './totp.js';

export const LOGIN_FAILED_MESSAGE = 'invalid username, password or code';

/** Proof that the password was right, to finish the login with a code. */
export interface PasswordCheck {
  user: UserRow;
  /**
   * The password (NFC) when the stored hash has a lower cost than the
   * configured one, to hash again once the whole login has succeeded.
   */
  passwordToRehash: string | null;
  /** The otpauth URI when enrollment is pending, else null. */
  pendingEnrollmentUri: string | null;
  /** The secret when enrollment is pending, else null. */
  pendingSecret: string | null;
}

export type SecondFactor = { totpCode: string } | { recoveryCode: string };

export interface LoginResult {
  user: UserJson;
  token: string;
  expiresAt: string;
  /** Set when this login confirmed the enrollment. */
  recoveryCodes: string[] | null;
  /** Unused recovery codes left, set when this login used one. */
  recoveryCodesLeft: number | null;
}

/**
 * Checks the password. Throws LockedError for a locked account, and AuthError
 * with one message for an unknown user, a wrong password or a disabled
 * account. A legacy row without a secret gets one, pending enrollment, so the
 * second factor is never skipped.
 */
export async function checkPassword(ctx: CoreContext, credentials: { username: string; password: string }): Promise<PasswordCheck> {
  const lookupName = credentials.username.trim();
  let user = lookupName === '' ? undefined : await findUserRow(ctx.store.db, { username: lookupName });
  if (user) {
    await requireNotLockedAudited(ctx, user);
  }

  const passwordMatches = await verifyPassword(credentials.password, user?.hashed_password ?? null, ctx.bcryptCost);
  if (!user || !passwordMatches || isDisabled(user)) {
    if (user) {
      await recordFailure(ctx, user.id, passwordMatches ? 'disabled' : 'password');
    }
    throw new AuthError(LOGIN_FAILED_MESSAGE, 'login_failed');
  }

  // Hashing here would make a wrong code slower than a wrong password, which
  // would show that the password was right. So it waits for the code.
  const storedHash = user.hashed_password as string;
  const passwordToRehash = needsRehash(storedHash, ctx.bcryptCost) ? credentials.password.normalize('NFC') : null;

  if (user.otp_secret === null) {
    user = await giveSecret(ctx, user);
  }

  const pending = user.otp_pending !== 0;
  const secret = user.otp_secret as string;
  return {
    user,
    passwordToRehash,
    pendingEnrollmentUri: pending ? buildOtpauthUri({ issuer: ctx.issuer, username: user.username ?? String(user.id), secret }) : null,
    pendingSecret: pending ? secret : null,
  };
}

/**
 * Finishes a login with a TOTP code or a recovery code. The code check, the
 * advance of the last accepted step, and the new session happen in one
 * IMMEDIATE transaction, so one code gives at most one session. A wrong code
 * throws AuthError after its failure is committed.
 */
export async function completeLogin(
  ctx: CoreContext,
  check: PasswordCheck,
  options: { factor: SecondFactor; ttlSeconds: number },
): Promise<LoginResult> {
  const now = ctx.now();
  const nowIso = now.toISOString();

  const outcome = await writeTransaction(ctx.store, async (trx) => {
    const user = await trx.selectFrom('users').selectAll().where('id', '=', check.user.id).executeTakeFirst();
    if (!user || isDisabled(user) || user.hashed_password !== check.user.hashed_password || user.otp_secret === null) {
      return { ok: false as const, reason: 'changed' };
    }
    requireNotLocked(user, now);

    const pending = user.otp_pending !== 0;
    const party = { id: user.id, username: user.username };
    let recoveryCodes: string[] | null = null;
    let recoveryCodesLeft: number | null = null;

    if ('recoveryCode' in options.factor) {
      const used = !pending && (await consumeRecoveryCode(trx, user.id, options.factor.recoveryCode, nowIso));
      if (!used) {
        return { ok: false as const, reason: 'recovery_code' };
      }
      await recordAuditEvent(trx, { action: 'recovery_code.used', nowIso, actor: party, target: party });
      recoveryCodesLeft = await countUnusedRecoveryCodes(trx, user.id);
    } else {
      const result = checkTotpCode({
        secret: user.otp_secret,
        code: options.factor.totpCode,
        nowSeconds: now.getTime() / 1000,
        lastStep: user.last_totp_step,
      });
      if (!result.valid) {
        return { ok: false as const, reason: 'totp' };
      }
      // Confirming an enrollment changes the account; a login alone does not.
      const enrolled = pending ? { otp_pending: 0, updated_at: nowIso } : {};
      await trx.updateTable('users').set({ last_totp_step: result.step, ...enrolled }).where('id', '=', user.id).execute();
      if (pending) {
        recoveryCodes = await completeEnrollment(trx, party, nowIso);
      }
    }

    await trx
      .updateTable('users')
      .set({
        last_login_at: nowIso,
        failed_login_count: 0,
        failed_login_window_start: null,
        locked_until: null,
      })
      .where('id', '=', user.id)
      .execute();
    const session = await createSession(trx, { userId: user.id, now, ttlSeconds: options.ttlSeconds });
    await recordAuditEvent(trx, {
      action: 'login.succeeded',
      nowIso,
      actor: party,
      target: party,
      detail: {
        factor: 'recoveryCode' in options.factor ? 'recovery_code' : 'totp',
        ...(check.passwordToRehash !== null ? { passwordRehashed: true } : {}),
      },
    });

    const updated = await trx.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
    return { ok: true as const, user: toUserJson(updated), session, recoveryCodes, recoveryCodesLeft };
  });

  if (!outcome.ok) {
    await recordFailure(ctx, check.user.id, outcome.reason);
    throw new AuthError(LOGIN_FAILED_MESSAGE, 'login_failed');
  }
  if (check.passwordToRehash !== null) {
    await upgradeHash(ctx, check.user, check.passwordToRehash);
  }
  return {
    user: outcome.user,
    token: outcome.session.token,
    expiresAt: outcome.session.expiresAt,
    recoveryCodes: outcome.recoveryCodes,
    recoveryCodesLeft: outcome.recoveryCodesLeft,
  };
}

/** Stores a hash at the configured cost, unless the password changed meanwhile. */
async function upgradeHash(ctx: CoreContext, user: UserRow, password: string): Promise<void> {
  const hash = await hashPassword(password, ctx.bcryptCost);
  await writeTransaction(ctx.store, async (trx) => {
    await trx
      .updateTable('users')
      .set({ hashed_password: hash })
      .where('id', '=', user.id)
      .where('hashed_password', '=', user.hashed_password)
      .execute();
  });
}

/** Like requireNotLocked, and records the rejected attempt in the audit log. */
async function requireNotLockedAudited(ctx: CoreContext, user: UserRow): Promise<void> {
  try {
    requireNotLocked(user, ctx.now());
  } catch (error) {
    const party = { id: user.id, username: user.username };
    await writeTransaction(ctx.store, (trx) =>
      recordAuditEvent(trx, { action: 'login.failed', nowIso: ctx.now().toISOString(), actor: null, target: party, detail: { reason: 'locked' } }),
    );
    throw error;
  }
}

export function requireNotLocked(user: UserRow, now: Date): void {
  if (user.locked_until !== null && Date.parse(user.locked_until) > now.getTime()) {
    const minutes = Math.ceil((Date.parse(user.locked_until) - now.getTime()) / 60000);
    throw new LockedError(
      `account locked after ${MAX_FAILED_LOGINS} failed logins; try again in ${minutes} min or ask an admin to run "twofa users update ${user.username ?? user.id} --unlock"`,
      user.locked_until,
    );
  }
}

/**
 * Counts a failed login in the store, since every run is a new process. The
 * fifth failure within 15 minutes locks the account for 15 minutes.
 */
export async function recordFailure(ctx: CoreContext, userId: number, reason: string, actor: AuditParty | null = null): Promise<void> {
  const now = ctx.now();
  const nowIso = now.toISOString();

  await writeTransaction(ctx.store, async (trx) => {
    const user = await trx.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
    if (!user) {
      return;
    }
    const party = { id: user.id, username: user.username };
    const windowStartMs = user.failed_login_window_start === null ? null : Date.parse(user.failed_login_window_start);
    const inWindow = windowStartMs !== null && now.getTime() - windowStartMs < FAILED_LOGIN_WINDOW_SECONDS * 1000;
    const count = inWindow ? user.failed_login_count + 1 : 1;
    await recordAuditEvent(trx, { action: 'login.failed', nowIso, actor, target: party, detail: { reason, failures: count } });

    if (count >= MAX_FAILED_LOGINS) {
      const lockedUntil = new Date(now.getTime() + LOCKOUT_SECONDS * 1000).toISOString();
      await setFailureState(trx, userId, { count: 0, windowStart: null, lockedUntil });
      await recordAuditEvent(trx, { action: 'login.locked', nowIso, actor: null, target: party, detail: { lockedUntil } });
      return;
    }
    await setFailureState(trx, userId, { count, windowStart: inWindow ? user.failed_login_window_start : nowIso, lockedUntil: user.locked_until });
  });
}

async function setFailureState(
  db: Kysely<Database>,
  userId: number,
  state: { count: number; windowStart: string | null; lockedUntil: string | null },
): Promise<void> {
  await db
    .updateTable('users')
    .set({ failed_login_count: state.count, failed_login_window_start: state.windowStart, locked_until: state.lockedUntil })
    .where('id', '=', userId)
    .execute();
}

async function giveSecret(ctx: CoreContext, user: UserRow): Promise<UserRow> {
  return writeTransaction(ctx.store, async (trx) => {
    await trx
      .updateTable('users')
      .set({ otp_secret: createTotpSecret(), otp_pending: 1, last_totp_step: null })
      .where('id', '=', user.id)
      .where('otp_secret', 'is', null)
      .execute();
    return trx.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
  });
}
