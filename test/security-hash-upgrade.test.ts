// Hash upgrade: a successful login re-hashes a password stored at a lower
// bcrypt cost than the configured one; $2a$ and $2y$ hashes keep working.

import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import bcrypt from 'bcrypt';
import { AuthError } from '../src/core/errors.js';
import { issueRecoveryCodes } from '../src/core/recovery.js';
import { codes, Sandbox } from './support/cli.js';
import {
  bcryptHash,
  caught,
  DEFAULT_PASSWORD,
  execStore,
  insertUser,
  K_CODES,
  loginAt,
  openCoreFixture,
  Person,
  queryStore,
  type CoreFixture,
} from './support/security.js';

describe('hash upgrade at core level', () => {
  let fixture: CoreFixture;

  afterEach(async () => {
    await fixture.close();
  });

  async function storedHash(username: string): Promise<string | null> {
    const row = await fixture.store.db.selectFrom('users').select('hashed_password').where('username', '=', username).executeTakeFirstOrThrow();
    return row.hashed_password;
  }

  describe('configured cost 11', () => {
    beforeEach(async () => {
      fixture = await openCoreFixture({ bcryptCost: 11 });
    });

    test('cost 10 hash becomes cost 11', async () => {
      await insertUser(fixture.store, { username: 'ana', cost: 10 });
      await loginAt(fixture, 59, { username: 'ana' }, { totpCode: K_CODES.step1 });

      const hash = await storedHash('ana');
      assert.match(hash ?? '', /^\$2b\$11\$/);
      assert.equal(await bcrypt.compare(DEFAULT_PASSWORD, hash ?? ''), true);
      const again = await loginAt(fixture, 65, { username: 'ana' }, { totpCode: K_CODES.step2 });
      assert.equal(again.user.username, 'ana');
    });

    test('upgrade noted in audit event', async () => {
      await insertUser(fixture.store, { username: 'ana', cost: 10 });
      await loginAt(fixture, 59, { username: 'ana' }, { totpCode: K_CODES.step1 });
      const event = await fixture.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'login.succeeded').executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(event.detail ?? '{}'), { factor: 'totp', passwordRehashed: true });
      assert.doesNotMatch(event.detail ?? '', /\$2/);
    });

    test('wrong code keeps weak hash', async () => {
      const weak = bcryptHash(DEFAULT_PASSWORD, 10);
      await insertUser(fixture.store, { username: 'ana', hash: weak });
      const error = await caught(() => loginAt(fixture, 59, { username: 'ana' }, { totpCode: '000000' }));
      assert.ok(error instanceof AuthError);
      assert.equal(await storedHash('ana'), weak);
    });

    test('wrong password keeps weak hash', async () => {
      const weak = bcryptHash(DEFAULT_PASSWORD, 10);
      await insertUser(fixture.store, { username: 'ana', hash: weak });
      const error = await caught(() => loginAt(fixture, 59, { username: 'ana', password: 'not the password' }, { totpCode: K_CODES.step1 }));
      assert.ok(error instanceof AuthError);
      assert.equal(await storedHash('ana'), weak);
    });

    test('$2y$ hash upgraded to $2b$', async () => {
      const php = `$2y$${bcryptHash(DEFAULT_PASSWORD, 10).slice(4)}`;
      await insertUser(fixture.store, { username: 'ana', hash: php });
      await loginAt(fixture, 59, { username: 'ana' }, { totpCode: K_CODES.step1 });
      assert.match((await storedHash('ana')) ?? '', /^\$2b\$11\$/);
    });

    test('recovery-code login upgrades hash', async () => {
      const id = await insertUser(fixture.store, { username: 'ana', cost: 10 });
      const [code] = await issueRecoveryCodes(fixture.store.db, id, '2026-01-01T00:00:00.000Z');
      await loginAt(fixture, 59, { username: 'ana' }, { recoveryCode: code ?? '' });
      assert.match((await storedHash('ana')) ?? '', /^\$2b\$11\$/);
    });

    test('higher cost hash kept', async () => {
      const strong = bcryptHash(DEFAULT_PASSWORD, 12);
      await insertUser(fixture.store, { username: 'ana', hash: strong });
      await loginAt(fixture, 59, { username: 'ana' }, { totpCode: K_CODES.step1 });
      assert.equal(await storedHash('ana'), strong);
    });
  });

  describe('configured cost 10', () => {
    beforeEach(async () => {
      fixture = await openCoreFixture({ bcryptCost: 10 });
    });

    test('equal cost hash kept', async () => {
      const hash = bcryptHash(DEFAULT_PASSWORD, 10);
      await insertUser(fixture.store, { username: 'ana', hash });
      await loginAt(fixture, 59, { username: 'ana' }, { totpCode: K_CODES.step1 });
      assert.equal(await storedHash('ana'), hash);
    });

    test('$2y$ hash logs in', async () => {
      const php = `$2y$${bcryptHash(DEFAULT_PASSWORD, 10).slice(4)}`;
      await insertUser(fixture.store, { username: 'ana', hash: php });
      const result = await loginAt(fixture, 59, { username: 'ana' }, { totpCode: K_CODES.step1 });
      assert.equal(result.user.username, 'ana');
    });

    test('$2y$ hash rejects wrong password', async () => {
      const php = `$2y$${bcryptHash(DEFAULT_PASSWORD, 10).slice(4)}`;
      await insertUser(fixture.store, { username: 'ana', hash: php });
      const error = await caught(() => loginAt(fixture, 59, { username: 'ana', password: 'not the password' }, { totpCode: K_CODES.step1 }));
      assert.ok(error instanceof AuthError);
    });

    test('$2a$ hash logs in', async () => {
      const legacy = `$2a$${bcryptHash(DEFAULT_PASSWORD, 10).slice(4)}`;
      await insertUser(fixture.store, { username: 'ana', hash: legacy });
      const result = await loginAt(fixture, 59, { username: 'ana' }, { totpCode: K_CODES.step1 });
      assert.equal(result.user.username, 'ana');
    });
  });
});

