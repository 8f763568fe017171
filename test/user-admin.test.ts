// Input rules of users create and users update, generated passwords, and
// users list and get, run against the built CLI on temporary stores.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcrypt';
import { errorLines, firstAdmin, Person, userRow, usersSnapshot } from './support/actors.js';
import { codes, Sandbox, type RunResult } from './support/cli.js';

const ADMIN_PASSWORD = 'admin pass phrase 1';
const VALID_PASSWORD = 'valid pass phrase 1';
const USER_JSON_KEYS = ['createdAt', 'disabled', 'email', 'fullName', 'id', 'lastLoginAt', 'otpEnrolled', 'role', 'updatedAt', 'username'];

interface InputCase {
  name: string;
  args: string[];
  /** Standard input: the password lines that --password-stdin and --new-password-stdin read. */
  input?: string;
  expected: number;
  /** Each must match the one-line error message: the value, the rule, or both. */
  message: RegExp[];
  /** A password that must not appear in the output. */
  secret?: string;
}

function createArgs(username: string, extra: string[] = []): string[] {
  return ['users', 'create', '--username', username, '--password-stdin', ...extra];
}

function createCase(name: string, username: string, password: string, expected: number, message: RegExp[], extra: string[] = []): InputCase {
  return { name, args: createArgs(username, extra), input: `${password}\n`, expected, message, secret: password };
}

function passwordCase(name: string, password: string, message: RegExp[], username = 'newcomer'): InputCase {
  return createCase(name, username, password, 2, message);
}

function newPasswordCase(name: string, target: string, password: string, message: RegExp[]): InputCase {
  return {
    name,
    args: ['users', 'update', target, '--change-password', '--new-password-stdin'],
    input: `${password}\n`,
    expected: 2,
    message,
    secret: password,
  };
}

