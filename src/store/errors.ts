// SQLite's error codes as messages that name the store and the fix. Kept
// apart from the store module so that reporting an error loads no driver.

import { STORE_BUSY_TIMEOUT_MS } from '../core/constants.js';
import { StoreError } from '../core/errors.js';

/** Maps SQLite's error codes to StoreError messages that name the store. */
export function translateStoreError(error: unknown, path: string): unknown {
  if (error instanceof StoreError || !(error instanceof Error)) {
    return error;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) {
    return error;
  }
  if (code.startsWith('SQLITE_BUSY')) {
    return new StoreError(
      `store is busy: another process held ${path} locked for more than ${STORE_BUSY_TIMEOUT_MS / 1000} s; try again`,
      'store_busy',
    );
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new StoreError(`cannot write to store ${path}: it is read-only; check the permissions of the file and its folder`, 'store_read_only');
  }
  if (code === 'SQLITE_NOTADB') {
    return new StoreError(`${path} is not a SQLite database; give the path of a twofa store with --db or TWOFA_DB`, 'store_invalid');
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return new StoreError(
      `cannot open store ${path}: SQLite needs to create its -wal and -shm files beside it, which fails in a read-only folder; check that the file and its folder are readable and writable`,
      'store_unreadable',
    );
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError(`store ${path} is damaged (${error.message}); restore it from a backup`, 'store_corrupt');
  }
  return error;
}
