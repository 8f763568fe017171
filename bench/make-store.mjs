#!/usr/bin/env node
// Fixture generator for the benchmarks: makes a twofa store of N users and a
// logged-in admin session for it.
//
//   node bench/make-store.mjs --users 1000000 --dir /tmp/twofa-bench/big [--state DIR] [--cost 12]
//
// The built CLI creates DIR/store.db, so the product's own migrations make
// the schema, and its first admin "benchadmin". It then logs in for real
// with a code from oathtool, which saves the session in the state folder:
// DIR/state unless --state names one, which several stores may share because
// sessions are keyed by store. The other N - 1 users are inserted with
// better-sqlite3 in one transaction: usernames user0000002 and up (the
// number is the id), one shared bcrypt hash, and a random base32 TOTP secret
// each. On stdout it prints one JSON object that describes the fixture.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcrypt';
import Database from 'better-sqlite3';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'twofa');
export const ADMIN_USERNAME = 'benchadmin';
const ADMIN_PASSWORD = 'bench admin passphrase 42';
/** The password behind the hash that every generated user shares. */
export const USER_PASSWORD = 'bench user passphrase 42';
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Returns the username of the generated user with this id (ids from 2 up). */
export function usernameOf(id) {
  return `user${String(id).padStart(7, '0')}`;
}

/**
 * Creates the fixture in directory and returns its description: store path,
 * state folder, admin credentials and the id range of the users.
 */
export function makeStore({ users, directory, stateDirectory, cost = 12, log = () => {} }) {
  if (!Number.isInteger(users) || users < 1) {
    throw new Error(`invalid user count ${users}: give a whole number of at least 1 (the admin counts)`);
  }
  requireOathtool();

  const dir = resolve(directory);
  const store = join(dir, 'store.db');
  const stateDir = resolve(stateDirectory ?? join(dir, 'state'));
  const passwordFile = join(dir, 'admin-password');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(passwordFile, `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
  const env = { ...process.env, TWOFA_DB: store, TWOFA_STATE_DIR: stateDir, TWOFA_BCRYPT_COST: String(cost), NO_COLOR: '1' };

  log(`creating ${store} with the twofa CLI`);
  const created = JSON.parse(
    execFileSync(process.execPath, [BIN, 'init-admin', '--username', ADMIN_USERNAME, '--password-file', passwordFile, '--json'], { env, encoding: 'utf8' }),
  );
  const code = execFileSync('oathtool', ['--totp', '--base32', created.secret], { encoding: 'utf8' }).trim();
  execFileSync(process.execPath, [BIN, 'login', '--username', ADMIN_USERNAME, '--password-file', passwordFile, '--otp', code, '--json'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });

  log(`inserting ${users - 1} users`);
  insertGeneratedUsers(store, users - 1);

  return {
    store,
    stateDir,
    passwordFile,
    adminUsername: ADMIN_USERNAME,
    adminSecret: created.secret,
    cost,
    users,
    firstUserId: users > 1 ? 2 : null,
    lastUserId: users,
  };
}

function insertGeneratedUsers(store, count) {
  const sqlite = new Database(store);
  try {
    // A large page cache only speeds up this one bulk write.
    sqlite.pragma('cache_size = -262144');
    const hash = bcrypt.hashSync(USER_PASSWORD, 10);
    const nowIso = new Date().toISOString();
    const insert = sqlite.prepare(
      `INSERT INTO users (id, username, email, full_name, hashed_password, otp_secret, disabled, role, otp_pending, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 0, 'user', 0, ?, ?)`,
    );
    const insertAll = sqlite.transaction(() => {
      for (let id = 2; id < count + 2; id += 1) {
        const username = usernameOf(id);
        insert.run(id, username, `${username}@example.com`, `Bench User ${id}`, hash, randomBase32Secret(), nowIso, nowIso);
      }
    });
    insertAll.immediate();
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    sqlite.close();
  }
}

/** 20 random bytes as 32 base32 characters, as twofa makes secrets. */
function randomBase32Secret() {
  const bytes = randomBytes(20);
  let bits = 0;
  let value = 0;
  let secret = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      secret += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return secret;
}

function requireOathtool() {
  try {
    execFileSync('oathtool', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('oathtool not found: the fixture logs in with a real TOTP code; install it (Debian: apt-get install oathtool)');
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { users: { type: 'string' }, dir: { type: 'string' }, state: { type: 'string' }, cost: { type: 'string', default: '12' } },
  });
  if (values.users === undefined || values.dir === undefined) {
    process.stderr.write('usage: node bench/make-store.mjs --users N --dir DIR [--state DIR] [--cost 12]\n');
    process.exit(2);
  }
  const started = performance.now();
  const fixture = makeStore({
    users: Number(values.users),
    directory: values.dir,
    stateDirectory: values.state,
    cost: Number(values.cost),
    log: (message) => process.stderr.write(`${message}\n`),
  });
  process.stderr.write(`done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`${JSON.stringify(fixture, null, 2)}\n`);
}
