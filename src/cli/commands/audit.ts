// twofa audit: the newest events first.

import type { AuditEventJson } from '../../core/audit.js';
import { readAuditLog } from '../../core/audit-query.js';
import { DEFAULT_AUDIT_LIMIT } from '../../core/constants.js';
import { parseCount, parseUserRef } from '../../core/validation.js';
import type { Runtime } from '../runtime.js';
import { renderTable } from '../table.js';
import { printable, printableOr } from '../terminal-text.js';

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

  if (rt.output.json) {
    rt.output.result(events);
  } else if (events.length === 0) {
    rt.output.message('No events.');
  } else {
    printTable(rt, events);
  }
  // After the table, where it stays in view, as with users list.
  if (fetched.length > events.length) {
    const oldestShown = (events.at(-1) as AuditEventJson).id;
    rt.output.message(`Older events follow: run again with --before ${oldestShown} for the next page, or --limit 0 for all.`);
  }
}

function printTable(rt: Runtime, events: AuditEventJson[]): void {
  const style = rt.output.out;
  const headings = ['id', 'time', 'action', 'actor', 'target', 'detail'].map((heading) => style.bold(heading));
  const party = (user: { id: number; username: string | null } | null) => (user === null ? '-' : printableOr(user.username, `#${user.id}`));
  const rows = events.map((event) => [
    String(event.id),
    event.at,
    event.action,
    party(event.actor),
    party(event.target),
    event.detail === null ? '-' : printable(JSON.stringify(event.detail)),
  ]);
  // On a terminal, long names and details are cut to fit.
  rt.output.data(renderTable(headings, rows, { maxWidth: rt.output.terminalColumns, shrinkable: [3, 4, 5] }));
}
