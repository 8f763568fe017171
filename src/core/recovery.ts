// Recovery codes: ten single-use codes of 80 random bits each, stored only
// as SHA-256 (the codes are random, so a fast hash is enough).

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { recordAuditEvent, type AuditParty } from './audit.js';
import { RECOVERY_CODE_BYTES, RECOVERY_CODE_COUNT } from './constants.js';

const RECOVERY_CODE_HEX_DIGITS = RECOVERY_CODE_BYTES * 2;

/**
 * Replaces the user's recovery codes with a new set and returns the codes in
 * plain text, as 20 hexadecimal digits in four groups of five.
 */
export async function issueRecoveryCodes(db: Kysely<Database>, userId: number, nowIso: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const hex = randomBytes(RECOVERY_CODE_BYTES).toString('hex');
    return hex.match(/.{5}/g)!.join('-');
  });

  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  await db
    .insertInto('recovery_codes')
    .values(codes.map((code) => ({ user_id: userId, code_hash: hashRecoveryCode(normalizeRecoveryCode(code)!), created_at: nowIso })))
    .execute();
  return codes;
}

/**
 * Records a confirmed TOTP enrollment in the audit log and issues the user's
 * first recovery codes, returned in plain text to show once.
 */
export async function completeEnrollment(db: Kysely<Database>, user: AuditParty, nowIso: string): Promise<string[]> {
  await recordAuditEvent(db, { action: 'otp.enrolled', nowIso, actor: user, target: user });
  const codes = await issueRecoveryCodes(db, user.id, nowIso);
  await recordAuditEvent(db, { action: 'recovery_codes.issued', nowIso, actor: user, target: user, detail: { count: codes.length } });
  return codes;
}

/**
 * Marks the matching unused code as used and returns true, or returns false.
 * Every unused code is compared, in constant time, whatever matches first.
 */
export async function consumeRecoveryCode(
  db: Kysely<Database>,
  userId: number,
  input: string,
  nowIso: string,
): Promise<boolean> {
  const normalized = normalizeRecoveryCode(input);
  const rows = await db
    .selectFrom('recovery_codes')
    .select(['id', 'code_hash'])
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .execute();

  const candidate = Buffer.from(hashRecoveryCode(normalized ?? ''), 'hex');
  let matchId: number | null = null;
  for (const row of rows) {
    const stored = Buffer.from(row.code_hash, 'hex');
    if (stored.length === candidate.length && timingSafeEqual(stored, candidate) && normalized !== null) {
      matchId = row.id;
    }
  }

  if (matchId === null) {
    return false;
  }
  await db.updateTable('recovery_codes').set({ used_at: nowIso }).where('id', '=', matchId).execute();
  return true;
}

export async function countUnusedRecoveryCodes(db: Kysely<Database>, userId: number): Promise<number> {
  const row = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Lower-cases and drops spaces and dashes; null unless 20 hex digits remain. */
function normalizeRecoveryCode(input: string): string | null {
  const code = input.toLowerCase().replace(/[\s-]/g, '');
  return code.length === RECOVERY_CODE_HEX_DIGITS && /^[0-9a-f]+$/.test(code) ? code : null;
}

function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}
