// Sessions: 256-bit tokens of which the store keeps only the SHA-256, idle
// and absolute expiry, a check on every command, and a private token file.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { AuthError } from '../src/core/errors.js';
import { authenticate, createSession, revokeSessionByToken } from '../src/core/sessions.js';
import { codes, Sandbox, type RunResult } from './support/cli.js';
import {
  caught,
  DEFAULT_PASSWORD,
  execStore,
  insertUser,
  openCoreFixture,
  Person,
  queryStore,
  runWithUmask,
  storeBytes,
  type CoreFixture,
} from './support/security.js';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

describe('session lifetime at core level', () => {
  let fixture: CoreFixture;
  let userId: number;

  beforeEach(async () => {
    fixture = await openCoreFixture();
    userId = await insertUser(fixture.store, { username: 'ana' });
  });

  afterEach(async () => {
    await fixture.close();
  });

  async function newToken(ttlSeconds = 12 * 60 * 60): Promise<string> {
    const session = await createSession(fixture.store.db, { userId, now: new Date(T0), ttlSeconds });
    return session.token;
  }

  async function assertEnded(token: string, atMs: number, code: string): Promise<void> {
    const error = await caught(() => authenticate(fixture.store, token, new Date(atMs)));
    assert.ok(error instanceof AuthError, `gave ${error.name}: ${error.message}`);
    assert.equal(error.code, code);
    assert.equal(error.exitCode, 3);
  }

  test('token has 256 random bits', async () => {
    const tokens = new Set<string>();
    for (let index = 0; index < 20; index += 1) {
      const token = await newToken();
      assert.equal(Buffer.from(token, 'base64url').length, 32, token);
      assert.equal(Buffer.from(token, 'base64url').toString('base64url'), token);
      tokens.add(token);
    }
    assert.equal(tokens.size, 20);
  });

  test('store keeps SHA-256 only', async () => {
    const token = await newToken();
    const rows = await fixture.store.db.selectFrom('sessions').selectAll().execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.token_hash, createHash('sha256').update(token).digest('hex'));
    assert.match(rows[0]?.token_hash ?? '', /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(rows).includes(token), 'the token is in a sessions row');
  });

  test('idle session valid before 30 minutes', async () => {
    const token = await newToken();
    const actor = await authenticate(fixture.store, token, new Date(T0 + 30 * MINUTE - SECOND));
    assert.equal(actor.user.username, 'ana');
  });

  test('idle session ends at 30 minutes', async () => {
    const token = await newToken();
    await assertEnded(token, T0 + 30 * MINUTE, 'session_expired');
  });

  test('use extends idle limit', async () => {
    const token = await newToken();
    await authenticate(fixture.store, token, new Date(T0 + 20 * MINUTE));
    const actor = await authenticate(fixture.store, token, new Date(T0 + 49 * MINUTE));
    assert.equal(actor.user.username, 'ana');
    await assertEnded(token, T0 + 49 * MINUTE + 30 * MINUTE, 'session_expired');
  });

  test('used session ends at 12 hours', async () => {
    const token = await newToken();
    for (let at = 20 * MINUTE; at < 12 * HOUR; at += 20 * MINUTE) {
      await authenticate(fixture.store, token, new Date(T0 + at));
    }
    const actor = await authenticate(fixture.store, token, new Date(T0 + 12 * HOUR - SECOND));
    assert.equal(actor.user.username, 'ana');
    await assertEnded(token, T0 + 12 * HOUR, 'session_expired');
  });

  test('ttl 45s caps idle limit', async () => {
    const early = await newToken(45);
    const late = await newToken(45);
    await authenticate(fixture.store, early, new Date(T0 + 44 * SECOND));
    await assertEnded(late, T0 + 45 * SECOND, 'session_expired');
  });

  test('ttl 7d keeps 30-minute idle', async () => {
    const idle = await newToken(7 * 24 * 60 * 60);
    await assertEnded(idle, T0 + 31 * MINUTE, 'session_expired');

    const used = await newToken(7 * 24 * 60 * 60);
    for (let at = 20 * MINUTE; at <= 24 * HOUR; at += 20 * MINUTE) {
      await authenticate(fixture.store, used, new Date(T0 + at));
    }
    const actor = await authenticate(fixture.store, used, new Date(T0 + 24 * HOUR + MINUTE));
    assert.equal(actor.user.username, 'ana');
  });

  test('revoked session rejected', async () => {
    const token = await newToken();
    assert.equal(await revokeSessionByToken(fixture.store, token, new Date(T0 + MINUTE)), true);
    await assertEnded(token, T0 + 2 * MINUTE, 'session_revoked');
  });

  test('disabled user session rejected', async () => {
    const token = await newToken();
    await fixture.store.db.updateTable('users').set({ disabled: 1 }).where('id', '=', userId).execute();
    await assertEnded(token, T0 + MINUTE, 'account_unavailable');
  });

  test('unknown and malformed tokens rejected', async () => {
    const token = await newToken();
    const edited = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    await assertEnded(edited, T0 + MINUTE, 'session_invalid');
    await assertEnded('abc', T0 + MINUTE, 'session_invalid');
    await assertEnded('', T0 + MINUTE, 'session_invalid');
  });
});

