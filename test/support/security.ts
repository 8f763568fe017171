// Fixtures for the security tests. Core tests get a temporary store, a clock
// the test sets and users inserted straight into the store. CLI tests get a
// person with their own session file and the raw bytes of a store.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcrypt';
import type { CoreContext } from '../../src/core/context.js';
import { checkPassword, completeLogin, type LoginResult, type SecondFactor } from '../../src/core/login.js';
import { openStore, type Store } from '../../src/store/store.js';
import { Person as BasePerson } from './actors.js';
import { runTwofa, type RunResult, type Sandbox } from './cli.js';

/** The RFC 6238 test key "12345678901234567890" in base32. */
export const K = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** Six-digit SHA-1 codes of K by 30-second step, as oathtool computes them. */
export const K_CODES = { step0: '755224', step1: '287082', step2: '359152', step3: '969429' } as const;

export const DEFAULT_TTL_SECONDS = 12 * 60 * 60;

/** A clock in Unix seconds that only the test moves. */
export class Clock {
  private seconds: number;

  constructor(startSeconds = 0) {
    this.seconds = startSeconds;
  }

  set(seconds: number): void {
    this.seconds = seconds;
  }

  advance(seconds: number): void {
    this.seconds += seconds;
  }

  get nowSeconds(): number {
    return this.seconds;
  }

  readonly now = (): Date => new Date(this.seconds * 1000);
}

/** A temporary store opened in this process, with a core context on a fixed clock. */
export interface CoreFixture {
  dir: string;
  store: Store;
  clock: Clock;
  ctx: CoreContext;
  close(): Promise<void>;
}

export async function openCoreFixture(options: { bcryptCost?: number; startSeconds?: number } = {}): Promise<CoreFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'twofa-core-'));
  const store = await openStore(join(dir, 'store.db'), { create: true });
  const clock = new Clock(options.startSeconds ?? 0);
  const ctx: CoreContext = { store, bcryptCost: options.bcryptCost ?? 10, issuer: 'twofa', now: clock.now };
  return {
    dir,
    store,
    clock,
    ctx,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const hashCache = new Map<string, string>();

/** Returns a bcrypt hash of password at cost, computed once per pair. */
export function bcryptHash(password: string, cost: number): string {
  const key = `${cost}\u0000${password}`;
  let hash = hashCache.get(key);
  if (hash === undefined) {
    hash = bcrypt.hashSync(password, cost);
    hashCache.set(key, hash);
  }
  return hash;
}

export interface InsertUserOptions {
  username: string;
  password?: string;
  /** A stored hash to use as is; else a hash of password at cost. */
  hash?: string | null;
  cost?: number;
  secret?: string | null;
  /** 1 while TOTP enrollment is pending. */
  pending?: 0 | 1;
  role?: 'admin' | 'user';
  disabled?: 0 | 1;
  lastStep?: number | null;
}

export const DEFAULT_PASSWORD = 'plum orchard 42';

/** Inserts a user row straight into the store and returns its id. */
export async function insertUser(store: Store, options: InsertUserOptions): Promise<number> {
  const password = options.password ?? DEFAULT_PASSWORD;
  const hash = options.hash !== undefined ? options.hash : bcryptHash(password, options.cost ?? 10);
  const row = await store.db
    .insertInto('users')
    .values({
      username: options.username,
      hashed_password: hash,
      otp_secret: options.secret !== undefined ? options.secret : K,
      otp_pending: options.pending ?? 0,
      role: options.role ?? 'user',
      disabled: options.disabled ?? 0,
      last_totp_step: options.lastStep ?? null,
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Sets the clock to atSeconds, then runs a whole login: password, then the second factor. */
export async function loginAt(
  fixture: CoreFixture,
  atSeconds: number,
  credentials: { username: string; password?: string },
  factor: SecondFactor,
  ttlSeconds = DEFAULT_TTL_SECONDS,
): Promise<LoginResult> {
  fixture.clock.set(atSeconds);
  const check = await checkPassword(fixture.ctx, { username: credentials.username, password: credentials.password ?? DEFAULT_PASSWORD });
  return completeLogin(fixture.ctx, check, { factor, ttlSeconds });
}

/** Runs fn and returns what it threw, failing when it returns normally. */
export async function caught(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection, but the call succeeded');
}

/** A person of actors.ts who can also read their saved session token. */
export class Person extends BasePerson {
  get sessionFile(): string {
    return join(this.stateDir, 'sessions.json');
  }

  /** Returns the saved session token for the sandbox store, or null. */
  token(): string | null {
    if (!existsSync(this.sessionFile)) {
      return null;
    }
    const content = JSON.parse(readFileSync(this.sessionFile, 'utf8')) as { sessions: Record<string, { token: string }> };
    return content.sessions[this.sandbox.db]?.token ?? null;
  }
}

/** Reads the store file with its write-ahead log and shared-memory files into one buffer. */
export function storeBytes(storePath: string): Buffer {
  const parts = [storePath, `${storePath}-wal`, `${storePath}-shm`].filter((path) => existsSync(path)).map((path) => readFileSync(path));
  return Buffer.concat(parts);
}

/** Runs a SQL query on the sandbox store and returns all rows. */
export function queryStore<Row>(sandbox: Sandbox, sqlText: string, ...params: unknown[]): Row[] {
  const db = sandbox.open();
  try {
    return db.prepare(sqlText).all(...params) as Row[];
  } finally {
    db.close();
  }
}

/** Runs a SQL statement on the sandbox store, as a fixture step. */
export function execStore(sandbox: Sandbox, sqlText: string, ...params: unknown[]): void {
  const db = sandbox.open();
  try {
    db.prepare(sqlText).run(...params);
  } finally {
    db.close();
  }
}

/** Runs twofa through sh with a umask set first, as a user's shell would. */
export function runWithUmask(umask: string, args: string[], options: { env: Record<string, string>; input?: string }): Promise<RunResult> {
  return runTwofa(args, { ...options, umask });
}

/** Computes the median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
