// The audit log: who did what to whom, and when. Details name the fields
// that changed and never hold a password, hash, token, code or secret.

import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

export type AuditAction =
  | 'login.succeeded'
  | 'login.failed'
  | 'login.locked'
  | 'user.created'
  | 'user.updated'
  | 'user.role_changed'
  | 'user.disabled'
  | 'user.enabled'
  | 'user.unlocked'
  | 'user.password_changed'
  | 'otp.enrolled'
  | 'otp.reset'
  | 'recovery_codes.issued'
  | 'recovery_code.used'
  | 'session.revoked'
  | 'sessions.revoked';

export interface AuditParty {
  id: number;
  username: string | null;
}

export interface AuditEventInput {
  action: AuditAction;
  nowIso: string;
  actor: AuditParty | null;
  target: AuditParty | null;
  detail?: Record<string, unknown>;
}

export interface AuditEventJson {
  id: number;
  at: string;
  action: string;
  actor: AuditParty | null;
  target: AuditParty | null;
  detail: Record<string, unknown> | null;
}

export async function recordAuditEvent(db: Kysely<Database>, event: AuditEventInput): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      at: event.nowIso,
      action: event.action,
      actor_id: event.actor?.id ?? null,
      actor_username: event.actor?.username ?? null,
      target_id: event.target?.id ?? null,
      target_username: event.target?.username ?? null,
      detail: event.detail ? JSON.stringify(event.detail) : null,
    })
    .execute();
}

/** Lists events newest first, optionally those where userId acted or was the target. */
export async function listAuditEvents(
  db: Kysely<Database>,
  options: { userId: number | null; limit: number; beforeId: number | null },
): Promise<AuditEventJson[]> {
  let query = db.selectFrom('audit_events').selectAll().orderBy('id', 'desc');
  if (options.beforeId !== null) {
    query = query.where('id', '<', options.beforeId);
  }
  if (options.userId !== null) {
    const userId = options.userId;
    query = query.where((eb) => eb.or([eb('target_id', '=', userId), eb('actor_id', '=', userId)]));
  }
  if (options.limit > 0) {
    query = query.limit(options.limit);
  }
  const rows = await query.execute();

  return rows.map((row) => ({
    id: row.id,
    at: row.at,
    action: row.action,
    actor: row.actor_id === null ? null : { id: row.actor_id, username: row.actor_username },
    target: row.target_id === null ? null : { id: row.target_id, username: row.target_username },
    detail: row.detail === null ? null : (JSON.parse(row.detail) as Record<string, unknown>),
  }));
}
