#!/usr/bin/env node
// Prints SQLite's query plans for the queries that "users get USERNAME" and
// one page of "users list --after ID" run, as one JSON object on stdout.
// The SQL is what twofa's own core functions (tsc output in build/) send,
// captured through Kysely's query log, so the plans follow the code.
//
//   node bench/query-plans.mjs STORE USERNAME AFTER_ID ADMIN_USERNAME

import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { DEFAULT_LIST_LIMIT } from '../build/src/core/constants.js';
import { findUserRow } from '../build/src/core/records.js';
import { listUsers } from '../build/src/core/users.js';

const [storePath, username, afterArgument, adminUsername] = process.argv.slice(2);
if (adminUsername === undefined) {
  process.stderr.write('usage: node bench/query-plans.mjs STORE USERNAME AFTER_ID ADMIN_USERNAME\n');
  process.exit(2);
}

const sqlite = new Database(storePath, { readonly: true });
let captured = [];
const db = new Kysely({
  dialect: new SqliteDialect({ database: sqlite }),
  log: (event) => captured.push(event.query),
});

try {
  const admin = await findUserRow(db, { username: adminUsername });
  if (!admin) {
    throw new Error(`no user ${adminUsername} in ${storePath}`);
  }

  captured = [];
  await findUserRow(db, { username });
  const getQueries = captured;

  captured = [];
  const ctx = { store: { path: storePath, db, sqlite, close: async () => {} }, bcryptCost: 12, issuer: 'twofa', now: () => new Date() };
  const options = { role: null, disabled: null, search: null, limit: DEFAULT_LIST_LIMIT, afterId: Number(afterArgument) };
  for await (const user of listUsers(ctx, { user: admin, sessionId: 0 }, options)) {
    void user;
  }
  const listQueries = captured;

  process.stdout.write(`${JSON.stringify({ get: describe(getQueries), list: describe(listQueries) })}\n`);
} finally {
  await db.destroy();
}

/** Pairs each query with its plan and flags full scans and OFFSET. */
function describe(queries) {
  return queries.map(({ sql, parameters }) => {
    const plan = sqlite
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...parameters)
      .map((row) => row.detail);
    return {
      sql,
      plan,
      // "SCAN users" reads every row; a SEARCH uses an index or the rowid.
      fullScan: plan.some((detail) => /^SCAN users\b/.test(detail)),
      offset: /\boffset\b/i.test(sql),
    };
  });
}
