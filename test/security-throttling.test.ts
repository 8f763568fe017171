// Throttling: five failed logins of an account within 15 minutes lock it for
// 15 minutes, counted in the store, and an admin lifts the lock with --unlock.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { AuthError, LockedError } from '../src/core/errors.js';
import { LOGIN_FAILED_MESSAGE } from '../src/core/login.js';
import { codes, oathtool, Sandbox } from './support/cli.js';
import { caught, insertUser, K, loginAt, openCoreFixture, Person, queryStore, type CoreFixture } from './support/security.js';

const T0 = Date.parse('2026-03-02T09:00:00Z') / 1000;
const MINUTE = 60;
const WRONG = { username: 'ana', password: 'not the password' };

describe('lockout at core level', () => {
  let fixture: CoreFixture;

  beforeEach(async () => {
    fixture = await openCoreFixture({ startSeconds: T0 });
    await insertUser(fixture.store, { username: 'ana' });
  });

  afterEach(async () => {
    await fixture.close();
  });

  /** Logs ana in at atSeconds with the right password and the TOTP code of that moment. */
  function rightLogin(atSeconds: number) {
    return loginAt(fixture, atSeconds, { username: 'ana' }, { totpCode: oathtool(K, atSeconds) });
  }

  async function failPassword(atSeconds: number): Promise<Error> {
    return caught(() => loginAt(fixture, atSeconds, WRONG, { totpCode: oathtool(K, atSeconds) }));
  }

  async function lockState(): Promise<{ locked_until: string | null; failed_login_count: number }> {
    return fixture.store.db.selectFrom('users').select(['locked_until', 'failed_login_count']).where('username', '=', 'ana').executeTakeFirstOrThrow();
  }

  test('fifth failure locks account', async () => {
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const error = await failPassword(T0 + attempt);
      assert.ok(error instanceof AuthError, `attempt ${attempt} gave ${error.name}`);
      assert.equal(error.message, LOGIN_FAILED_MESSAGE);
    }
    const state = await lockState();
    assert.equal(state.locked_until, new Date((T0 + 5 + 15 * MINUTE) * 1000).toISOString());

    const locked = await caught(() => rightLogin(T0 + 10));
    assert.ok(locked instanceof LockedError, `right login gave ${locked.name}`);
    assert.equal(locked.exitCode, 7);
  });

  test('four failures do not lock', async () => {
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      await failPassword(T0 + attempt);
    }
    const state = await lockState();
    assert.equal(state.locked_until, null);
    assert.equal(state.failed_login_count, 4);

    const result = await rightLogin(T0 + 10);
    assert.equal(result.user.username, 'ana');
  });

  test('failures spread over 14 minutes lock', async () => {
    for (const minute of [0, 3, 7, 11, 14]) {
      await failPassword(T0 + minute * MINUTE);
    }
    const locked = await caught(() => rightLogin(T0 + 14 * MINUTE + 30));
    assert.ok(locked instanceof LockedError, `right login gave ${locked.name}`);
  });

  test('failures outside window do not lock', async () => {
    for (let attempt = 0; attempt < 4; attempt += 1) {
      await failPassword(T0 + attempt);
    }
    // The window began at T0, so these four start a new count.
    for (let attempt = 0; attempt < 4; attempt += 1) {
      await failPassword(T0 + 15 * MINUTE + 1 + attempt);
    }
    assert.equal((await lockState()).locked_until, null);
    const result = await rightLogin(T0 + 16 * MINUTE);
    assert.equal(result.user.username, 'ana');
  });

  test('lock lasts fifteen minutes', async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await failPassword(T0);
    }
    const stillLocked = await caught(() => rightLogin(T0 + 15 * MINUTE - 1));
    assert.ok(stillLocked instanceof LockedError, `login before expiry gave ${stillLocked.name}`);

    const result = await rightLogin(T0 + 15 * MINUTE);
    assert.equal(result.user.username, 'ana');
    const state = await lockState();
    assert.equal(state.locked_until, null);
    assert.equal(state.failed_login_count, 0);
  });

  test('wrong codes count towards lock', async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const error = await caught(() => loginAt(fixture, T0 + attempt, { username: 'ana' }, { totpCode: '000000' }));
      assert.ok(error instanceof AuthError);
    }
    const locked = await caught(() => rightLogin(T0 + 10));
    assert.ok(locked instanceof LockedError, `right login gave ${locked.name}`);
  });

  test('wrong recovery codes count towards lock', async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const error = await caught(() => loginAt(fixture, T0 + attempt, { username: 'ana' }, { recoveryCode: '00000-00000-00000-00000' }));
      assert.ok(error instanceof AuthError);
    }
    const locked = await caught(() => rightLogin(T0 + 10));
    assert.ok(locked instanceof LockedError, `right login gave ${locked.name}`);
  });

  test('success resets failure count', async () => {
    for (let attempt = 0; attempt < 4; attempt += 1) {
      await failPassword(T0 + attempt);
    }
    await rightLogin(T0 + 30);
    assert.equal((await lockState()).failed_login_count, 0);
    for (let attempt = 0; attempt < 4; attempt += 1) {
      await failPassword(T0 + 60 + attempt);
    }
    assert.equal((await lockState()).locked_until, null);
  });

  test('locked account rejects valid code', async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await failPassword(T0);
    }
    const locked = await caught(() => rightLogin(T0 + 1));
    assert.ok(locked instanceof LockedError, `right login gave ${locked.name}`);
    const sessions = await fixture.store.db.selectFrom('sessions').selectAll().execute();
    assert.equal(sessions.length, 0);
  });
});