describe('session file and store through the CLI', () => {
  let sandbox: Sandbox;
  let root: Person;

  before(async () => {
    sandbox = new Sandbox('twofa-sessions');
    await sandbox.initAdmin('root', 'correct horse battery');
    root = new Person(sandbox, 'root', 'correct horse battery');
    await root.login();
  });

  after(() => {
    sandbox.remove();
  });

  let userCount = 0;

  /** Creates a user with a fresh state folder; the first login (enrollment) is left to the test. */
  async function newPerson(role: 'user' | 'admin' = 'user'): Promise<Person> {
    userCount += 1;
    const person = new Person(sandbox, `member${userCount}`, DEFAULT_PASSWORD);
    const created = await root.run(['users', 'create', '--username', person.username, '--role', role, '--password-stdin', '--json'], {
      input: `${person.password}\n`,
    });
    assert.equal(created.code, 0, created.stderr);
    return person;
  }

  async function loginWithUmask(person: Person, umask: string): Promise<RunResult> {
    const code = await codes.next(sandbox.secretOf(person.username));
    return runWithUmask(umask, ['login', '--username', person.username, '--password-stdin', '--otp', code, '--json'], {
      env: { ...sandbox.env, TWOFA_STATE_DIR: person.stateDir },
      input: `${person.password}\n`,
    });
  }

  function modeOf(path: string): string {
    return (statSync(path).mode & 0o777).toString(8).padStart(4, '0');
  }

  function assertNoStackTrace(result: RunResult): void {
    assert.doesNotMatch(result.stderr, /^\s+at /m, `stack trace on standard error:\n${result.stderr}`);
  }

  test('umask 002 login writes 0600', async () => {
    const person = await newPerson();
    assert.equal(existsSync(person.stateDir), false);
    const result = await loginWithUmask(person, '002');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(modeOf(person.stateDir), '0700');
    assert.equal(modeOf(person.sessionFile), '0600');
  });

  test('old 0644 file becomes 0600', async () => {
    const person = await newPerson();
    mkdirSync(person.stateDir, { recursive: true });
    chmodSync(person.stateDir, 0o755);
    writeFileSync(person.sessionFile, '{"version":1,"sessions":{}}\n');
    chmodSync(person.sessionFile, 0o644);

    const result = await loginWithUmask(person, '002');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(modeOf(person.sessionFile), '0600');
    assert.equal(modeOf(person.stateDir), '0700');
    assert.ok(person.token(), 'no token saved');
  });

  test('readable file rejected with chmod', async () => {
    const person = await newPerson();
    await person.login();
    for (const mode of [0o644, 0o640, 0o604]) {
      chmodSync(person.sessionFile, mode);
      const result = await person.run(['users', 'me']);
      assert.equal(result.code, 3, `mode ${mode.toString(8)}: ${result.stderr}`);
      assert.ok(result.stderr.includes(`chmod 600 ${person.sessionFile}`), result.stderr);
      assertNoStackTrace(result);
    }
    chmodSync(person.sessionFile, 0o600);
    const fixed = await person.run(['users', 'me']);
    assert.equal(fixed.code, 0, fixed.stderr);
  });

  test('file replaced by rename', async () => {
    const person = await newPerson();
    await person.login();
    const firstInode = statSync(person.sessionFile).ino;
    await person.login();
    assert.notEqual(statSync(person.sessionFile).ino, firstInode, 'the file was rewritten in place');
    assert.deepEqual(readdirSync(person.stateDir), ['sessions.json']);
  });

  test('store never holds the token', async () => {
    const person = await newPerson();
    await person.login();
    const token = person.token();
    assert.ok(token);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(token, 'base64url').length, 32);

    const hashes = queryStore<{ token_hash: string }>(
      sandbox,
      'SELECT token_hash FROM sessions JOIN users ON users.id = sessions.user_id WHERE username = ?',
      person.username,
    );
    assert.deepEqual(
      hashes.map((row) => row.token_hash),
      [createHash('sha256').update(token).digest('hex')],
    );
    assert.equal(storeBytes(sandbox.db).includes(token), false, 'the token is in the store file');
  });

  test('disabled user rejected next command', async () => {
    const bob = await newPerson();
    await bob.login();
    assert.equal((await bob.run(['users', 'me'])).code, 0);

    const disable = await root.run(['users', 'update', bob.username, '--disable']);
    assert.equal(disable.code, 0, disable.stderr);
    const result = await bob.run(['users', 'me']);
    assert.equal(result.code, 3, result.stderr);
    assertNoStackTrace(result);
  });

  test('demoted admin cannot list', async () => {
    const eve = await newPerson('admin');
    await eve.login();
    assert.equal((await eve.run(['users', 'list'])).code, 0);

    const demote = await root.run(['users', 'update', eve.username, '--role', 'user']);
    assert.equal(demote.code, 0, demote.stderr);
    const result = await eve.run(['users', 'list']);
    assert.ok(result.code === 3 || result.code === 4, `exit ${result.code}: ${result.stderr}`);
  });

  test('expired ttl session rejected', async () => {
    const person = await newPerson();
    await person.login(['--ttl', '1s']);
    await new Promise((resolveWait) => setTimeout(resolveWait, 1500));
    const result = await person.run(['users', 'me']);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /log in again/);
  });

  test('idle session rejected by CLI', async () => {
    const person = await newPerson();
    await person.login();
    const idleSince = new Date(Date.now() - 31 * MINUTE).toISOString();
    execStore(
      sandbox,
      'UPDATE sessions SET last_used_at = ? WHERE user_id = (SELECT id FROM users WHERE username = ?)',
      idleSince,
      person.username,
    );
    const result = await person.run(['users', 'me']);
    assert.equal(result.code, 3, result.stderr);
  });

  test('revoked row rejected by CLI', async () => {
    const person = await newPerson();
    await person.login();
    execStore(
      sandbox,
      'UPDATE sessions SET revoked_at = ? WHERE user_id = (SELECT id FROM users WHERE username = ?)',
      new Date().toISOString(),
      person.username,
    );
    const result = await person.run(['users', 'me']);
    assert.equal(result.code, 3, result.stderr);
  });

  test('edited token rejected cleanly', async () => {
    const person = await newPerson();
    await person.login();
    const token = person.token() ?? '';
    const original = readFileSync(person.sessionFile, 'utf8');

    for (const edited of [`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, 'abc', '']) {
      writeFileSync(person.sessionFile, original.replace(token, edited));
      const result = await person.run(['users', 'me']);
      assert.equal(result.code, 3, `token "${edited}": ${result.stderr}`);
      assert.match(result.stderr, /log in again/, `token "${edited}"`);
      assertNoStackTrace(result);
    }
    writeFileSync(person.sessionFile, '{ not json');
    const damaged = await person.run(['users', 'me']);
    assert.equal(damaged.code, 3, damaged.stderr);
    assertNoStackTrace(damaged);
  });

  test('logout without session writes nothing', async () => {
    const person = await newPerson();

    const logout = await person.run(['logout', '--json']);

    assert.equal(logout.code, 0, logout.stderr);
    assert.deepEqual(logout.json, { loggedOut: true, sessionRevoked: false });
    assert.equal(existsSync(person.sessionFile), false, 'logout created a session file');
  });

  test('logout ends session in store', async () => {
    const person = await newPerson();
    await person.login();
    const saved = readFileSync(person.sessionFile, 'utf8');

    const logout = await person.run(['logout']);
    assert.equal(logout.code, 0, logout.stderr);
    assert.equal(person.token(), null);
    const open = queryStore<{ id: number }>(
      sandbox,
      'SELECT sessions.id FROM sessions JOIN users ON users.id = sessions.user_id WHERE username = ? AND revoked_at IS NULL',
      person.username,
    );
    assert.deepEqual(open, []);

    writeFileSync(person.sessionFile, saved);
    const result = await person.run(['users', 'me']);
    assert.equal(result.code, 3, result.stderr);
  });
});
