// Who may run which command on whom, checked against the built CLI: an
// acting role (admin, user, logged out) and a command with its target give
// one exit code, and a refused command leaves the users table as it was.

import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { errorLines, firstAdmin, Person, userRow, usersSnapshot } from './support/actors.js';
import { codes, Sandbox } from './support/cli.js';

type Row = Record<string, unknown>;
type RowsByName = Map<string, Row>;

interface PermissionCase {
  actor: 'admin' | 'user' | 'logged out';
  args: string[];
  expected: number;
  input?: string;
  /** Prepares the store right before the command. */
  prepare?: (sandbox: Sandbox) => void;
  /** Checks the change a permitted command made, given the rows after and before. */
  check?: (after: RowsByName, before: RowsByName) => void;
  todo?: string;
}

const ADMIN_PASSWORD = 'admin pass phrase 1';
const BOB_PASSWORD = 'bob pass phrase 1';
const CAROL_PASSWORD = 'carol pass phrase 1';
// TODO(enable): remove once --enable counts as a change.

function rowsByName(sandbox: Sandbox): RowsByName {
  const rows = JSON.parse(usersSnapshot(sandbox)) as Row[];
  return new Map(rows.map((row) => [String(row.username), row]));
}

function rowOf(rows: RowsByName, username: string): Row {
  const row = rows.get(username);
  assert.ok(row, `no row for ${username}`);
  return row;
}

