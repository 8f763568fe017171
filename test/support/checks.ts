// Checks shared by the acceptance tests: the shape of an error on standard
// error, the bytes of a store, and files that even root cannot write.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import type { RunResult } from './cli.js';

/**
 * Asserts that a failed run printed exactly one line on standard error,
 * without a stack trace, and that the line matches message.
 */
export function assertOneLineError(result: RunResult, message: RegExp): void {
  const lines = result.stderr.trimEnd().split('\n');
  assert.doesNotMatch(result.stderr, /^\s+at /m, `stack trace on standard error:\n${result.stderr}`);
  assert.equal(lines.length, 1, `expected one line on standard error, got ${lines.length}:\n${result.stderr}`);
  assert.match(lines[0] ?? '', message);
}

/**
 * Returns the SHA-256 of the store file and of its write-ahead log, if any,
 * so that a write still waiting in the log counts as a change too.
 */
export function storeDigest(storePath: string): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(storePath));
  const walPath = `${storePath}-wal`;
  if (existsSync(walPath)) {
    hash.update(readFileSync(walPath));
  }
  return hash.digest('hex');
}

/** The means by which makeUnwritable protected a path. */
export type WriteProtection = 'chmod' | 'chattr';

/**
 * Makes a file or folder unwritable and returns the means, or null when this
 * system has none. Root ignores permission bits, so as root this sets the
 * immutable attribute with chattr +i. That needs a file system with the
 * attribute, such as ext4 or xfs, but not tmpfs.
 */
export function makeUnwritable(path: string): WriteProtection | null {
  if (process.getuid?.() !== 0) {
    chmodSync(path, 0o555);
    return 'chmod';
  }
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' });
    return 'chattr';
  } catch {
    return null;
  }
}

/** Undoes makeUnwritable, so the temporary folder can be removed. */
export function makeWritable(path: string, protection: WriteProtection | null): void {
  if (protection === 'chattr') {
    execFileSync('chattr', ['-i', path], { stdio: 'ignore' });
  } else if (protection === 'chmod') {
    chmodSync(path, 0o755);
  }
}