describe('lockout through the CLI', () => {
  let sandbox: Sandbox;
  let root: Person;
  let bob: Person;

  before(async () => {
    sandbox = new Sandbox('twofa-throttle');
    await sandbox.initAdmin('root', 'correct horse battery');
    root = new Person(sandbox, 'root', 'correct horse battery');
    await root.login();
    bob = new Person(sandbox, 'bob', 'bob secret words 7');
    const created = await root.run(['users', 'create', '--username', 'bob', '--password-stdin', '--json'], { input: `${bob.password}\n` });
    assert.equal(created.code, 0, created.stderr);
  });

  after(() => {
    sandbox.remove();
  });

  function wrongLogin(person: Person) {
    return person.run(['login', '--username', person.username, '--password-stdin', '--otp', '000000', '--json'], {
      input: 'wrong password here\n',
    });
  }

  test('five failed runs lock bob', async () => {
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const result = await wrongLogin(bob);
      assert.equal(result.code, 3, `attempt ${attempt}: ${result.stderr}`);
    }
    const [row] = queryStore<{ locked_until: string | null }>(sandbox, 'SELECT locked_until FROM users WHERE username = ?', 'bob');
    assert.ok(row?.locked_until, 'the lock is not in the store');
    assert.ok(Date.parse(row.locked_until) > Date.now() + 14 * MINUTE * 1000);

    const code = await codes.next(sandbox.secretOf('bob'));
    const right = await bob.run(['login', '--username', 'bob', '--password-stdin', '--otp', code, '--json'], { input: `${bob.password}\n` });
    assert.equal(right.code, 7, right.stderr);
    assert.equal(JSON.parse(right.stderr).error.code, 'locked');
    assert.equal(existsSync(bob.sessionFile), false, 'a locked login wrote a session file');
  });

  test('plain user cannot unlock', async () => {
    const carol = new Person(sandbox, 'carol', 'carol secret words 8');
    const created = await root.run(['users', 'create', '--username', 'carol', '--password-stdin', '--json'], { input: `${carol.password}\n` });
    assert.equal(created.code, 0, created.stderr);
    await carol.login();

    const result = await carol.run(['users', 'update', 'bob', '--unlock']);
    assert.equal(result.code, 4, result.stderr);
    const [row] = queryStore<{ locked_until: string | null }>(sandbox, 'SELECT locked_until FROM users WHERE username = ?', 'bob');
    assert.notEqual(row?.locked_until, null);
  });

  test('admin unlock lets bob in', async () => {
    const unlock = await root.run(['users', 'update', 'bob', '--unlock', '--json']);
    assert.equal(unlock.code, 0, unlock.stderr);
    const [row] = queryStore<{ locked_until: string | null; failed_login_count: number }>(
      sandbox,
      'SELECT locked_until, failed_login_count FROM users WHERE username = ?',
      'bob',
    );
    assert.equal(row?.locked_until, null);
    assert.equal(row?.failed_login_count, 0);

    const result = await bob.login();
    assert.equal(result.code, 0);
    assert.equal(result.json.user.username, 'bob');
  });
});
