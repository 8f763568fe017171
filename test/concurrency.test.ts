// Many twofa processes writing one store at once, and twofa waiting on a
// write lock that another process holds.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, codes, Sandbox, type RunResult } from './support/cli.js';
import { assertOneLineError } from './support/checks.js';
import { holdWriteLock } from './support/store-lock.js';

const ADMIN_PASSWORD = 'correct horse battery';
const USER_PASSWORD = 'violet kettle drums 93';
const LOCK_ERROR = /database is locked|SQLITE_BUSY/i;

interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a bash script with the sandbox's environment plus extra variables. */
function runBash(script: string, env: Record<string, string>): Promise<ShellResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('bash', ['-c', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

function countUsers(sandbox: Sandbox, where = '1 = 1', ...params: unknown[]): number {
  const db = sandbox.open();
  try {
    return (db.prepare(`SELECT count(*) AS n FROM users WHERE ${where}`).get(...params) as { n: number }).n;
  } finally {
    db.close();
  }
}

function createArgs(username: string, options: { json: boolean } = { json: false }): string[] {
  return ['users', 'create', '--username', username, '--password-stdin', ...(options.json ? ['--json'] : [])];
}

function elapsedSince(startMs: number): number {
  return Date.now() - startMs;
}

describe('parallel writers', () => {
  const sandbox = new Sandbox('twofa-parallel');

  before(async () => {
    await sandbox.initAdmin('root', ADMIN_PASSWORD);
    const login = await sandbox.login('root', ADMIN_PASSWORD);
    assert.equal(login.code, 0, login.stderr);
  });

  after(() => sandbox.remove());

  test('eight loops create eighty users', async () => {
    // Each bash loop is one process that runs twofa ten times in a row, all
    // with the one saved session of root.
    const loop = `
      for i in $(seq 1 10); do
        name="loop\${WORKER}n\${i}"
        printf '%s\\n' "$PASSWORD" | node "$BIN" users create --username "$name" --password-stdin --json > /dev/null
        echo "$name $?"
      done`;
    const countBefore = countUsers(sandbox);
    const workers = Array.from({ length: 8 }, (_, worker) =>
      runBash(loop, { ...sandbox.env, WORKER: String(worker), PASSWORD: USER_PASSWORD, BIN }),
    );
    const results = await Promise.all(workers);

    const outcomes = results.flatMap((result) => result.stdout.trim().split('\n'));
    assert.equal(outcomes.length, 80, outcomes.join('\n'));
    const failed = outcomes.filter((line) => !line.endsWith(' 0'));
    assert.deepEqual(failed, [], results.map((result) => result.stderr).join('\n'));
    for (const result of results) {
      assert.equal(result.code, 0);
      assert.doesNotMatch(result.stderr, LOCK_ERROR);
    }
    assert.equal(countUsers(sandbox) - countBefore, 80);
    assert.equal(countUsers(sandbox, "username LIKE 'loop%'"), 80);
  });

  test('twenty distinct creates all succeed', async () => {
    const names = Array.from({ length: 20 }, (_, index) => `distinct${index}`);
    const results = await Promise.all(names.map((name) => sandbox.run(createArgs(name, { json: true }), { input: `${USER_PASSWORD}\n` })));

    for (const [index, result] of results.entries()) {
      assert.equal(result.code, 0, `${names[index]}: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, LOCK_ERROR);
      assert.equal(result.json.username, names[index]);
    }
    assert.equal(countUsers(sandbox, "username LIKE 'distinct%'"), 20);
  });

  test('five same-name creates, one wins', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, () => sandbox.run(createArgs('samename'), { input: `${USER_PASSWORD}\n` })),
    );

    const exitCodes = results.map((result) => result.code).sort();
    assert.deepEqual(exitCodes, [0, 6, 6, 6, 6], results.map((result) => result.stderr).join('\n'));
    for (const result of results.filter((each) => each.code === 6)) {
      assertOneLineError(result, /username "samename" is taken/);
    }
    assert.equal(countUsers(sandbox, 'lower(username) = ?', 'samename'), 1);
  });
});

describe('write lock held by another process', () => {
  const sandbox = new Sandbox('twofa-lock');

  before(async () => {
    await sandbox.initAdmin('root', ADMIN_PASSWORD);
    const login = await sandbox.login('root', ADMIN_PASSWORD);
    assert.equal(login.code, 0, login.stderr);
  });

  after(() => sandbox.remove());

  test('create waits out a 3 s lock', async () => {
    const lock = await holdWriteLock(sandbox.db, 3000);
    const startMs = Date.now();
    const result = await sandbox.run(createArgs('carol'), { input: `${USER_PASSWORD}\n` });
    const waitedMs = elapsedSince(startMs);
    assert.equal(await lock.released, 0);

    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /error/i);
    // The create could not commit before the holder let go.
    assert.ok(waitedMs >= 2500, `create finished after ${waitedMs} ms, before the lock was released`);
    assert.equal(countUsers(sandbox, 'username = ?', 'carol'), 1);
  });

  test('lock past timeout gives busy error', async () => {
    // The lock stays until both creates have given up, however slowly they start.
    const lock = await holdWriteLock(sandbox.db, 30_000);
    const startMs = Date.now();
    // Two creates fail at once, one reporting as text and one as JSON.
    const [result, jsonResult] = await Promise.all([
      sandbox.run(createArgs('dave'), { input: `${USER_PASSWORD}\n` }),
      sandbox.run(createArgs('erin', { json: true }), { input: `${USER_PASSWORD}\n` }),
    ]);
    const waitedMs = elapsedSince(startMs);
    lock.release();
    assert.equal(await lock.released, 0);

    assert.equal(result.code, 1, result.stderr);
    assertOneLineError(result, /^error: store is busy: .* locked for more than 5 s; try again$/);
    assert.doesNotMatch(result.stderr, LOCK_ERROR);
    assert.equal(result.stdout, '');
    assert.ok(waitedMs >= 4500, `gave up after ${waitedMs} ms, before the 5 s busy timeout`);
    assert.ok(waitedMs < 15_000, `gave up after ${waitedMs} ms, long after the 5 s busy timeout`);

    assert.equal(jsonResult.code, 1, jsonResult.stderr);
    assert.equal(jsonResult.stdout, '');
    const error = JSON.parse(jsonResult.stderr.trim()) as { error: { code: string; message: string } };
    assert.equal(error.error.code, 'store_busy');
    assert.match(error.error.message, /^store is busy/);

    const db = sandbox.open();
    try {
      for (const username of ['dave', 'erin']) {
        const users = db.prepare('SELECT count(*) AS n FROM users WHERE username = ?').get(username) as { n: number };
        assert.equal(users.n, 0, `${username} was written`);
        const events = db.prepare('SELECT count(*) AS n FROM audit_events WHERE target_username = ?').get(username) as { n: number };
        assert.equal(events.n, 0, `an audit event names ${username}`);
      }
    } finally {
      db.close();
    }
  });
});

describe('two admins demote each other', () => {
  /**
   * Makes a store with exactly two enabled admins, root and bea, each logged
   * in with a state folder of their own. Returns bea's environment.
   */
  async function twoAdmins(sandbox: Sandbox): Promise<Record<string, string>> {
    await sandbox.initAdmin('root', ADMIN_PASSWORD);
    const rootLogin = await sandbox.login('root', ADMIN_PASSWORD);
    assert.equal(rootLogin.code, 0, rootLogin.stderr);
    await sandbox.createUser('bea', USER_PASSWORD, ['--role', 'admin']);

    const beaState = join(sandbox.dir, 'bea-state');
    mkdirSync(beaState, { mode: 0o700 });
    const beaEnv = { TWOFA_STATE_DIR: beaState };
    const beaLogin = await loginWithEnv(sandbox, 'bea', USER_PASSWORD, beaEnv);
    assert.equal(beaLogin.code, 0, beaLogin.stderr);
    return beaEnv;
  }

  async function loginWithEnv(sandbox: Sandbox, username: string, password: string, env: Record<string, string>): Promise<RunResult> {
    const code = await codes.next(sandbox.secretOf(username));
    return sandbox.run(['login', '--username', username, '--password-stdin', '--otp', code, '--json'], { input: `${password}\n`, env });
  }

  function enabledAdmins(sandbox: Sandbox): string[] {
    const db = sandbox.open();
    try {
      const rows = db
        .prepare("SELECT username FROM users WHERE role = 'admin' AND coalesce(disabled, 0) = 0 ORDER BY username")
        .all() as Array<{ username: string }>;
      return rows.map((row) => row.username);
    } finally {
      db.close();
    }
  }

  test('queued demotions leave one admin', async () => {
    const sandbox = new Sandbox('twofa-demote');
    try {
      const beaEnv = await twoAdmins(sandbox);

      // Both updates queue behind the lock, so they reach their
      // transactions at the same moment. The second must see the first.
      const lock = await holdWriteLock(sandbox.db, 3000);
      const [rootResult, beaResult] = await Promise.all([
        sandbox.run(['users', 'update', 'bea', '--role', 'user']),
        sandbox.run(['users', 'update', 'root', '--role', 'user'], { env: beaEnv }),
      ]);
      assert.equal(await lock.released, 0);

      const exitCodes = [rootResult.code, beaResult.code].sort();
      assert.deepEqual(exitCodes, [0, 6], `root: ${rootResult.stderr}\nbea: ${beaResult.stderr}`);
      // The rejected update names its own target, the admin that must stay.
      const rejected = rootResult.code === 6 ? rootResult : beaResult;
      const keptAdmin = rootResult.code === 6 ? 'bea' : 'root';
      assertOneLineError(rejected, new RegExp(`^error: .*\\b${keptAdmin}\\b.*\\benabled admin\\b`));
      assert.deepEqual(enabledAdmins(sandbox), [keptAdmin]);
    } finally {
      sandbox.remove();
    }
  });

  test('simultaneous demotions leave one admin', async (t) => {
    const sandbox = new Sandbox('twofa-demote');
    try {
      const beaEnv = await twoAdmins(sandbox);

      const [rootResult, beaResult] = await Promise.all([
        sandbox.run(['users', 'update', 'bea', '--role', 'user']),
        sandbox.run(['users', 'update', 'root', '--role', 'user'], { env: beaEnv }),
      ]);

      // The exit code of the rejected update depends on where it was when
      // the other one committed. It is 3 when its session was already ended,
      // 4 when its role check saw the demotion, and 6 when the last-admin
      // check did.
      const outcomes = [rootResult, beaResult].map((result) => result.code);
      t.diagnostic(`exit codes: root ${rootResult.code}, bea ${beaResult.code}`);
      assert.equal(outcomes.filter((code) => code === 0).length, 1, `root: ${rootResult.stderr}\nbea: ${beaResult.stderr}`);
      const rejected = rootResult.code === 0 ? beaResult : rootResult;
      assert.ok([3, 4, 6].includes(rejected.code ?? -1), `rejected with ${rejected.code}: ${rejected.stderr}`);
      assertOneLineError(rejected, /^error: /);
      assert.equal(enabledAdmins(sandbox).length, 1);
    } finally {
      sandbox.remove();
    }
  });
});