// The store contains admin (admin@example.com), bob (bob@example.com) and
// caroline (caroline@example.com). No case may change it.
const INPUT_TABLE: InputCase[] = [
  createCase('username of 2 characters', 'ab', VALID_PASSWORD, 2, [/"ab"/, /3 to 32 characters/]),
  createCase('username of 33 characters', 'a'.repeat(33), VALID_PASSWORD, 2, [/"a{33}"/, /3 to 32 characters/]),
  createCase('username starting with digit', '1abc', VALID_PASSWORD, 2, [/"1abc"/, /start with an ASCII letter/]),
  createCase('username starting with underscore', '_abc', VALID_PASSWORD, 2, [/"_abc"/, /start with an ASCII letter/]),
  createCase('username with a space', 'bad name', VALID_PASSWORD, 2, [/"bad name"/, /letters, digits/]),
  createCase('username with punctuation', 'bob!', VALID_PASSWORD, 2, [/"bob!"/, /letters, digits/]),
  createCase('username taken in other case', 'BOB', VALID_PASSWORD, 6, [/"BOB"/, /taken/]),
  createCase('email without domain dot', 'newcomer', VALID_PASSWORD, 2, [/"ann@localhost"/, /invalid email/], ['--email', 'ann@localhost']),
  createCase('email without at sign', 'newcomer', VALID_PASSWORD, 2, [/"not-an-email"/, /invalid email/], ['--email', 'not-an-email']),
  createCase('email with two at signs', 'newcomer', VALID_PASSWORD, 2, [/"two@@example.com"/, /invalid email/], ['--email', 'two@@example.com']),
  createCase('email with a space', 'newcomer', VALID_PASSWORD, 2, [/"ann @example.com"/, /invalid email/], ['--email', 'ann @example.com']),
  createCase('email with an escape', 'newcomer', VALID_PASSWORD, 2, [/"ann\?\[31m@example\.com"/, /control and invisible characters/], ['--email', 'ann\u001b[31m@example.com']),
  createCase('email with a zero-width space', 'newcomer', VALID_PASSWORD, 2, [/"ann\?@example\.com"/, /invalid email/], ['--email', 'ann\u200b@example.com']),
  createCase('full name with an override', 'newcomer', VALID_PASSWORD, 2, [/"Ann \?txt\.exe"/, /text-direction characters/], ['--full-name', 'Ann \u202etxt.exe']),
  createCase('full name with an isolate', 'newcomer', VALID_PASSWORD, 2, [/"Ann \?x\?"/, /invalid full name/], ['--full-name', 'Ann \u2066x\u2069']),
  createCase('email taken in other case', 'newcomer', VALID_PASSWORD, 6, [/"BOB@Example.COM"/, /taken/], ['--email', 'BOB@Example.COM']),
  createCase('unknown role', 'newcomer', VALID_PASSWORD, 2, [/'superuser'/, /user, admin/], ['--role', 'superuser']),
  createCase('role in capitals', 'newcomer', VALID_PASSWORD, 2, [/'Admin'/, /user, admin/], ['--role', 'Admin']),
  passwordCase('password of 7 characters', 'short12', [/too short/, /7 characters/, /at least 8/]),
  passwordCase('password of 73 bytes', 'A'.repeat(73), [/too long/, /73 bytes/, /at most 72/]),
  passwordCase('password of 36 é and X', `${'é'.repeat(36)}X`, [/too long/, /73 bytes/, /at most 72/]),
  passwordCase('password of 72 A and tail', `${'A'.repeat(72)}first-tail`, [/too long/, /82 bytes/, /at most 72/]),
  passwordCase('7 decomposed é are 7 characters', 'e\u0301'.repeat(7), [/too short/, /7 characters/]),
  passwordCase('password equal to username', 'MARGARITA', [/equals the username/], 'margarita'),
  passwordCase('common password', 'password1', [/common passwords/]),
  passwordCase('common password in capitals', 'PASSWORD1', [/common passwords/]),
  passwordCase('password with a tab', 'pass\tword12', [/control character/]),
  passwordCase('empty password', '', [/empty password/, /--password-stdin/]),
  {
    name: 'random and given password',
    args: [...createArgs('newcomer'), '--random-password'],
    input: `${VALID_PASSWORD}\n`,
    expected: 2,
    message: [/--random-password/, /not both/],
  },

  { name: 'update to invalid email', args: ['users', 'update', 'caroline', '--email', 'bad@'], expected: 2, message: [/"bad@"/, /invalid email/] },
  { name: 'update to taken email', args: ['users', 'update', 'caroline', '--email', 'BOB@EXAMPLE.COM'], expected: 6, message: [/"BOB@EXAMPLE.COM"/, /taken/] },
  { name: 'own email to taken one', args: ['users', 'update', '--email', 'Caroline@Example.com'], expected: 6, message: [/"Caroline@Example.com"/, /taken/] },
  { name: 'update to unknown role', args: ['users', 'update', 'caroline', '--role', 'root'], expected: 2, message: [/'root'/, /user, admin/] },
  { name: 'full name with control', args: ['users', 'update', 'caroline', '--full-name', 'a\u0007b'], expected: 2, message: [/invalid full name/, /control/] },
  { name: 'full name of 201 characters', args: ['users', 'update', 'caroline', '--full-name', 'x'.repeat(201)], expected: 2, message: [/invalid full name/, /200/] },
  { name: 'update without a change', args: ['users', 'update', 'caroline'], expected: 2, message: [/nothing to update/] },
  { name: 'disable and enable together', args: ['users', 'update', 'caroline', '--disable', '--enable'], expected: 2, message: [/--disable/, /--enable/] },
  { name: 'update of unknown user', args: ['users', 'update', 'nosuchuser', '--full-name', 'X'], expected: 5, message: [/"nosuchuser"/, /not found/] },
  { name: 'update of unknown id', args: ['users', 'update', '999', '--email', 'x@example.com'], expected: 5, message: [/999/, /not found/] },
  newPasswordCase('new password too short', 'caroline', 'short12', [/too short/, /7 characters/]),
  newPasswordCase('new password of 73 bytes', 'caroline', `${'é'.repeat(36)}X`, [/too long/, /73 bytes/]),
  newPasswordCase('new password is username', 'caroline', 'CAROLINE', [/equals the username/]),
  newPasswordCase('new password is common', 'caroline', 'password1', [/common passwords/]),
  {
    name: 'own new password of 73 bytes',
    args: ['users', 'update', '--change-password', '--password-stdin', '--new-password-stdin'],
    input: `${ADMIN_PASSWORD}\n${'A'.repeat(73)}\n`,
    expected: 2,
    message: [/too long/, /73 bytes/],
    secret: 'A'.repeat(73),
  },
];