// bob is the plain user who acts, carol the plain user acted on, and admin
// the only admin. The rows run top to bottom on one store.
const PERMISSION_TABLE: PermissionCase[] = [
  { actor: 'logged out', args: ['users', 'me'], expected: 3 },
  { actor: 'logged out', args: ['users', 'get', 'bob'], expected: 3 },
  { actor: 'logged out', args: ['users', 'get', '1'], expected: 3 },
  { actor: 'logged out', args: ['users', 'create', '--username', 'mallory', '--random-password'], expected: 3 },
  { actor: 'logged out', args: ['users', 'list'], expected: 3 },
  { actor: 'logged out', args: ['users', 'update', '--full-name', 'X'], expected: 3 },
  { actor: 'logged out', args: ['users', 'update', 'carol', '--disable'], expected: 3 },
  { actor: 'logged out', args: ['users', 'update', 'admin', '--role', 'user'], expected: 3 },
  { actor: 'logged out', args: ['audit'], expected: 3 },

  { actor: 'user', args: ['users', 'me'], expected: 0 },
  { actor: 'user', args: ['users', 'get', 'bob'], expected: 0 },
  { actor: 'user', args: ['users', 'get', '2'], expected: 0 },
  { actor: 'user', args: ['users', 'get', 'carol'], expected: 4 },
  { actor: 'user', args: ['users', 'get', 'admin'], expected: 4 },
  { actor: 'user', args: ['users', 'get', 'nosuchuser'], expected: 4 },
  { actor: 'user', args: ['users', 'create', '--username', 'mallory', '--random-password'], expected: 4 },
  { actor: 'user', args: ['users', 'create', '--username', 'mallory', '--role', 'admin', '--password-stdin'], input: 'mallory pass phrase 1\n', expected: 4 },
  { actor: 'user', args: ['users', 'list'], expected: 4 },
  { actor: 'user', args: ['users', 'list', '--search', 'bob'], expected: 4 },
  {
    actor: 'user',
    args: ['users', 'update', '--full-name', 'Bob Builder'],
    expected: 0,
    check: (rows) => assert.equal(rowOf(rows, 'bob').full_name, 'Bob Builder'),
  },
  {
    actor: 'user',
    args: ['users', 'update', '--email', 'bob@example.com'],
    expected: 0,
    check: (rows) => assert.equal(rowOf(rows, 'bob').email, 'bob@example.com'),
  },
  {
    actor: 'user',
    args: ['users', 'update', 'bob', '--full-name', 'Robert Builder'],
    expected: 0,
    check: (rows) => assert.equal(rowOf(rows, 'bob').full_name, 'Robert Builder'),
  },
  { actor: 'user', args: ['users', 'update', '--role', 'admin'], expected: 4 },
  { actor: 'user', args: ['users', 'update', '--role', 'user'], expected: 4 },
  { actor: 'user', args: ['users', 'update', 'bob', '--role', 'admin'], expected: 4 },
  { actor: 'user', args: ['users', 'update', '2', '--role', 'admin'], expected: 4 },
  { actor: 'user', args: ['users', 'update', '--enable'], expected: 4 },
  { actor: 'user', args: ['users', 'update', '--disable'], expected: 4 },
  { actor: 'user', args: ['users', 'update', '--full-name', 'Bob Admin', '--role', 'admin'], expected: 4 },
  { actor: 'user', args: ['users', 'update', '--reset-otp'], expected: 4 },
  { actor: 'user', args: ['users', 'update', '--unlock'], expected: 4 },
  { actor: 'user', args: ['users', 'update', 'carol', '--full-name', 'X'], expected: 4 },
  { actor: 'user', args: ['users', 'update', 'carol', '--email', 'carol@example.com'], expected: 4 },
  { actor: 'user', args: ['users', 'update', 'carol', '--role', 'admin'], expected: 4 },
  { actor: 'user', args: ['users', 'update', 'carol', '--disable'], expected: 4 },
  { actor: 'user', args: ['users', 'update', 'carol', '--enable'], expected: 4 },
  { actor: 'user', args: ['users', 'update', 'carol', '--reset-otp'], expected: 4 },
  { actor: 'user', args: ['users', 'update', 'carol', '--unlock'], expected: 4 },
  {
    actor: 'user',
    args: ['users', 'update', 'carol', '--change-password', '--new-password-stdin'],
    input: 'another pass phrase 2\n',
    expected: 4,
  },
  { actor: 'user', args: ['users', 'update', 'admin', '--full-name', 'X'], expected: 4 },
  { actor: 'user', args: ['users', 'update', 'admin', '--role', 'user'], expected: 4 },
  { actor: 'user', args: ['users', 'update', 'admin', '--disable'], expected: 4 },
  {
    actor: 'user',
    args: ['users', 'update', 'nosuchuser', '--full-name', 'X'],
    expected: 4,
  },
  { actor: 'user', args: ['audit'], expected: 4 },
  { actor: 'user', args: ['audit', '--user', 'bob'], expected: 4 },

  { actor: 'admin', args: ['users', 'me'], expected: 0 },
  { actor: 'admin', args: ['users', 'get', 'admin'], expected: 0 },
  { actor: 'admin', args: ['users', 'get', 'carol'], expected: 0 },
  { actor: 'admin', args: ['users', 'get', '3'], expected: 0 },
  { actor: 'admin', args: ['users', 'get', 'nosuchuser'], expected: 5 },
  { actor: 'admin', args: ['users', 'get', '999'], expected: 5 },
  { actor: 'admin', args: ['users', 'list'], expected: 0 },
  {
    actor: 'admin',
    args: ['users', 'create', '--username', 'dave', '--random-password'],
    expected: 0,
    check: (rows) => assert.equal(rowOf(rows, 'dave').role, 'user'),
  },
  {
    actor: 'admin',
    args: ['users', 'update', '--full-name', 'The Admin'],
    expected: 0,
    check: (rows) => assert.equal(rowOf(rows, 'admin').full_name, 'The Admin'),
  },
  {
    actor: 'admin',
    args: ['users', 'update', '--email', 'admin@example.com'],
    expected: 0,
    check: (rows) => assert.equal(rowOf(rows, 'admin').email, 'admin@example.com'),
  },
  { actor: 'admin', args: ['users', 'update', '--role', 'user'], expected: 4 },
  { actor: 'admin', args: ['users', 'update', '--role', 'admin'], expected: 4 },
  { actor: 'admin', args: ['users', 'update', 'admin', '--role', 'user'], expected: 4 },
  { actor: 'admin', args: ['users', 'update', '--disable'], expected: 4 },
  { actor: 'admin', args: ['users', 'update', '--enable'], expected: 4 },
  { actor: 'admin', args: ['users', 'update', '1', '--disable'], expected: 4 },
  {
    actor: 'admin',
    args: ['users', 'update', 'carol', '--full-name', 'Carol Smith'],
    expected: 0,
    check: (rows) => assert.equal(rowOf(rows, 'carol').full_name, 'Carol Smith'),
  },
  {
    actor: 'admin',
    args: ['users', 'update', 'carol', '--role', 'admin'],
    expected: 0,
    check: (rows) => assert.equal(rowOf(rows, 'carol').role, 'admin'),
  },
  {
    actor: 'admin',
    args: ['users', 'update', 'carol', '--role', 'user'],
    expected: 0,
    check: (rows) => assert.equal(rowOf(rows, 'carol').role, 'user'),
  },
  {
    actor: 'admin',
    args: ['users', 'update', 'carol', '--disable'],
    expected: 0,
    check: (rows) => assert.equal(rowOf(rows, 'carol').disabled, 1),
  },
  {
    actor: 'admin',
    args: ['users', 'update', 'carol', '--enable'],
    expected: 0,
    check: (rows) => assert.equal(rowOf(rows, 'carol').disabled, 0),
  },
  {
    actor: 'admin',
    args: ['users', 'update', 'carol', '--reset-otp'],
    expected: 0,
    check: (rows, previous) => {
      assert.equal(rowOf(rows, 'carol').otp_pending, 1);
      assert.notEqual(rowOf(rows, 'carol').otp_secret, rowOf(previous, 'carol').otp_secret);
    },
  },
  {
    actor: 'admin',
    args: ['users', 'update', 'carol', '--unlock'],
    expected: 0,
    prepare: (sandbox) => {
      const db = sandbox.open();
      const lockedUntil = new Date(Date.now() + 10 * 60_000).toISOString();
      db.prepare('UPDATE users SET locked_until = ?, failed_login_count = 3 WHERE username = ?').run(lockedUntil, 'carol');
      db.close();
    },
    check: (rows) => {
      assert.equal(rowOf(rows, 'carol').locked_until, null);
      assert.equal(rowOf(rows, 'carol').failed_login_count, 0);
    },
  },
  { actor: 'admin', args: ['audit'], expected: 0 },
  { actor: 'admin', args: ['audit', '--user', 'carol'], expected: 0 },
];