describe('hash upgrade through the CLI', () => {
  let sandbox: Sandbox;
  let root: Person;

  before(async () => {
    sandbox = new Sandbox('twofa-rehash');
    await sandbox.initAdmin('root', 'correct horse battery');
    root = new Person(sandbox, 'root', 'correct horse battery');
    await root.login();
  });

  after(() => {
    sandbox.remove();
  });

  function hashOf(username: string): string {
    const [row] = queryStore<{ hashed_password: string }>(sandbox, 'SELECT hashed_password FROM users WHERE username = ?', username);
    return row?.hashed_password ?? '';
  }

  async function loginAtCost(person: Person, cost: string) {
    const code = await codes.next(sandbox.secretOf(person.username));
    return person.run(['login', '--username', person.username, '--password-stdin', '--otp', code, '--json'], {
      input: `${person.password}\n`,
      env: { TWOFA_BCRYPT_COST: cost },
    });
  }

  test('login at cost 11 upgrades', async () => {
    const ana = new Person(sandbox, 'ana', DEFAULT_PASSWORD);
    const created = await root.run(['users', 'create', '--username', 'ana', '--password-stdin', '--json'], { input: `${ana.password}\n` });
    assert.equal(created.code, 0, created.stderr);
    assert.match(hashOf('ana'), /^\$2b\$10\$/);

    const first = await loginAtCost(ana, '11');
    assert.equal(first.code, 0, first.stderr);
    assert.match(hashOf('ana'), /^\$2b\$11\$/);

    const logout = await ana.run(['logout']);
    assert.equal(logout.code, 0, logout.stderr);
    const second = await loginAtCost(ana, '11');
    assert.equal(second.code, 0, second.stderr);
    assert.match(hashOf('ana'), /^\$2b\$11\$/);
  });

  test('$2y$ hash logs in', async () => {
    const ben = new Person(sandbox, 'ben', DEFAULT_PASSWORD);
    const created = await root.run(['users', 'create', '--username', 'ben', '--password-stdin', '--json'], { input: `${ben.password}\n` });
    assert.equal(created.code, 0, created.stderr);
    execStore(sandbox, 'UPDATE users SET hashed_password = ? WHERE username = ?', `$2y$${hashOf('ben').slice(4)}`, 'ben');

    const result = await loginAtCost(ben, '10');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json.user.username, 'ben');
  });
});