function assertOneLineError(result: RunResult): string {
  const lines = errorLines(result);
  assert.equal(lines.length, 1, result.stderr);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'stack trace in the output');
  return lines[0] as string;
}

describe('input rules', () => {
  const sandbox = new Sandbox('input-rules');
  let admin: Person;

  before(async () => {
    admin = await firstAdmin(sandbox, 'admin', ADMIN_PASSWORD);
    await admin.run(['users', 'update', '--email', 'admin@example.com']);
    await admin.createUser('bob', VALID_PASSWORD, ['--email', 'bob@example.com']);
    await admin.createUser('caroline', VALID_PASSWORD, ['--email', 'caroline@example.com']);
  });

  after(() => sandbox.remove());

  for (const row of INPUT_TABLE) {
    test(row.name, async () => {
      const snapshot = usersSnapshot(sandbox);

      const result = await admin.run(row.args, row.input === undefined ? {} : { input: row.input });

      assert.equal(result.code, row.expected, result.stderr);
      const message = assertOneLineError(result);
      for (const pattern of row.message) {
        assert.match(message, pattern);
      }
      if (row.secret !== undefined && row.secret.length >= 4) {
        assert.ok(!result.stderr.includes(row.secret), 'the password is in the message');
      }
      assert.equal(result.stdout, '');
      assert.equal(usersSnapshot(sandbox), snapshot, 'a rejected command changed the users table');
    });
  }

  test('JSON error names the rule', async () => {
    const result = await admin.run([...createArgs('newcomer'), '--json'], { input: 'short12\n' });

    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    const error = JSON.parse(result.stderr).error;
    assert.equal(error.code, 'invalid_password');
    assert.match(error.message, /at least 8/);
  });
});

describe('accepted input', () => {
  const sandbox = new Sandbox('accepted-input');
  let admin: Person;

  before(async () => {
    admin = await firstAdmin(sandbox, 'admin', ADMIN_PASSWORD);
  });

  after(() => sandbox.remove());

  const accepted: Array<{ username: string; password: string; extra?: string[] }> = [
    { username: 'abc', password: VALID_PASSWORD },
    { username: `a${'b'.repeat(31)}`, password: VALID_PASSWORD },
    { username: 'Jo.Ann_Lee-2', password: VALID_PASSWORD, extra: ['--email', 'jo+tag@mail.example.org'] },
    { username: 'eightch', password: 'eight ch' },
    { username: 'seventytwo', password: 'A'.repeat(72) },
    { username: 'accents', password: 'é'.repeat(36) },
  ];
  for (const { username, password, extra } of accepted) {
    test(`accepts ${username}`, async () => {
      const result = await admin.run([...createArgs(username, extra), '--json'], { input: `${password}\n` });

      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.json.username, username);
      assert.ok(await bcrypt.compare(password.normalize('NFC'), userRow(sandbox, username).hashed_password as string));
    });
  }

  test('full names keep joiners', async () => {
    // A zero-width non-joiner in Persian, a zero-width joiner in an emoji sequence.
    for (const [username, fullName] of [['persian', 'می\u200Cخواهم'], ['coder', 'Ada 👩\u200D💻']]) {
      const result = await admin.run([...createArgs(username as string, ['--full-name', fullName as string]), '--json'], { input: `${VALID_PASSWORD}\n` });

      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.json.fullName, fullName);
    }
  });

  test('email trimmed, case kept', async () => {
    const result = await admin.run([...createArgs('dora', ['--email', '  Dora@Example.com ']), '--json'], { input: `${VALID_PASSWORD}\n` });

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json.email, 'Dora@Example.com');
  });

  test('own email in other case', async () => {
    const result = await admin.run(['users', 'update', 'dora', '--email', 'DORA@example.com', '--json']);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(userRow(sandbox, 'dora').email, 'DORA@example.com');
  });

  test('empty email removes it', async () => {
    const result = await admin.run(['users', 'update', 'dora', '--email', '', '--json']);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json.email, null);
    assert.equal(userRow(sandbox, 'dora').email, null);
  });

  test('role admin is created', async () => {
    const result = await admin.run([...createArgs('second', ['--role', 'admin']), '--json'], { input: `${VALID_PASSWORD}\n` });

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json.role, 'admin');
    assert.equal(userRow(sandbox, 'second').role, 'admin');
  });
});