describe('permission table', () => {
  const sandbox = new Sandbox('permissions');
  const people = new Map<PermissionCase['actor'], Person>();

  before(async () => {
    const admin = await firstAdmin(sandbox, 'admin', ADMIN_PASSWORD);
    await admin.createUser('bob', BOB_PASSWORD);
    await admin.createUser('carol', CAROL_PASSWORD);
    const bob = new Person(sandbox, 'bob', BOB_PASSWORD);
    await bob.login();
    people.set('admin', admin);
    people.set('user', bob);
    people.set('logged out', new Person(sandbox, 'nobody', '', 'logged-out'));
  });

  after(() => sandbox.remove());

  for (const row of PERMISSION_TABLE) {
    const name = `${row.actor}: ${row.args.join(' ')} exits ${row.expected}`;
    test(name, row.todo === undefined ? {} : { todo: row.todo }, async () => {
      row.prepare?.(sandbox);
      const snapshot = usersSnapshot(sandbox);
      const rowsBefore = rowsByName(sandbox);
      const person = people.get(row.actor) as Person;

      const result = await person.run(row.args, row.input === undefined ? {} : { input: row.input });

      assert.equal(result.code, row.expected, result.stderr);
      if (row.expected === 0) {
        row.check?.(rowsByName(sandbox), rowsBefore);
        return;
      }
      assert.equal(usersSnapshot(sandbox), snapshot, 'a refused command changed the users table');
      assert.equal(result.stdout, '');
      assert.equal(errorLines(result).length, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'stack trace in the output');
    });
  }
});

