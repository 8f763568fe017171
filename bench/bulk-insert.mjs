#!/usr/bin/env node
// One whole process of the core bulk-insert path, for hyperfine to time:
// opens a store, checks the admin session saved for it, and inserts COUNT
// users with an existing bcrypt hash in one transaction.
//
//   TWOFA_STATE_DIR=DIR TWOFA_BENCH_HASH='$2b$...' node bench/bulk-insert.mjs STORE COUNT
//
// It imports the tsc output in build/ (made by "node scripts/build.mjs
// --with-tests"), since the esbuild bundle exposes no core functions.

import { resolve } from 'node:path';
import { insertUsers } from '../build/src/core/bulk.js';
import { authenticate } from '../build/src/core/sessions.js';
import { readSessionToken } from '../build/src/cli/session-file.js';
import { openStore } from '../build/src/store/store.js';

const [storeArgument, countArgument] = process.argv.slice(2);
const hash = process.env.TWOFA_BENCH_HASH;
if (storeArgument === undefined || !/^\d+$/.test(countArgument ?? '') || !hash) {
  process.stderr.write('usage: TWOFA_STATE_DIR=DIR TWOFA_BENCH_HASH=HASH node bench/bulk-insert.mjs STORE COUNT\n');
  process.exit(2);
}

const storePath = resolve(storeArgument);
const count = Number(countArgument);
const token = readSessionToken(storePath);
if (token === null) {
  process.stderr.write(`no saved session for ${storePath} in TWOFA_STATE_DIR; make the store with bench/make-store.mjs\n`);
  process.exit(3);
}

const store = await openStore(storePath);
try {
  const ctx = { store, bcryptCost: 12, issuer: 'twofa', now: () => new Date() };
  const actor = await authenticate(store, token, ctx.now());
  // A prefix unique to this run keeps repeated runs on one store apart.
  const prefix = `imp${Date.now().toString(36)}x`;
  const rows = Array.from({ length: count }, (_, index) => ({
    username: `${prefix}${index}`,
    email: `${prefix}${index}@example.org`,
    fullName: `Imported User ${index}`,
    hashedPassword: hash,
  }));
  const { ids } = await insertUsers(ctx, actor, rows);
  if (ids.length !== count) {
    throw new Error(`inserted ${ids.length} users, expected ${count}`);
  }
} finally {
  await store.close();
}
