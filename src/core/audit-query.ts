// Reading the audit log, for admins only.

import { listAuditEvents, type AuditEventJson } from './audit.js';
import type { CoreContext } from './context.js';
import { PermissionError } from './errors.js';
import { requireUserRow, roleOf } from './records.js';
import type { Actor } from './sessions.js';
import type { UserRef } from './validation.js';

export async function readAuditLog(
  ctx: CoreContext,
  actor: Actor,
  options: { user: UserRef | null; limit: number; beforeId: number | null },
): Promise<AuditEventJson[]> {
  if (roleOf(actor.user) !== 'admin') {
    throw new PermissionError('only admins can read the audit log');
  }
  const userId = options.user === null ? null : (await requireUserRow(ctx.store.db, options.user)).id;
  return listAuditEvents(ctx.store.db, { userId, limit: options.limit, beforeId: options.beforeId });
}