describe('plain user raising own rights', () => {
  const sandbox = new Sandbox('escalation');
  let bob: Person;

  before(async () => {
    const admin = await firstAdmin(sandbox, 'admin', ADMIN_PASSWORD);
    await admin.createUser('bob', BOB_PASSWORD);
    await admin.createUser('carol', CAROL_PASSWORD);
    bob = new Person(sandbox, 'bob', BOB_PASSWORD);
    await bob.login();
  });

  after(() => sandbox.remove());

  const attempts: Array<{ args: string[] }> = [
    { args: ['users', 'update', '--role', 'admin'] },
    { args: ['users', 'update', '--enable'] },
    { args: ['users', 'update', 'carol', '--disable'] },
    { args: ['users', 'update', 'admin', '--full-name', 'X'] },
  ];
  for (const { args } of attempts) {
    test(`refuses ${args.slice(1).join(' ')}`, async () => {
      const snapshot = usersSnapshot(sandbox);

      const result = await bob.run([...args, '--json']);

      assert.equal(result.code, 4, result.stderr);
      assert.equal(JSON.parse(result.stderr).error.code, 'permission_denied');
      assert.equal(usersSnapshot(sandbox), snapshot);
    });
  }

  test('bob stays an enabled user', async () => {
    const result = await bob.run(['users', 'me', '--json']);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json.role, 'user');
    assert.equal(result.json.disabled, false);
    assert.equal(userRow(sandbox, 'admin').full_name, null);
    assert.equal(userRow(sandbox, 'carol').disabled, 0);
  });
});

describe('last enabled admin', () => {
  test('admin demotes and disables another admin', async () => {
    const sandbox = new Sandbox('last-admin');
    try {
      const root = await firstAdmin(sandbox, 'root', ADMIN_PASSWORD);
      await root.createUser('dave', 'dave pass phrase 1', ['--role', 'admin']);

      const disabled = await root.run(['users', 'update', 'dave', '--disable']);
      assert.equal(disabled.code, 0, disabled.stderr);
      assert.equal(userRow(sandbox, 'dave').disabled, 1);

      const demoted = await root.run(['users', 'update', 'dave', '--role', 'user']);
      assert.equal(demoted.code, 0, demoted.stderr);
      assert.equal(userRow(sandbox, 'dave').role, 'user');

      // root is now the only enabled admin, and no user may change their own role.
      const selfDemotion = await root.run(['users', 'update', 'root', '--role', 'user']);
      assert.equal(selfDemotion.code, 4, selfDemotion.stderr);
      assert.equal(userRow(sandbox, 'root').role, 'admin');
    } finally {
      sandbox.remove();
    }
  });

  test('demotion racing a demotion refused', async () => {
    const sandbox = new Sandbox('last-admin-race');
    try {
      const root = await firstAdmin(sandbox, 'root', ADMIN_PASSWORD);
      await root.createUser('dave', 'dave pass phrase 1', ['--role', 'admin']);

      // While this connection holds the write lock, root's command gets past
      // its login check and waits for the lock. Meanwhile dave demotes root,
      // as dave's own "users update root --role user" would.
      const db = sandbox.open();
      db.exec('BEGIN IMMEDIATE');
      const pending = root.run(['users', 'update', 'dave', '--role', 'user']);
      await delay(2500);
      db.prepare("UPDATE users SET role = 'user', updated_at = ? WHERE username = 'root'").run(new Date().toISOString());
      db.exec('COMMIT');
      db.close();
      const result = await pending;

      assert.equal(result.code, 6, result.stderr);
      assert.match(result.stderr, /dave/);
      assert.match(result.stderr, /enabled admin/);
      assert.equal(errorLines(result).length, 1, result.stderr);
      assert.equal(userRow(sandbox, 'dave').role, 'admin');
      assert.equal(userRow(sandbox, 'dave').disabled, 0);
    } finally {
      sandbox.remove();
    }
  });

  // Each admin acts on the other at once; the refused one exits 3, 4 or 6
  // depending on which check it meets first.
  for (const [name, change] of [
    ['mutual demotion leaves one admin', ['--role', 'user']],
    ['mutual disabling leaves one admin', ['--disable']],
  ] as const) {
    test(name, async () => {
      const sandbox = new Sandbox('last-admin-mutual');
      try {
        const root = await firstAdmin(sandbox, 'root', ADMIN_PASSWORD);
        await root.createUser('dave', 'dave pass phrase 1', ['--role', 'admin']);
        const dave = new Person(sandbox, 'dave', 'dave pass phrase 1');
        await dave.login();

        const results = await Promise.all([
          root.run(['users', 'update', 'dave', ...change]),
          dave.run(['users', 'update', 'root', ...change]),
        ]);

        const exitCodes = results.map((result) => result.code);
        assert.equal(exitCodes.filter((code) => code === 0).length, 1, `exit codes ${exitCodes.join(', ')}`);
        const refused = exitCodes.find((code) => code !== 0);
        assert.ok(refused === 3 || refused === 4 || refused === 6, `refused with ${refused}`);
        const db = sandbox.open();
        const admins = db.prepare("SELECT username FROM users WHERE role = 'admin' AND disabled = 0").all();
        db.close();
        assert.equal(admins.length, 1);
      } finally {
        sandbox.remove();
      }
    });
  }
});

