// Runs the built CLI as a child process against temporary stores, and
// computes TOTP codes with oathtool, an implementation independent of ours.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';

export const ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const BIN = join(ROOT, 'bin', 'twofa');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

export interface RunOptions {
  input?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Starts twofa through sh with this umask, as a user's shell would. */
  umask?: string;
}

/** A temporary store and state folder, with the environment to use them. */
export class Sandbox {
  readonly dir: string;
  readonly db: string;
  readonly stateDir: string;
  readonly env: Record<string, string>;

  constructor(name = 'twofa') {
    this.dir = mkdtempSync(join(tmpdir(), `${name}-`));
    this.db = join(this.dir, 'store.db');
    this.stateDir = join(this.dir, 'state');
    this.env = {
      TWOFA_DB: this.db,
      TWOFA_STATE_DIR: this.stateDir,
      TWOFA_BCRYPT_COST: '10',
    };
  }

  /** Runs twofa with args; standard input is closed unless input is given. */
  run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return runTwofa(args, { ...options, env: { ...this.env, ...options.env } });
  }

  /** Opens the store directly, for checks and fixtures. */
  open(): Database.Database {
    return new Database(this.db);
  }

  secretOf(username: string): string {
    const db = this.open();
    try {
      const row = db.prepare('SELECT otp_secret FROM users WHERE username = ?').get(username) as { otp_secret: string } | undefined;
      if (!row) {
        throw new Error(`no user ${username} in ${this.db}`);
      }
      return row.otp_secret;
    } finally {
      db.close();
    }
  }

  /** Creates the first admin from flags (enrollment pending) and returns its secret. */
  async initAdmin(username = 'root', password = 'correct horse battery'): Promise<string> {
    const result = await this.run(['init-admin', '--username', username, '--password-stdin', '--json'], { input: `${password}\n` });
    if (result.code !== 0) {
      throw new Error(`init-admin failed (${result.code}): ${result.stderr}`);
    }
    return result.json.secret as string;
  }

  /** Logs in with a fresh oathtool code and returns the result. */
  async login(username: string, password: string, extra: string[] = []): Promise<RunResult> {
    const code = await codes.next(this.secretOf(username));
    return this.run(['login', '--username', username, '--password-stdin', '--otp', code, '--json', ...extra], { input: `${password}\n` });
  }

  /** Creates a user as the logged-in admin; returns the parsed USER_JSON. */
  async createUser(username: string, password: string, extra: string[] = []): Promise<any> {
    const result = await this.run(['users', 'create', '--username', username, '--password-stdin', '--json', ...extra], { input: `${password}\n` });
    if (result.code !== 0) {
      throw new Error(`users create ${username} failed (${result.code}): ${result.stderr}`);
    }
    return result.json;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function runTwofa(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...options.env })) {
      if (value !== undefined) {
        env[key] = value;
      }
    }
    const child =
      options.umask === undefined
        ? spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
        : spawn('sh', ['-c', `umask ${options.umask}; exec "$0" "$@"`, process.execPath, BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolvePromise({ code, stdout, stderr, json });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Computes the TOTP code of a base32 secret at a Unix time with oathtool. */
export function oathtool(secret: string, unixSeconds: number): string {
  const time = new Date(unixSeconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return execFileSync('oathtool', ['--totp', '--base32', `--now=${time}`, secret], { encoding: 'utf8' }).trim();
}

/**
 * Hands out codes that twofa has not seen yet. A code is accepted once, so
 * repeated logins of one user take the steps of the ±1 window in turn, and
 * wait for the clock when all three are used.
 */
class CodeBook {
  private readonly lastStep = new Map<string, number>();

  async next(secret: string): Promise<string> {
    for (;;) {
      const nowSeconds = Date.now() / 1000;
      const current = Math.floor(nowSeconds / 30);
      // Leave a margin near step edges, so a code is not out of the window
      // by the time the child process checks it.
      const earliest = nowSeconds % 30 > 25 ? current : current - 1;
      const step = Math.max(earliest, (this.lastStep.get(secret) ?? -Infinity) + 1);
      if (step <= current + 1) {
        this.lastStep.set(secret, step);
        return oathtool(secret, step * 30);
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 1000));
    }
  }
}

export const codes = new CodeBook();
