// Single-use TOTP codes: the window of one step either side, and the last
// accepted step per user, checked and advanced in one IMMEDIATE transaction
// for logins and for the first code of init-admin.

import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { AuthError } from '../src/core/errors.js';
import { LOGIN_FAILED_MESSAGE } from '../src/core/login.js';
import { initAdmin } from '../src/core/users.js';
import { codes, Sandbox } from './support/cli.js';
import { caught, DEFAULT_PASSWORD, insertUser, K, K_CODES, loginAt, openCoreFixture, Person, queryStore, type CoreFixture } from './support/security.js';

describe('TOTP window and replay', () => {
  let fixture: CoreFixture;

  beforeEach(async () => {
    fixture = await openCoreFixture();
  });

  afterEach(async () => {
    await fixture.close();
  });

  async function lastStepOf(username: string): Promise<number | null> {
    const row = await fixture.store.db.selectFrom('users').select('last_totp_step').where('username', '=', username).executeTakeFirstOrThrow();
    return row.last_totp_step;
  }

  /** Asserts that a login of username at atSeconds with code is rejected as a wrong code. */
  async function assertRejected(atSeconds: number, username: string, code: string): Promise<void> {
    const error = await caught(() => loginAt(fixture, atSeconds, { username }, { totpCode: code }));
    assert.ok(error instanceof AuthError, `T=${atSeconds} ${code}: expected AuthError, got ${error.name}: ${error.message}`);
    assert.equal(error.message, LOGIN_FAILED_MESSAGE);
  }

  test('step 1 accepted at T=0', async () => {
    await insertUser(fixture.store, { username: 'ana' });
    const result = await loginAt(fixture, 0, { username: 'ana' }, { totpCode: K_CODES.step1 });
    assert.equal(result.user.username, 'ana');
    assert.equal(await lastStepOf('ana'), 1);
  });

  test('step 1 accepted at T=89', async () => {
    await insertUser(fixture.store, { username: 'ana' });
    const result = await loginAt(fixture, 89, { username: 'ana' }, { totpCode: K_CODES.step1 });
    assert.equal(result.user.username, 'ana');
  });

  test('step 1 rejected at T=90', async () => {
    await insertUser(fixture.store, { username: 'ana' });
    await assertRejected(90, 'ana', K_CODES.step1);
  });

  test('neighbour steps accepted at T=59', async () => {
    await insertUser(fixture.store, { username: 'ana' });
    await insertUser(fixture.store, { username: 'ben' });
    const before = await loginAt(fixture, 59, { username: 'ana' }, { totpCode: K_CODES.step0 });
    assert.equal(before.user.username, 'ana');
    assert.equal(await lastStepOf('ana'), 0);
    const next = await loginAt(fixture, 59, { username: 'ben' }, { totpCode: K_CODES.step2 });
    assert.equal(next.user.username, 'ben');
    assert.equal(await lastStepOf('ben'), 2);
  });

  test('step 3 rejected at T=59', async () => {
    await insertUser(fixture.store, { username: 'ana' });
    await assertRejected(59, 'ana', K_CODES.step3);
    assert.equal(await lastStepOf('ana'), null);
  });

  test('same code rejected at T=65', async () => {
    await insertUser(fixture.store, { username: 'ana' });
    await loginAt(fixture, 59, { username: 'ana' }, { totpCode: K_CODES.step1 });
    await assertRejected(65, 'ana', K_CODES.step1);
  });

  test('earlier step rejected after later', async () => {
    await insertUser(fixture.store, { username: 'ana' });
    await loginAt(fixture, 61, { username: 'ana' }, { totpCode: K_CODES.step2 });
    await assertRejected(62, 'ana', K_CODES.step1);
    assert.equal(await lastStepOf('ana'), 2);
  });

  test('later step accepted after earlier', async () => {
    await insertUser(fixture.store, { username: 'ana' });
    await loginAt(fixture, 59, { username: 'ana' }, { totpCode: K_CODES.step0 });
    const result = await loginAt(fixture, 62, { username: 'ana' }, { totpCode: K_CODES.step1 });
    assert.equal(result.user.username, 'ana');
    assert.equal(await lastStepOf('ana'), 1);
  });

  test('enrollment code rejected at login', async () => {
    await insertUser(fixture.store, { username: 'ana', pending: 1 });
    const confirming = await loginAt(fixture, 40, { username: 'ana' }, { totpCode: K_CODES.step1 });
    assert.ok(confirming.recoveryCodes, 'the confirming login issued no recovery codes');
    await assertRejected(50, 'ana', K_CODES.step1);
  });

  test('init-admin code rejected at login', async () => {
    fixture.clock.set(40);
    const admin = { username: 'ana', email: null, fullName: null, password: DEFAULT_PASSWORD };
    const created = await initAdmin(fixture.ctx, admin, { secret: K, code: K_CODES.step1 });
    assert.ok(created.recoveryCodes, 'the first code did not confirm the enrollment');
    assert.equal(await lastStepOf('ana'), 1);
    await assertRejected(50, 'ana', K_CODES.step1);
  });

  test('init-admin rejects stale code', async () => {
    fixture.clock.set(90);
    const admin = { username: 'ana', email: null, fullName: null, password: DEFAULT_PASSWORD };
    const error = await caught(() => initAdmin(fixture.ctx, admin, { secret: K, code: K_CODES.step1 }));
    assert.ok(error instanceof AuthError, `expected AuthError, got ${error.name}: ${error.message}`);
    const count = await fixture.store.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    assert.equal(Number(count.count), 0, 'a rejected first code still wrote the admin');
  });

  test('wrong code keeps last step', async () => {
    await insertUser(fixture.store, { username: 'ana', lastStep: 0 });
    await assertRejected(59, 'ana', '000000');
    assert.equal(await lastStepOf('ana'), 0);
  });

  // otplib 13 throws when the stored step lies past the window, as after the
  // clock moves back. checkTotpCode rejects the code before calling otplib.
  test('code rejected after clock moves back', async () => {
    await insertUser(fixture.store, { username: 'ana', lastStep: 5 });
    await assertRejected(59, 'ana', K_CODES.step1);
  });
});

