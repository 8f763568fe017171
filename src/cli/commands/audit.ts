// twofa audit: the newest events first.

import type { AuditEventJson } from '../../core/audit.js';
import { readAuditLog } from '../../core/audit-query.js';
import { DEFAULT_AUDIT_LIMIT } from '../../core/constants.js';
import { parseCount, parseUserRef } from '../../core/validation.js';
import type { Runtime } from '../runtime.js';
import { renderTable } from '../table.js';
import { printable } from '../terminal-text.js';

export async function runAudit(rt: Runtime, flags: { user?: string; limit?: string; before?: string }): Promise<void> {
  const options = {
    user: flags.user === undefined ? null : parseUserRef(flags.user),
    limit: flags.limit === undefined ? DEFAULT_AUDIT_LIMIT : parseCount(flags.limit, '--limit'),
    beforeId: flags.before === undefined ? null : parseCount(flags.before, '--before'),
  };
  const actor = await rt.actor();
  // Fetching one event more than the limit shows whether older ones remain.
  const fetched = await readAuditLog(await rt.core(), actor, { ...options, limit: options.limit === 0 ? 0 : options.limit + 1 });
  const events = options.limit === 0 ? fetched : fetched.slice(0, options.limit);
  if (fetched.length > events.length) {
    const oldestShown = (events.at(-1) as AuditEventJson).id;
    rt.output.message(`Older events follow: run again with --before ${oldestShown} for the next page, or --limit 0 for all.`);
  }

  if (rt.output.json) {
    rt.output.result(events);
    return;
  }
  if (events.length === 0) {
    rt.output.message('No events.');
    return;
  }
  const style = rt.output.out;
  const headings = ['time', 'action', 'actor', 'target', 'detail'].map((heading) => style.bold(heading));
  const party = (who: { id: number; username: string | null } | null) =>
    who === null ? '-' : who.username === null ? `#${who.id}` : printable(who.username);
  const rows = events.map((event) => [
    event.at,
    event.action,
    party(event.actor),
    party(event.target),
    event.detail === null ? '' : printable(JSON.stringify(event.detail)),
  ]);
  // On a terminal, long names and details are cut to fit.
  rt.output.data(renderTable(headings, rows, { maxWidth: rt.output.terminalColumns, shrinkable: [2, 3, 4] }));
}