describe('passwords at login', () => {
  const sandbox = new Sandbox('password-login');
  const composed = 'Crème brûlée 42'.normalize('NFC');
  const decomposed = composed.normalize('NFD');
  let admin: Person;

  before(async () => {
    admin = await firstAdmin(sandbox, 'admin', ADMIN_PASSWORD);
    await admin.createUser('long72', 'A'.repeat(72));
    await admin.createUser('composed', composed);
    await admin.createUser('decomposed', decomposed);
  });

  after(() => sandbox.remove());

  test('72-byte password logs in', async () => {
    const result = await new Person(sandbox, 'long72', 'A'.repeat(72)).login();

    assert.equal(result.json.user.username, 'long72');
  });

  test('72-byte password, last differs', async () => {
    const result = await new Person(sandbox, 'long72', `${'A'.repeat(71)}B`).run(['login', '--username', 'long72', '--password-stdin', '--otp', '000000'], {
      input: `${'A'.repeat(71)}B\n`,
    });

    assert.equal(result.code, 3, result.stderr);
  });

  test('longer password than set refused', async () => {
    const longer = `${'A'.repeat(72)}first-tail`;
    const code = await codes.next(sandbox.secretOf('long72'));

    const result = await new Person(sandbox, 'long72', longer, 'long72-longer').run(['login', '--username', 'long72', '--password-stdin', '--otp', code], {
      input: `${longer}\n`,
    });

    assert.equal(result.code, 3, result.stderr);
  });

  test('decomposed login, composed set', async () => {
    const result = await new Person(sandbox, 'composed', decomposed).login();

    assert.equal(result.json.user.username, 'composed');
  });

  test('composed login, decomposed set', async () => {
    assert.ok(await bcrypt.compare(composed, userRow(sandbox, 'decomposed').hashed_password as string), 'stored hash is not of the NFC form');

    const result = await new Person(sandbox, 'decomposed', composed).login();

    assert.equal(result.json.user.username, 'decomposed');
  });
});

describe('random passwords', () => {
  const sandbox = new Sandbox('random-password');
  let admin: Person;

  before(async () => {
    admin = await firstAdmin(sandbox, 'admin', ADMIN_PASSWORD);
  });

  after(() => sandbox.remove());

  test('printed once and logs in', async () => {
    const result = await admin.run(['users', 'create', '--username', 'rita', '--random-password']);

    assert.equal(result.code, 0, result.stderr);
    const match = /Password:\s+(\S+)/.exec(result.stdout);
    assert.ok(match, result.stdout);
    const password = match[1] as string;
    assert.ok(password.length >= 16, `only ${password.length} characters`);
    assert.equal(`${result.stdout}${result.stderr}`.split(password).length - 1, 1);
    await new Person(sandbox, 'rita', password).login();
  });

  test('JSON has the password', async () => {
    const result = await admin.run(['users', 'create', '--username', 'sam', '--random-password', '--json']);

    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(Object.keys(result.json).sort(), [...USER_JSON_KEYS, 'password'].sort());
    assert.equal(typeof result.json.password, 'string');
    assert.ok(result.json.password.length >= 16, `only ${result.json.password.length} characters`);
    assert.ok(!result.stderr.includes(result.json.password), 'the password is on standard error');
    await new Person(sandbox, 'sam', result.json.password).login();
  });

  test('each password is new', async () => {
    const first = await admin.run(['users', 'create', '--username', 'tom', '--random-password', '--json']);
    const second = await admin.run(['users', 'create', '--username', 'uma', '--random-password', '--json']);

    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    assert.notEqual(first.json.password, second.json.password);
  });

  test('never shown again', async () => {
    const created = await admin.run(['users', 'create', '--username', 'vic', '--random-password', '--json']);
    const password = created.json.password as string;

    const fetched = await admin.run(['users', 'get', 'vic', '--json']);
    const listed = await admin.run(['users', 'list', '--json']);

    assert.equal(fetched.json.password, undefined);
    assert.ok(!fetched.stdout.includes(password));
    assert.ok(!listed.stdout.includes(password));
  });
});

