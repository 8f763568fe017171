// Opens the SQLite store: file modes, pragmas, migrations, and the one way
// to write (an IMMEDIATE transaction).

import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql, type MigrationProvider } from 'kysely';
import { STORE_BUSY_TIMEOUT_MS } from '../core/constants.js';
import { translateStoreError } from './errors.js';
import { StoreError } from '../core/errors.js';
import { foldForSearch, SEARCH_FOLD_FUNCTION } from '../core/search.js';
import { migrations } from './migrations.js';
import type { Database } from './schema.js';

export interface Store {
  /** Absolute path of the store file. */
  path: string;
  db: Kysely<Database>;
  sqlite: BetterSqlite3.Database;
  /** Mode bits of the file when group or others may read it (it contains TOTP secrets), else null. */
  looseMode: number | null;
  close(): Promise<void>;
}

const MIGRATION_TABLE = 'kysely_migration';

/**
 * Opens the store at path and migrates it to the latest schema. A missing
 * store is created only with `create` (for init-admin), so a mistyped path
 * is reported instead of silently starting an empty store. A folder, a file
 * that is not SQLite, and a store of a newer schema are rejected with
 * StoreError.
 */
export async function openStore(path: string, options: { create?: boolean } = {}): Promise<Store> {
  const absolutePath = resolve(path);
  prepareStoreFile(absolutePath, options.create ?? false);

  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = new BetterSqlite3(absolutePath, { timeout: STORE_BUSY_TIMEOUT_MS });
  } catch (error) {
    throw translateStoreError(error, absolutePath);
  }

  try {
    // Checked before the switch to WAL, which rewrites the file header.
    if (readAppliedMigrations(sqlite).length === 0) {
      requireStoreToInitialize(sqlite, absolutePath, options.create ?? false);
    }
    configureConnection(sqlite);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    const mode = statSync(absolutePath).mode & 0o777;
    const looseMode = (mode & 0o077) !== 0 ? mode : null;
    const store: Store = { path: absolutePath, db, sqlite, looseMode, close: () => db.destroy() };
    await migrateStore(store);
    return store;
  } catch (error) {
    sqlite.close();
    throw translateStoreError(error, absolutePath);
  }
}

/**
 * Runs fn inside BEGIN IMMEDIATE ... COMMIT, so the write lock is taken before
 * the first read and a read-then-write cannot fail on a lock midway. The lock
 * is held while fn runs, so callers must do slow work such as bcrypt before.
 * NOTE: nothing here checks that; the core's callers hash first by design.
 */
export async function writeTransaction<T>(store: Store, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return store.db.connection().execute(async (connection) => {
    await sql`BEGIN IMMEDIATE`.execute(connection);
    try {
      const result = await fn(connection);
      await sql`COMMIT`.execute(connection);
      return result;
    } catch (error) {
      if (store.sqlite.inTransaction) {
        await sql`ROLLBACK`.execute(connection);
      }
      throw error;
    }
  });
}

function prepareStoreFile(path: string, create: boolean): void {
  let isNew = false;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) {
      throw new StoreError(`store path ${path} is a folder; give the path of a file with --db or TWOFA_DB`, 'store_invalid');
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw error;
    }
    isNew = true;
  }

  if (isNew && !create) {
    throw new StoreError(
      `no store at ${path}; create one with "twofa init-admin", or give the right path with --db or TWOFA_DB`,
      'store_missing',
    );
  }
  if (isNew) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      closeSync(openSync(path, 'wx', 0o600));
      chmodSync(path, 0o600);
    } catch (error) {
      // Another process may have created it first: then it is theirs to set up.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreError(`cannot create store ${path}: ${(error as Error).message}`, 'store_unwritable');
      }
    }
  }
}

function configureConnection(sqlite: BetterSqlite3.Database): void {
  // Switching to WAL writes to the file, so do it only when needed: a store
  // that is already in WAL mode stays readable from a read-only file.
  const mode = sqlite.pragma('journal_mode', { simple: true });
  if (mode !== 'wal') {
    sqlite.pragma('journal_mode = WAL');
  }
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${STORE_BUSY_TIMEOUT_MS}`);
  sqlite.function(SEARCH_FOLD_FUNCTION, { deterministic: true }, (value: unknown) => (value === null ? null : foldForSearch(String(value))));
}

async function migrateStore(store: Store): Promise<void> {
  const applied = readAppliedMigrations(store.sqlite);
  const known = Object.keys(migrations);
  const unknown = applied.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new StoreError(
      `store ${store.path} has a newer schema (${unknown.join(', ')}) than this twofa knows; upgrade twofa`,
      'store_too_new',
    );
  }
  if (applied.length === known.length) {
    return;
  }

  // Kysely's transaction would be DEFERRED, and two processes migrating a new
  // store at once would then fail on the lock instead of waiting for it. So
  // the whole run goes in one IMMEDIATE transaction on the same connection.
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  const migrator = new Migrator({ db: store.db, provider, disableTransactions: true });
  store.sqlite.exec('BEGIN IMMEDIATE');
  try {
    const { error } = await migrator.migrateToLatest();
    if (error) {
      throw error;
    }
    store.sqlite.exec('COMMIT');
  } catch (error) {
    if (store.sqlite.inTransaction) {
      store.sqlite.exec('ROLLBACK');
    }
    throw error;
  }
}

/**
 * Lets twofa add its tables only to a store of the Python app (it has a users
 * table) or, with `create`, to an empty database. Any other SQLite file
 * belongs to some other program and stays untouched.
 */
function requireStoreToInitialize(sqlite: BetterSqlite3.Database, path: string, create: boolean): void {
  const tables = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all() as Array<{ name: string }>;
  if (tables.some((table) => table.name === 'users')) {
    return;
  }
  if (tables.length > 0) {
    throw new StoreError(
      `${path} is a SQLite database of another program (it has no users table); give the path of a twofa store with --db or TWOFA_DB`,
      'store_invalid',
    );
  }
  if (!create) {
    throw new StoreError(
      `${path} is not a twofa store yet; create one with "twofa init-admin", or give the right path with --db or TWOFA_DB`,
      'store_missing',
    );
  }
}

function readAppliedMigrations(sqlite: BetterSqlite3.Database): string[] {
  const table = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
    .get(MIGRATION_TABLE);
  if (!table) {
    return [];
  }
  const rows = sqlite.prepare(`SELECT name FROM ${MIGRATION_TABLE} ORDER BY name`).all() as Array<{ name: string }>;
  return rows.map((row) => row.name);
}
