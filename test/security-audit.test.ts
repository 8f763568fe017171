// Audit log: an event with time, actor and target for every login, lock,
// user change, enrollment, recovery-code use and ended session, and never a
// password, hash, token, code or secret in what `twofa audit` prints.

import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { loginAt, openCoreFixture, insertUser, caught, type CoreFixture, Person, queryStore, K, DEFAULT_PASSWORD } from './support/security.js';
import { AuthError } from '../src/core/errors.js';
import { oathtool, Sandbox, type RunResult } from './support/cli.js';

interface AuditEvent {
  id: number;
  at: string;
  action: string;
  actor: { id: number; username: string | null } | null;
  target: { id: number; username: string | null } | null;
  detail: Record<string, unknown> | null;
}

describe('audit times at core level', () => {
  const T0 = Date.parse('2026-03-02T09:00:00Z') / 1000;
  let fixture: CoreFixture;

  beforeEach(async () => {
    fixture = await openCoreFixture();
    await insertUser(fixture.store, { username: 'ana' });
  });

  afterEach(async () => {
    await fixture.close();
  });

  test('events carry clock time', async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const error = await caught(() => loginAt(fixture, T0 + attempt, { username: 'ana', password: 'not the password' }, { totpCode: '000000' }));
      assert.ok(error instanceof AuthError);
    }
    const events = await fixture.store.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
    const failed = events.filter((event) => event.action === 'login.failed');
    assert.deepEqual(
      failed.map((event) => event.at),
      [0, 1, 2, 3, 4].map((offset) => new Date((T0 + offset) * 1000).toISOString()),
    );
    for (const event of failed) {
      assert.equal(event.target_username, 'ana');
    }

    const locked = events.find((event) => event.action === 'login.locked');
    assert.ok(locked, 'no login.locked event');
    assert.equal(locked.at, new Date((T0 + 4) * 1000).toISOString());
    assert.equal(locked.target_username, 'ana');
  });

  test('success recorded with factor', async () => {
    await loginAt(fixture, T0, { username: 'ana' }, { totpCode: oathtool(K, T0) });
    const event = await fixture.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'login.succeeded').executeTakeFirstOrThrow();
    assert.equal(event.at, new Date(T0 * 1000).toISOString());
    assert.equal(event.actor_username, 'ana');
    assert.equal(event.target_username, 'ana');
    assert.deepEqual(JSON.parse(event.detail ?? 'null'), { factor: 'totp' });
  });
});

