// People acting on one sandbox store at the same time. A state folder keeps
// one session per store, so each person gets a state folder of their own.

import { join } from 'node:path';
import { codes, type RunOptions, type RunResult, type Sandbox } from './cli.js';

/** A user of a sandbox store, with their own session file. */
export class Person {
  readonly stateDir: string;

  constructor(
    readonly sandbox: Sandbox,
    readonly username: string,
    /** Tests that change the password set the new one here. */
    public password: string,
    /** Tells two sessions of one user apart; the state folder is named after it. */
    label: string = username,
  ) {
    this.stateDir = join(sandbox.dir, `state-${label}`);
  }

  /** Runs twofa as this person, with their state folder. */
  run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return this.sandbox.run(args, { ...options, env: { TWOFA_STATE_DIR: this.stateDir, ...options.env } });
  }

  /** Logs in with a fresh TOTP code; throws unless the login succeeds. */
  async login(extra: string[] = []): Promise<RunResult> {
    const code = await codes.next(this.sandbox.secretOf(this.username));
    const result = await this.run(['login', '--username', this.username, '--password-stdin', '--otp', code, '--json', ...extra], {
      input: `${this.password}\n`,
    });
    if (result.code !== 0) {
      throw new Error(`login of ${this.username} failed (${result.code}): ${result.stderr}`);
    }
    return result;
  }

  /** Creates a user as this (admin) person; returns the parsed USER_JSON. */
  async createUser(username: string, password: string, extra: string[] = []): Promise<any> {
    const result = await this.run(['users', 'create', '--username', username, '--password-stdin', '--json', ...extra], { input: `${password}\n` });
    if (result.code !== 0) {
      throw new Error(`users create ${username} failed (${result.code}): ${result.stderr}`);
    }
    return result.json;
  }

  /** Returns the same user with another state folder, for a second session. */
  elsewhere(label: string): Person {
    return new Person(this.sandbox, this.username, this.password, label);
  }
}

/** Creates the first admin of the sandbox store and logs them in. */
export async function firstAdmin(sandbox: Sandbox, username: string, password: string): Promise<Person> {
  await sandbox.initAdmin(username, password);
  const admin = new Person(sandbox, username, password);
  await admin.login();
  return admin;
}

/** Returns the users table as JSON text, ordered by id, to compare before and after a command. */
export function usersSnapshot(sandbox: Sandbox): string {
  const db = sandbox.open();
  try {
    return JSON.stringify(db.prepare('SELECT * FROM users ORDER BY id').all());
  } finally {
    db.close();
  }
}

/** Reads one row of the users table by username. */
export function userRow(sandbox: Sandbox, username: string): Record<string, unknown> {
  const db = sandbox.open();
  try {
    const row = db.prepare('SELECT * FROM users WHERE username = ?').get(username) as Record<string, unknown> | undefined;
    if (row === undefined) {
      throw new Error(`no user ${username} in ${sandbox.db}`);
    }
    return row;
  } finally {
    db.close();
  }
}

/** Returns the non-empty lines that a command wrote to standard error. */
export function errorLines(result: RunResult): string[] {
  return result.stderr.split('\n').filter((line) => line !== '');
}
