// Holds the write lock of a store from another process, the way a second
// twofa or the Python app would, to test how twofa waits for it.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export interface HeldLock {
  /** Resolves with the exit code of the holding process once it released the lock. */
  released: Promise<number | null>;
  /** Tells the holder to release the lock now. */
  release(): void;
}

// Runs in a child Node process: takes BEGIN IMMEDIATE (a RESERVED lock, which
// blocks every other writer), prints "locked", and rolls back after holdMs
// or when its standard input ends, whichever comes first.
const HOLDER_SCRIPT = `
const [modulePath, storePath, holdMs] = process.argv.slice(1);
const Database = require(modulePath);
const db = new Database(storePath, { timeout: 10000 });
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
const release = () => {
  if (db.open) {
    db.exec('ROLLBACK');
    db.close();
  }
  process.exit(0);
};
setTimeout(release, Number(holdMs));
process.stdin.on('end', release).resume();
`;

/**
 * Starts a process that holds BEGIN IMMEDIATE on the store for holdMs, or
 * until release() is called, and resolves once the lock is taken.
 */
export function holdWriteLock(storePath: string, holdMs: number): Promise<HeldLock> {
  const modulePath = join(ROOT, 'node_modules', 'better-sqlite3');
  const child = spawn(process.execPath, ['-e', HOLDER_SCRIPT, modulePath, storePath, String(holdMs)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });

  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const released = new Promise<number | null>((resolveExit) => child.on('close', (code) => resolveExit(code)));

  return new Promise((resolveLocked, reject) => {
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('locked\n')) {
        resolveLocked({ released, release: () => child.stdin.end() });
      }
    });
    child.on('error', reject);
    released.then((code) => {
      if (!stdout.includes('locked\n')) {
        reject(new Error(`lock holder exited (${code}) before taking the lock: ${stderr}`));
      }
    });
  });
}