describe('audit log through the CLI', () => {
  let sandbox: Sandbox;
  let root: Person;
  let bob: Person;
  let startIso: string;
  let endIso: string;
  let events: AuditEvent[];
  const secrets = new Map<string, string>();

  function keep(label: string, value: string | null | undefined): void {
    assert.ok(value, `no value for ${label}`);
    secrets.set(label, value);
  }

  function keepToken(person: Person): void {
    keep(`token of ${person.username} #${secrets.size}`, person.token());
  }

  function keepCodes(label: string, recoveryCodes: string[]): void {
    recoveryCodes.forEach((code, index) => keep(`${label} recovery code ${index}`, code));
  }

  async function expectOk(result: Promise<RunResult>, what: string): Promise<RunResult> {
    const done = await result;
    assert.equal(done.code, 0, `${what}: ${done.stderr}`);
    return done;
  }

  function recoveryLogin(person: Person, code: string): Promise<RunResult> {
    return person.run(['login', '--username', person.username, '--password-stdin', '--recovery-code', code, '--json'], {
      input: `${person.password}\n`,
    });
  }

  before(async () => {
    startIso = new Date(Date.now() - 1000).toISOString();
    sandbox = new Sandbox('twofa-audit');
    root = new Person(sandbox, 'root', 'correct horse battery');
    bob = new Person(sandbox, 'bob', 'bob first password 1');
    keep('root password', root.password);
    keep('bob password', bob.password);

    keep('root secret', await sandbox.initAdmin('root', root.password));
    const rootLogin = await root.login();
    keepToken(root);
    keepCodes('root', rootLogin.json.recoveryCodes);

    await expectOk(root.run(['users', 'create', '--username', 'bob', '--password-stdin', '--json'], { input: `${bob.password}\n` }), 'create bob');
    keep('bob secret', sandbox.secretOf('bob'));

    for (let attempt = 0; attempt < 5; attempt += 1) {
      const failed = await bob.run(['login', '--username', 'bob', '--password-stdin', '--otp', '000000'], { input: 'bob wrong password\n' });
      assert.equal(failed.code, 3, failed.stderr);
    }
    await expectOk(root.run(['users', 'update', 'bob', '--unlock']), 'unlock bob');

    const bobLogin = await bob.login();
    keepToken(bob);
    const bobCodes = bobLogin.json.recoveryCodes as string[];
    keepCodes('bob first', bobCodes);
    await expectOk(recoveryLogin(bob, bobCodes[0] ?? ''), 'bob recovery login');
    keepToken(bob);

    const newPassword = 'bob second password 2';
    keep('bob new password', newPassword);
    await expectOk(
      bob.run(['users', 'update', '--change-password', '--password-stdin', '--new-password-stdin'], { input: `${bob.password}\n${newPassword}\n` }),
      'bob password change',
    );
    bob.password = newPassword;
    await expectOk(bob.run(['users', 'update', '--full-name', 'Bob Builder']), 'bob full name');
    const renewed = await expectOk(bob.run(['users', 'update', '--new-recovery-codes', '--json']), 'bob new codes');
    const secondCodes = renewed.json.recoveryCodes as string[];
    keepCodes('bob second', secondCodes);
    await expectOk(bob.run(['logout']), 'bob logout');
    await expectOk(recoveryLogin(bob, secondCodes[0] ?? ''), 'bob second recovery login');
    keepToken(bob);

    await expectOk(root.run(['users', 'update', 'bob', '--role', 'admin']), 'promote bob');
    await expectOk(root.run(['users', 'update', 'bob', '--disable']), 'disable bob');
    await expectOk(root.run(['users', 'update', 'bob', '--enable']), 'enable bob');
    await expectOk(root.run(['users', 'update', 'bob', '--role', 'user']), 'demote bob');
    await expectOk(root.run(['users', 'update', 'bob', '--email', 'bob@example.com']), 'bob email');
    await expectOk(root.run(['users', 'update', 'bob', '--reset-otp']), 'reset bob TOTP');
    keep('bob reset secret', sandbox.secretOf('bob'));
    const relogin = await bob.login();
    keepToken(bob);
    keepCodes('bob third', relogin.json.recoveryCodes);

    for (const row of queryStore<{ username: string; hashed_password: string }>(sandbox, 'SELECT username, hashed_password FROM users')) {
      keep(`hash of ${row.username}`, row.hashed_password);
    }

    const audit = await expectOk(root.run(['audit', '--json', '--limit', '0']), 'audit');
    events = audit.json as AuditEvent[];
    endIso = new Date(Date.now() + 1000).toISOString();
  });

  after(() => {
    sandbox.remove();
  });

  function findEvent(action: string, predicate: (event: AuditEvent) => boolean = () => true): AuditEvent {
    const found = events.find((event) => event.action === action && predicate(event));
    assert.ok(found, `no ${action} event; actions: ${[...new Set(events.map((event) => event.action))].join(', ')}`);
    return found;
  }

  function assertParties(event: AuditEvent, actor: string | null, target: string): void {
    assert.equal(event.actor?.username ?? null, actor, `${event.action} actor`);
    assert.equal(event.target?.username, target, `${event.action} target`);
    assert.ok(event.at >= startIso, `${event.action} at ${event.at}, before the test began at ${startIso}`);
    assert.ok(event.at <= endIso, `${event.action} at ${event.at}, after the test ended at ${endIso}`);
    assert.equal(new Date(event.at).toISOString(), event.at, `${event.action} time is not ISO 8601`);
  }

  // Each action, who did it to whom. Failed logins and locks have no
  // logged-in actor, so theirs is null.
  const expected: Array<[string, string | null, string, ((event: AuditEvent) => boolean)?]> = [
    ['user.created', 'root', 'bob'],
    ['login.failed', null, 'bob'],
    ['login.locked', null, 'bob'],
    ['user.unlocked', 'root', 'bob'],
    ['otp.enrolled', 'bob', 'bob'],
    ['recovery_codes.issued', 'bob', 'bob'],
    ['login.succeeded', 'bob', 'bob'],
    ['recovery_code.used', 'bob', 'bob'],
    ['user.password_changed', 'bob', 'bob'],
    ['user.updated', 'bob', 'bob', (event) => JSON.stringify(event.detail?.fields) === '["fullName"]'],
    ['session.revoked', 'bob', 'bob'],
    ['user.role_changed', 'root', 'bob', (event) => event.detail?.to === 'admin'],
    ['sessions.revoked', 'root', 'bob'],
    ['user.disabled', 'root', 'bob'],
    ['user.enabled', 'root', 'bob'],
    ['user.role_changed', 'root', 'bob', (event) => event.detail?.to === 'user'],
    ['user.updated', 'root', 'bob', (event) => JSON.stringify(event.detail?.fields) === '["email"]'],
    ['otp.reset', 'root', 'bob'],
  ];

  for (const [action, actor, target, predicate] of expected) {
    test(`${action} by ${actor ?? 'nobody'} recorded`, () => {
      const event = findEvent(action, (candidate) => candidate.target?.username === target && (predicate?.(candidate) ?? true));
      assertParties(event, actor, target);
    });
  }

  test('five failures then one lock', () => {
    const failures = events.filter((event) => event.action === 'login.failed' && event.target?.username === 'bob');
    assert.equal(failures.length, 5);
    const locks = events.filter((event) => event.action === 'login.locked' && event.target?.username === 'bob');
    assert.equal(locks.length, 1);
  });

  test('recovery logins name their factor', () => {
    const used = events.filter((event) => event.action === 'recovery_code.used');
    assert.equal(used.length, 2);
    const viaRecovery = events.filter((event) => event.action === 'login.succeeded' && event.detail?.factor === 'recovery_code');
    assert.equal(viaRecovery.length, 2);
  });

  test('updates name fields only', () => {
    for (const event of events.filter((candidate) => candidate.action === 'user.updated')) {
      assert.deepEqual(Object.keys(event.detail ?? {}), ['fields'], JSON.stringify(event));
    }
  });

  test('newest events first', () => {
    for (let index = 1; index < events.length; index += 1) {
      const newer = events[index - 1] as AuditEvent;
      const older = events[index] as AuditEvent;
      assert.ok(newer.id > older.id, `id ${newer.id} before ${older.id}`);
      assert.ok(newer.at >= older.at, `${newer.at} before ${older.at}`);
    }
  });

  test('JSON audit holds no secret', () => {
    const text = JSON.stringify(events);
    assert.ok(secrets.size > 40, `only ${secrets.size} secrets collected`);
    for (const [label, value] of secrets) {
      assert.equal(text.includes(value), false, `${label} is in the audit output`);
    }
    assert.equal(text.includes('$2'), false, 'a bcrypt hash prefix is in the audit output');
  });

  test('table audit holds no secret', async () => {
    const result = await root.run(['audit', '--limit', '0']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /user\.created/);
    for (const [label, value] of secrets) {
      assert.equal(result.stdout.includes(value) || result.stderr.includes(value), false, `${label} is in the audit table`);
    }
    assert.equal(result.stdout.includes('$2'), false);
  });

  test('user filter keeps own events', async () => {
    const result = await root.run(['audit', '--user', 'bob', '--json', '--limit', '0']);
    assert.equal(result.code, 0, result.stderr);
    const filtered = result.json as AuditEvent[];
    assert.ok(filtered.length > 0);
    for (const event of filtered) {
      assert.ok(event.actor?.username === 'bob' || event.target?.username === 'bob', JSON.stringify(event));
    }
  });

  test('pages with --before', async () => {
    const all = (await expectOk(root.run(['audit', '--json', '--limit', '0']), 'audit')).json as AuditEvent[];
    assert.ok(all.length >= 5, `only ${all.length} events`);

    const first = await root.run(['audit', '--json', '--limit', '2']);
    const firstPage = first.json as AuditEvent[];
    const oldest = (firstPage.at(-1) as AuditEvent).id;
    assert.match(first.stderr, new RegExp(`run again with --before ${oldest} for the next page`));
    const second = await root.run(['audit', '--json', '--limit', '2', '--before', String(oldest)]);
    const rest = await root.run(['audit', '--json', '--limit', '0', '--before', String(oldest)]);

    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual([...firstPage, ...(second.json as AuditEvent[])], all.slice(0, 4));
    assert.deepEqual(rest.json, all.slice(2));
    assert.doesNotMatch(rest.stderr, /Older events follow/);

    const table = await root.run(['audit', '--limit', '2', '--before', String(oldest)]);
    const headings = (table.stdout.split('\n')[1] ?? '').split('│').map((cell) => cell.trim()).filter(Boolean);
    assert.deepEqual(headings, ['id', 'time', 'action', 'actor', 'target', 'detail']);
    assert.ok(table.stdout.includes(`│ ${(second.json as AuditEvent[])[0]?.id} `), table.stdout);
  });

  test('plain user gets exit 4', async () => {
    const result = await bob.run(['audit', '--json']);
    assert.equal(result.code, 4, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(JSON.parse(result.stderr).error.code, 'permission_denied');
  });

  test('logged-out user gets exit 3', async () => {
    const stranger = new Person(sandbox, 'nobody', DEFAULT_PASSWORD);
    const result = await stranger.run(['audit']);
    assert.equal(result.code, 3, result.stderr);
  });
});