describe('users list and get', () => {
  const sandbox = new Sandbox('listing');
  let admin: Person;

  async function listJson(args: string[]): Promise<any[]> {
    const result = await admin.run(['users', 'list', '--json', ...args]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(Array.isArray(result.json), result.stdout);
    return result.json as any[];
  }

  async function listNames(args: string[]): Promise<string[]> {
    return (await listJson(args)).map((user) => user.username as string);
  }

  before(async () => {
    admin = await firstAdmin(sandbox, 'admin', ADMIN_PASSWORD);
    await admin.createUser('ann', VALID_PASSWORD, ['--email', 'ann@example.com', '--full-name', 'Ann Lee']);
    await admin.createUser('bert', VALID_PASSWORD, ['--email', 'bert@corp.test', '--full-name', '100% Bert', '--role', 'admin']);
    await admin.createUser('cleo_x', VALID_PASSWORD, ['--full-name', 'Cleo Park']);
    await admin.createUser('dan', VALID_PASSWORD, ['--email', 'dan_d@example.com', '--full-name', 'Dan Moss']);
    await admin.createUser('eva', VALID_PASSWORD, ['--email', 'eva@corp.test', '--full-name', 'Eva Lee']);
    const disabled = await admin.run(['users', 'update', 'dan', '--disable']);
    assert.equal(disabled.code, 0, disabled.stderr);
  });

  after(() => sandbox.remove());

  test('ordered by id', async () => {
    const users = await listJson([]);

    assert.deepEqual(
      users.map((user) => user.username),
      ['admin', 'ann', 'bert', 'cleo_x', 'dan', 'eva'],
    );
    const ids = users.map((user) => user.id as number);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  });

  test('JSON has USER_JSON keys only', async () => {
    const users = await listJson([]);

    for (const user of users) {
      assert.deepEqual(Object.keys(user).sort(), USER_JSON_KEYS);
    }
    const dan = users.find((user) => user.username === 'dan');
    assert.deepEqual(
      { email: dan.email, fullName: dan.fullName, role: dan.role, disabled: dan.disabled, otpEnrolled: dan.otpEnrolled, lastLoginAt: dan.lastLoginAt },
      { email: 'dan_d@example.com', fullName: 'Dan Moss', role: 'user', disabled: true, otpEnrolled: false, lastLoginAt: null },
    );
  });

  test('no hashes or secrets listed', async () => {
    const result = await admin.run(['users', 'list', '--json']);
    const table = await admin.run(['users', 'list']);

    const db = sandbox.open();
    const rows = db.prepare('SELECT hashed_password, otp_secret FROM users').all() as Array<{ hashed_password: string; otp_secret: string }>;
    db.close();
    for (const output of [result.stdout, result.stderr, table.stdout, table.stderr]) {
      assert.doesNotMatch(output, /\$2[aby]\$/);
      for (const row of rows) {
        assert.ok(!output.includes(row.hashed_password), 'a password hash is listed');
        assert.ok(!output.includes(row.otp_secret), 'a TOTP secret is listed');
      }
    }
  });

  test('filters by role', async () => {
    assert.deepEqual(await listNames(['--role', 'admin']), ['admin', 'bert']);
    assert.deepEqual(await listNames(['--role', 'user']), ['ann', 'cleo_x', 'dan', 'eva']);
  });

  test('filters by disabled flag', async () => {
    assert.deepEqual(await listNames(['--disabled']), ['dan']);
    assert.deepEqual(await listNames(['--enabled']), ['admin', 'ann', 'bert', 'cleo_x', 'eva']);
  });

  test('disabled and enabled together', async () => {
    const result = await admin.run(['users', 'list', '--disabled', '--enabled']);

    assert.equal(result.code, 2);
    assert.match(assertOneLineError(result), /--disabled/);
  });

  test('search matches three columns', async () => {
    assert.deepEqual(await listNames(['--search', 'cleo']), ['cleo_x']);
    assert.deepEqual(await listNames(['--search', 'corp.test']), ['bert', 'eva']);
    assert.deepEqual(await listNames(['--search', 'Lee']), ['ann', 'eva']);
  });

  test('search treats % literally', async () => {
    assert.deepEqual(await listNames(['--search', '%']), ['bert']);
    assert.deepEqual(await listNames(['--search', '0%']), ['bert']);
  });

  test('search treats _ literally', async () => {
    assert.deepEqual(await listNames(['--search', '_']), ['cleo_x', 'dan']);
    assert.deepEqual(await listNames(['--search', 'n_d']), ['dan']);
  });

  test('filters combine', async () => {
    assert.deepEqual(await listNames(['--role', 'user', '--search', 'corp.test']), ['eva']);
    assert.deepEqual(await listNames(['--enabled', '--search', 'example.com']), ['ann']);
  });

  test('no match gives empty array', async () => {
    const json = await admin.run(['users', 'list', '--search', 'zzz', '--json']);
    const table = await admin.run(['users', 'list', '--search', 'zzz']);

    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(json.json, []);
    assert.equal(table.code, 0, table.stderr);
    assert.equal(table.stdout, '');
    assert.match(table.stderr, /No users match/);
  });

  test('table has the headings', async () => {
    const result = await admin.run(['users', 'list']);

    assert.equal(result.code, 0, result.stderr);
    const headingLine = result.stdout.split('\n').find((line) => line.includes('username')) ?? '';
    const headings = headingLine
      .split('│')
      .map((cell) => cell.trim())
      .filter((cell) => cell !== '');
    assert.deepEqual(headings, ['id', 'username', 'full name', 'email', 'role', 'state', '2FA', 'last login']);
    const danLine = result.stdout.split('\n').find((line) => line.includes(' dan ')) ?? '';
    assert.match(danLine, /disabled/);
    assert.match(danLine, /pending/);
    assert.match(danLine, /never/);
    assert.match(result.stderr, /6 users/);
  });

  test('get by id and name', async () => {
    const byId = await admin.run(['users', 'get', '2', '--json']);
    const byName = await admin.run(['users', 'get', 'ANN', '--json']);

    assert.equal(byId.code, 0, byId.stderr);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(byId.json.username, 'ann');
    assert.deepEqual(byName.json, byId.json);
    assert.deepEqual(Object.keys(byId.json).sort(), USER_JSON_KEYS);
  });

  test('get of unknown user exits 5', async () => {
    for (const user of ['nosuchuser', '999']) {
      const result = await admin.run(['users', 'get', user]);

      assert.equal(result.code, 5, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(assertOneLineError(result), new RegExp(user));
    }
  });
});

describe('search in any script', () => {
  const sandbox = new Sandbox('search');
  let admin: Person;

  before(async () => {
    admin = await firstAdmin(sandbox, 'admin', ADMIN_PASSWORD);
    await admin.createUser('jose', VALID_PASSWORD, ['--full-name', 'José Núñez', '--email', 'jose@example.com']);
    await admin.createUser('anna', VALID_PASSWORD, ['--full-name', 'Anna Straße']);
    await admin.createUser('taro', VALID_PASSWORD, ['--full-name', '山田太郎']);
    await admin.createUser('ilkay', VALID_PASSWORD, ['--full-name', 'İlkay Öz']);
    // Rows as another program may store them: a decomposed é, full-width letters.
    const db = sandbox.open();
    try {
      db.prepare("INSERT INTO users (username, full_name, role) VALUES ('decomposed', ?, 'user')").run('Rene\u0301 Roy');
      db.prepare("INSERT INTO users (username, full_name, role) VALUES ('wide', ?, 'user')").run('ＷＩＤＥ Ｗｉｌｌ');
    } finally {
      db.close();
    }
  });

  after(() => sandbox.remove());

  test('matches regardless of case and accents', async () => {
    const cases: Array<[string, string[]]> = [
      ['JOSÉ', ['jose']],
      ['núñez', ['jose']],
      ['NÚÑEZ', ['jose']],
      ['strasse', ['anna']],
      ['STRASSE', ['anna']],
      ['山田', ['taro']],
      ['René', ['decomposed']],
      ['RENÉ', ['decomposed']],
      ['wide will', ['wide']],
      ['e\u0301 r', ['decomposed']],
      ['jose@EXAMPLE', ['jose']],
      ['jose', ['jose']],
      ['nunez', ['jose']],
      ['STRAẞE', ['anna']],
      ['ilkay', ['ilkay']],
      ['İLKAY ÖZ', ['ilkay']],
      ['rene', ['decomposed']],
    ];
    for (const [search, expected] of cases) {
      const result = await admin.run(['users', 'list', '--json', '--search', search]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(
        (result.json as any[]).map((user) => user.username),
        expected,
        `--search ${JSON.stringify(search)}`,
      );
    }
  });
});

describe('updatedAt at login', () => {
  const sandbox = new Sandbox('updated-at');
  let admin: Person;

  before(async () => {
    admin = await firstAdmin(sandbox, 'admin', ADMIN_PASSWORD);
  });

  after(() => sandbox.remove());

  test('moves only when enrollment is confirmed', async () => {
    const created = await admin.createUser('gil', VALID_PASSWORD);
    const gil = new Person(sandbox, 'gil', VALID_PASSWORD);

    const first = (await gil.login()).json.user;
    const second = (await gil.login()).json.user;

    assert.equal(first.otpEnrolled, true);
    assert.notEqual(first.updatedAt, created.updatedAt);
    assert.equal(first.updatedAt, first.lastLoginAt);
    assert.equal(second.updatedAt, first.updatedAt);
    assert.notEqual(second.lastLoginAt, first.lastLoginAt);
  });
});

describe('users list paging', () => {
  const sandbox = new Sandbox('paging');
  const bulkCount = 150;
  let admin: Person;
  let allIds: number[];

  async function listIds(args: string[]): Promise<number[]> {
    const result = await admin.run(['users', 'list', '--json', ...args]);
    assert.equal(result.code, 0, result.stderr);
    return (result.json as Array<{ id: number }>).map((user) => user.id);
  }

  before(async () => {
    admin = await firstAdmin(sandbox, 'admin', ADMIN_PASSWORD);
    await admin.createUser('template', VALID_PASSWORD);

    // Direct inserts that share one hash keep the fixture fast, because
    // bcrypt is slow on purpose and 150 users would each need a hash.
    const db = sandbox.open();
    const hash = (db.prepare('SELECT hashed_password FROM users WHERE username = ?').get('template') as { hashed_password: string }).hashed_password;
    const insert = db.prepare(
      `INSERT INTO users (username, email, full_name, hashed_password, otp_secret, disabled, role, otp_pending, created_at, updated_at)
       VALUES (?, ?, NULL, ?, NULL, 0, 'user', 1, ?, ?)`,
    );
    const now = new Date().toISOString();
    db.transaction(() => {
      for (let index = 1; index <= bulkCount; index += 1) {
        const username = `bulk${String(index).padStart(3, '0')}`;
        insert.run(username, `${username}@example.com`, hash, now, now);
      }
    })();
    allIds = (db.prepare('SELECT id FROM users ORDER BY id').all() as Array<{ id: number }>).map((row) => row.id);
    db.close();
  });

  after(() => sandbox.remove());

  test('default limit is 100', async () => {
    const ids = await listIds([]);

    assert.deepEqual(ids, allIds.slice(0, 100));
  });

  test('limit 0 lists all', async () => {
    const ids = await listIds(['--limit', '0']);

    assert.equal(allIds.length, bulkCount + 2);
    assert.deepEqual(ids, allIds);
  });

  test('limit 0 table lists all', async () => {
    const result = await admin.run(['users', 'list', '--limit', '0']);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`${allIds.length} users`));
    assert.match(result.stdout, /bulk150/);
  });

  test('after pages are consecutive', async () => {
    const pages: number[][] = [];
    let afterId: number | null = null;
    for (;;) {
      const page = await listIds(['--limit', '40', ...(afterId === null ? [] : ['--after', String(afterId)])]);
      if (page.length === 0) {
        break;
      }
      assert.ok(page.length <= 40);
      if (afterId !== null) {
        assert.ok((page[0] as number) > afterId, 'page starts at or before --after');
      }
      pages.push(page);
      afterId = page.at(-1) as number;
    }

    assert.equal(pages.length, Math.ceil(allIds.length / 40));
    assert.deepEqual(pages.flat(), allIds);
    assert.equal(new Set(pages.flat()).size, allIds.length);
  });

  test('after combines with filters', async () => {
    assert.deepEqual(await listIds(['--role', 'admin', '--after', '1']), []);
    assert.deepEqual(await listIds(['--search', 'bulk15', '--after', String(allIds.at(-2))]), [allIds.at(-1)]);
  });

  test('bad limit and after rejected', async () => {
    for (const args of [['--limit', 'abc'], ['--limit', '-1'], ['--limit', '1.5'], ['--after', 'x']]) {
      const result = await admin.run(['users', 'list', ...args]);

      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(assertOneLineError(result), new RegExp(args[0] as string));
    }
  });
});