describe('reset of TOTP enrollment', () => {
  const sandbox = new Sandbox('reset-otp');
  let admin: Person;
  let carol: Person;
  let oldSecret: string;

  before(async () => {
    admin = await firstAdmin(sandbox, 'admin', ADMIN_PASSWORD);
    await admin.createUser('carol', CAROL_PASSWORD);
    carol = new Person(sandbox, 'carol', CAROL_PASSWORD);
    await carol.login();
    oldSecret = sandbox.secretOf('carol');
  });

  after(() => sandbox.remove());

  test('reset makes a pending secret', async () => {
    const enrolled = await admin.run(['users', 'get', 'carol', '--json']);
    assert.equal(enrolled.json.otpEnrolled, true);

    const result = await admin.run(['users', 'update', 'carol', '--reset-otp', '--json']);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json.otpEnrolled, false);
    assert.equal(userRow(sandbox, 'carol').otp_pending, 1);
    assert.notEqual(sandbox.secretOf('carol'), oldSecret);
    assert.ok(!result.stdout.includes(sandbox.secretOf('carol')), 'the new secret is shown to the admin');
  });

  test('reset ends the sessions', async () => {
    const result = await carol.run(['users', 'me']);

    assert.equal(result.code, 3, result.stderr);
  });

  test('scripted login asks for enrollment', async () => {
    const result = await carol.run(['login', '--username', 'carol', '--password-stdin', '--json'], { input: `${CAROL_PASSWORD}\n` });

    assert.equal(result.code, 3, result.stderr);
    const error = JSON.parse(result.stderr).error;
    assert.match(error.otpauthUri, /^otpauth:\/\/totp\//);
    assert.equal(new URL(error.otpauthUri).searchParams.get('secret'), sandbox.secretOf('carol'));
    assert.equal(result.stdout, '');
  });

  test('old secret no longer logs in', async () => {
    const oldCode = await codes.next(oldSecret);
    const result = await carol.run(['login', '--username', 'carol', '--password-stdin', '--otp', oldCode], { input: `${CAROL_PASSWORD}\n` });

    assert.equal(result.code, 3, result.stderr);
    assert.equal(userRow(sandbox, 'carol').otp_pending, 1);
  });

  test('new secret confirms enrollment', async () => {
    const result = await carol.login();

    assert.equal(result.json.user.otpEnrolled, true);
    assert.equal(result.json.recoveryCodes.length, 10);
    assert.equal(userRow(sandbox, 'carol').otp_pending, 0);
  });
});