describe('one code, two CLI logins at once', () => {
  let sandbox: Sandbox;
  let root: Person;

  before(async () => {
    sandbox = new Sandbox('twofa-single-use');
    await sandbox.initAdmin('root', 'correct horse battery');
    root = new Person(sandbox, 'root', 'correct horse battery');
    await root.login();
  });

  after(() => {
    sandbox.remove();
  });

  async function createPerson(username: string): Promise<Person> {
    const person = new Person(sandbox, username, `${username} long secret 9`);
    const created = await root.run(['users', 'create', '--username', username, '--password-stdin', '--json'], { input: `${person.password}\n` });
    assert.equal(created.code, 0, created.stderr);
    return person;
  }

  /** Starts two logins of username with one code at the same moment, from two state folders. */
  async function raceLogins(person: Person, code: string) {
    const first = new Person(sandbox, person.username, person.password, `${person.username}-a`);
    const second = new Person(sandbox, person.username, person.password, `${person.username}-b`);
    const args = ['login', '--username', person.username, '--password-stdin', '--otp', code, '--json'];
    return Promise.all([first.run(args, { input: `${person.password}\n` }), second.run(args, { input: `${person.password}\n` })]);
  }

  function openSessions(username: string): number {
    const [row] = queryStore<{ count: number }>(
      sandbox,
      'SELECT count(*) AS count FROM sessions JOIN users ON users.id = sessions.user_id WHERE users.username = ? AND revoked_at IS NULL',
      username,
    );
    return row?.count ?? -1;
  }

  test('parallel logins give one session', async () => {
    for (const username of ['dora', 'ella', 'fred']) {
      const person = await createPerson(username);
      await person.login();
      const code = await codes.next(sandbox.secretOf(username));
      const results = await raceLogins(person, code);

      const exits = results.map((result) => result.code).sort();
      assert.deepEqual(exits, [0, 3], `${username}: ${results.map((result) => result.stderr).join(' | ')}`);
      // The login before the race is still open, so one more.
      assert.equal(openSessions(username), 2, `${username}: open sessions`);
    }
  });

  test('parallel enrollments confirm once', async () => {
    for (const username of ['gina', 'hugo', 'ines']) {
      await createPerson(username);
      const code = await codes.next(sandbox.secretOf(username));
      const results = await raceLogins(new Person(sandbox, username, `${username} long secret 9`), code);

      const exits = results.map((result) => result.code).sort();
      assert.deepEqual(exits, [0, 3], `${username}: ${results.map((result) => result.stderr).join(' | ')}`);
      assert.equal(openSessions(username), 1, `${username}: open sessions`);
      const winner = results.find((result) => result.code === 0);
      assert.equal(winner?.json.recoveryCodes.length, 10);
      const [enrolled] = queryStore<{ count: number }>(
        sandbox,
        "SELECT count(*) AS count FROM audit_events WHERE action = 'otp.enrolled' AND target_username = ?",
        username,
      );
      assert.equal(enrolled?.count, 1);
    }
  });

  test('replayed code rejected by CLI', async () => {
    const person = await createPerson('jack');
    await person.login();
    const code = await codes.next(sandbox.secretOf('jack'));
    const args = ['login', '--username', 'jack', '--password-stdin', '--otp', code, '--json'];

    const first = await person.run(args, { input: `${person.password}\n` });
    assert.equal(first.code, 0, first.stderr);
    const again = await person.run(args, { input: `${person.password}\n` });
    assert.equal(again.code, 3, again.stderr);
    assert.equal(JSON.parse(again.stderr).error.message, LOGIN_FAILED_MESSAGE);
  });
});
