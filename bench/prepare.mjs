#!/usr/bin/env node
// Steps that hyperfine runs before each timed run (--prepare), so that every
// run starts from the same state.
//
//   node bench/prepare.mjs copy SOURCE TARGET
//     Replaces the store TARGET (and its -wal and -shm files) with a copy of
//     SOURCE, a closed store with no WAL file.
//   node bench/prepare.mjs reset-totp STORE USERNAME
//     Forgets the user's last accepted TOTP step, so that the same code logs
//     in again. twofa accepts each code once; only a benchmark may undo that.

import { copyFileSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';

const [step, ...operands] = process.argv.slice(2);

if (step === 'copy' && operands.length === 2) {
  const [source, target] = operands;
  for (const suffix of ['-wal', '-shm']) {
    rmSync(`${target}${suffix}`, { force: true });
  }
  copyFileSync(source, target);
} else if (step === 'reset-totp' && operands.length === 2) {
  const [store, username] = operands;
  const sqlite = new Database(store, { timeout: 5000 });
  try {
    const { changes } = sqlite.prepare('UPDATE users SET last_totp_step = NULL WHERE username = ?').run(username);
    if (changes !== 1) {
      throw new Error(`no user ${username} in ${store}`);
    }
  } finally {
    sqlite.close();
  }
} else {
  process.stderr.write('usage: node bench/prepare.mjs copy SOURCE TARGET | reset-totp STORE USERNAME\n');
  process.exit(2);
}
