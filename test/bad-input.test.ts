// Bad input from a user or a script. Each is rejected with its documented
// exit code and one line that names the value or the rule. A rejected
// command leaves the store's bytes as they were.

import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { codes, Sandbox, type RunResult } from './support/cli.js';
import { assertOneLineError, makeUnwritable, makeWritable, storeDigest } from './support/checks.js';

const ADMIN_PASSWORD = 'correct horse battery';
const USER_PASSWORD = 'violet kettle drums 93';
const LOGIN_FAILED = /^error: invalid username, password or code$/;

/** 72 bytes in UTF-8, the most bcrypt reads. */
const PASSWORD_72_BYTES = `${'Z'.repeat(60)}violet-drum9`;

interface BadInputRow {
  name: string;
  args: string[];
  input?: string;
  exitCode: number;
  message: RegExp;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function createRow(name: string, flags: string[], password: string, message: RegExp, exitCode = 2): BadInputRow {
  return { name, args: ['users', 'create', ...flags, '--password-stdin'], input: `${password}\n`, exitCode, message };
}

/** Rejected users create runs, with a valid password unless the row is about the password. */
const CREATE_ROWS: BadInputRow[] = [
  createRow('username too short', ['--username', 'ab'], USER_PASSWORD, /invalid username "ab": use 3 to 32 characters/),
  createRow('username too long', ['--username', 'a'.repeat(33)], USER_PASSWORD, /invalid username "a{33}": use 3 to 32 characters/),
  createRow('username starting with digit', ['--username', '1abc'], USER_PASSWORD, /invalid username "1abc": start with an ASCII letter/),
  createRow('username with space', ['--username', 'ann smith'], USER_PASSWORD, /invalid username "ann smith": .*letters, digits/),
  createRow('username with at sign', ['--username', 'ann@example'], USER_PASSWORD, /invalid username "ann@example": .*letters, digits/),
  createRow('email without at sign', ['--username', 'ann', '--email', 'ann.example.com'], USER_PASSWORD, /invalid email "ann\.example\.com"/),
  createRow('email with space', ['--username', 'ann', '--email', 'ann smith@example.com'], USER_PASSWORD, /invalid email "ann smith@example\.com"/),
  createRow('email without domain dot', ['--username', 'ann', '--email', 'a@b'], USER_PASSWORD, /invalid email "a@b"/),
  // --role takes exactly "admin" or "user", because commander checks the
  // choices before twofa's own validation, which would lower-case and trim.
  createRow('role root', ['--username', 'ann', '--role', 'root'], USER_PASSWORD, /'root' is invalid.*user, admin/),
  createRow('role in capitals', ['--username', 'ann', '--role', 'ADMIN '], USER_PASSWORD, /'ADMIN ' is invalid.*user, admin/),
  createRow('password of 7 characters', ['--username', 'ann'], 'Kx7-pqz', /password too short: it has 7 characters, at least 8/),
  createRow('password of 73 ASCII bytes', ['--username', 'ann'], `${'Z'.repeat(61)}violet-drum9`, /password too long: it has 73 bytes .*at most 72/),
  createRow('password of 73 UTF-8 bytes', ['--username', 'ann'], `${'é'.repeat(36)}X`, /password too long: it has 73 bytes .*at most 72/),
  createRow('password past 72 bytes', ['--username', 'ann'], `${'A'.repeat(72)}first-tail`, /password too long: it has 82 bytes .*at most 72/),
  createRow('password equal to username', ['--username', 'kettle-drum9'], 'kettle-drum9', /password: it equals the username/),
  createRow('password on common list', ['--username', 'ann'], 'password1', /password: it is on the list of common passwords/),
  createRow('unknown flag', ['--username', 'ann', '--bogus'], USER_PASSWORD, /unknown option '--bogus'/),
  {
    name: 'invalid username as JSON',
    args: ['users', 'create', '--username', '1abc', '--password-stdin', '--json'],
    input: `${USER_PASSWORD}\n`,
    exitCode: 2,
    message: /^\{"error":\{"code":"invalid_username","message":"invalid username \\"1abc\\"/,
  },
];

/** Rejected runs of other commands; none of them may write. */
const OTHER_ROWS: BadInputRow[] = [
  { name: 'unknown global flag', args: ['--frobnicate', 'users', 'list'], exitCode: 2, message: /unknown option '--frobnicate'/ },
  // A password is never a flag value, so --password does not exist.
  { name: 'password given as flag', args: ['login', '--username', 'root', '--password', 'hunter2xyz', '--otp', '123456'], exitCode: 2, message: /unknown option '--password'/ },
  { name: 'list limit below zero', args: ['users', 'list', '--limit', '-1'], exitCode: 2, message: /invalid --limit "-1": use a whole number, 0 or more/ },
  { name: 'audit before a word', args: ['audit', '--before', 'abc'], exitCode: 2, message: /invalid --before "abc": use a whole number, 0 or more/ },
  { name: 'unknown flag names its command help', args: ['login', '--bogus'], exitCode: 2, message: /unknown option '--bogus'; see "twofa login --help"$/ },
  {
    name: 'invalid role names its command help',
    args: ['users', 'create', '--role', 'boss'],
    exitCode: 2,
    message: /argument 'boss' is invalid\. Allowed choices are user, admin; see "twofa users create --help"$/,
  },
  { name: 'unknown subcommand', args: ['users', 'crate'], exitCode: 2, message: /unknown command 'crate' \(Did you mean create\?\); see "twofa users --help"$/ },
  ...['0s', '31d', 'abc', '12'].map((ttl) => ({
    name: `login ttl ${ttl}`,
    args: ['login', '--username', 'root', '--password-stdin', '--otp', '123456', '--ttl', ttl],
    input: `${ADMIN_PASSWORD}\n`,
    exitCode: 2,
    message: new RegExp(`invalid --ttl "${ttl}": use `),
  })),
];

/**
 * Marks every session as used just now. A command writes a session's last
 * use when it is older than 30 s, and that write would change the store's
 * bytes during a row that must not write.
 */
function markSessionsUsed(sandbox: Sandbox): void {
  const db = sandbox.open();
  try {
    db.prepare('UPDATE sessions SET last_used_at = ?').run(new Date().toISOString());
  } finally {
    db.close();
  }
}

async function runRejectedRow(sandbox: Sandbox, row: BadInputRow): Promise<RunResult> {
  markSessionsUsed(sandbox);
  const digestBefore = storeDigest(sandbox.db);
  const result = await sandbox.run(row.args, row.input === undefined ? {} : { input: row.input });

  assert.equal(result.code, row.exitCode, result.stderr);
  assertOneLineError(result, row.message);
  assert.equal(result.stdout, '');
  assert.equal(storeDigest(sandbox.db), digestBefore, 'the store changed');
  return result;
}

function userCount(sandbox: Sandbox, username: string): number {
  const db = sandbox.open();
  try {
    return (db.prepare('SELECT count(*) AS n FROM users WHERE lower(username) = lower(?)').get(username) as { n: number }).n;
  } finally {
    db.close();
  }
}

async function loggedInSandbox(name: string): Promise<Sandbox> {
  const sandbox = new Sandbox(name);
  await sandbox.initAdmin('root', ADMIN_PASSWORD);
  const login = await sandbox.login('root', ADMIN_PASSWORD);
  assert.equal(login.code, 0, login.stderr);
  return sandbox;
}

describe('rejected input', () => {
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await loggedInSandbox('twofa-input');
  });

  after(() => sandbox.remove());

  for (const row of [...CREATE_ROWS, ...OTHER_ROWS]) {
    test(row.name, async () => {
      const result = await runRejectedRow(sandbox, row);
      assert.ok(!result.stderr.includes('hunter2xyz'), 'the password given as a flag was echoed');
    });
  }

  test('rejected creates add no user', () => {
    for (const username of ['ab', '1abc', 'ann', 'kettle-drum9']) {
      assert.equal(userCount(sandbox, username), 0, `${username} was created`);
    }
  });

  for (const args of [[], ['users']]) {
    test(`"twofa ${args.join(' ')}" without command exits 2`, async () => {
      const result = await sandbox.run(args);

      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, new RegExp(`^Usage: twofa ${args.map((word) => `${word} `).join('')}\\[options\\] \\[command\\]`));
    });
  }

  for (const args of [['--json'], ['users', '--json']]) {
    test(`"twofa ${args.join(' ')}" gives a JSON error`, async () => {
      const result = await sandbox.run(args);

      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      const helpCommand = ['twofa', ...args.filter((word) => word !== '--json'), '--help'].join(' ');
      assert.deepEqual(JSON.parse(result.stderr), { error: { code: 'usage', message: `missing command; see "${helpCommand}"` } });
    });
  }

  test('"twofa help" exits 0', async () => {
    const result = await sandbox.run(['help']);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: twofa \[options\] \[command\]/);
  });

  // Commander adds "(Did you mean --username?)" on a line of its own.
  test('mistyped flag stays one line', async () => {
    await runRejectedRow(sandbox, {
      name: 'mistyped flag',
      args: ['users', 'create', '--usernme', 'ann', '--password-stdin'],
      input: `${USER_PASSWORD}\n`,
      exitCode: 2,
      message: /unknown option '--usernme'.*--username/,
    });
  });
});

describe('passwords at the bcrypt limit', () => {
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await loggedInSandbox('twofa-bcrypt');
  });

  after(() => sandbox.remove());

  /** Logs in with a state folder of its own, so root's saved session stays. */
  async function loginAs(username: string, password: string): Promise<RunResult> {
    const code = await codes.next(sandbox.secretOf(username));
    return sandbox.run(['login', '--username', username, '--password-stdin', '--otp', code, '--json'], {
      input: `${password}\n`,
      env: { TWOFA_STATE_DIR: join(sandbox.dir, `${username}-state`) },
    });
  }

  test('72-byte password logs in', async () => {
    assert.equal(Buffer.byteLength(PASSWORD_72_BYTES, 'utf8'), 72);
    const created = await sandbox.createUser('long72', PASSWORD_72_BYTES);
    assert.equal(created.username, 'long72');

    // Only the 72nd byte differs, so this shows that bcrypt read all of them.
    const wrong = await loginAs('long72', `${PASSWORD_72_BYTES.slice(0, 71)}8`);
    assert.equal(wrong.code, 3, wrong.stderr);
    assert.match(wrong.stderr, /invalid username, password or code/);

    const right = await loginAs('long72', PASSWORD_72_BYTES);
    assert.equal(right.code, 0, right.stderr);
    assert.equal(right.json.user.username, 'long72');
  });

  test('72 UTF-8 bytes of two-byte letters accepted', async () => {
    const password = 'é'.repeat(36);
    assert.equal(Buffer.byteLength(password, 'utf8'), 72);
    const created = await sandbox.createUser('accent72', password);
    assert.equal(created.username, 'accent72');
  });

  // bcrypt reads 72 bytes, so the stored password plus any tail matches its
  // hash. twofa never sets a password over 72 bytes, so no such login can
  // be right.
  test('login rejects password past 72 bytes', async () => {
    await sandbox.createUser('tail72', PASSWORD_72_BYTES);
    const result = await loginAs('tail72', `${PASSWORD_72_BYTES}first-tail`);
    assert.equal(result.code, 3, `logged in with 82 bytes: ${result.stderr}`);
  });
});

describe('TOTP codes at login', () => {
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await loggedInSandbox('twofa-codes');
    await sandbox.createUser('coder', USER_PASSWORD);
  });

  after(() => sandbox.remove());

  // Four failures stay below the lockout of five.
  for (const [name, code] of [
    ['code with a letter', '28a082'],
    ['code of seven digits', '2870820'],
    ['empty code', ''],
    ['code of four digits', '5924'],
  ] as const) {
    test(name, async () => {
      const result = await sandbox.run(['login', '--username', 'coder', '--password-stdin', '--otp', code], { input: `${USER_PASSWORD}\n` });
      assert.equal(result.code, 3, result.stderr);
      assertOneLineError(result, LOGIN_FAILED);
    });
  }

  test('right code still logs in', async () => {
    const result = await sandbox.run(
      ['login', '--username', 'coder', '--password-stdin', '--otp', await codes.next(sandbox.secretOf('coder')), '--json'],
      { input: `${USER_PASSWORD}\n` },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json.user.username, 'coder');
  });
});

describe('unusable store paths', () => {
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await loggedInSandbox('twofa-paths');
  });

  after(() => sandbox.remove());

  function loginTo(storePath: string): Promise<RunResult> {
    return sandbox.run(['--db', storePath, 'login', '--username', 'root', '--password-stdin', '--otp', '123456'], { input: `${ADMIN_PASSWORD}\n` });
  }

  test('store path is a folder', async () => {
    const folder = join(sandbox.dir, 'folder.db');
    mkdirSync(folder);
    const result = await loginTo(folder);
    assert.equal(result.code, 1, result.stderr);
    assertOneLineError(result, new RegExp(`${escapeRegExp(folder)} is a folder`));
    assert.deepEqual(readdirSync(folder), []);
  });

  test('store is not SQLite', async () => {
    const path = join(sandbox.dir, 'notes.db');
    writeFileSync(path, 'These are notes, not a SQLite database.\n'.repeat(200));
    const digestBefore = storeDigest(path);
    const result = await loginTo(path);
    assert.equal(result.code, 1, result.stderr);
    assertOneLineError(result, new RegExp(`${escapeRegExp(path)} is not a SQLite database`));
    assert.equal(storeDigest(path), digestBefore);
  });

  test('store path does not exist', async () => {
    const path = join(sandbox.dir, 'missing', 'store.db');
    const result = await loginTo(path);
    assert.equal(result.code, 1, result.stderr);
    assertOneLineError(result, new RegExp(`no store at ${escapeRegExp(path)}`));
    assert.deepEqual(readdirSync(sandbox.dir).includes('missing'), false);
  });
});

describe('store of a newer schema', () => {
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await loggedInSandbox('twofa-newer');
    const db = sandbox.open();
    try {
      db.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run('9999_from_a_newer_twofa', new Date().toISOString());
    } finally {
      db.close();
    }
  });

  after(() => sandbox.remove());

  for (const [name, args, input] of [
    ['newer schema rejected for reads', ['users', 'list'], ''],
    ['newer schema rejected for writes', ['users', 'create', '--username', 'ann', '--password-stdin'], `${USER_PASSWORD}\n`],
    ['newer schema rejected at login', ['login', '--username', 'root', '--password-stdin', '--otp', '123456'], `${ADMIN_PASSWORD}\n`],
  ] as const) {
    test(name, async () => {
      await runRejectedRow(sandbox, { name, args: [...args], input, exitCode: 1, message: /newer schema \(9999_from_a_newer_twofa\).*upgrade twofa/ });
    });
  }
});

describe('read-only stores', () => {
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await loggedInSandbox('twofa-readonly');
  });

  after(() => sandbox.remove());

  test('read-only file rejects writes', async (t) => {
    const protection = makeUnwritable(sandbox.db);
    if (protection === null) {
      t.skip('cannot make a file unwritable for root here: chattr +i failed');
      return;
    }
    t.diagnostic(`store made unwritable with ${protection}`);
    try {
      const digestBefore = storeDigest(sandbox.db);
      const result = await sandbox.run(['users', 'create', '--username', 'ann', '--password-stdin'], { input: `${USER_PASSWORD}\n` });
      assert.equal(result.code, 1, result.stderr);
      assertOneLineError(result, new RegExp(`cannot write to store ${escapeRegExp(sandbox.db)}: it is read-only`));
      assert.equal(storeDigest(sandbox.db), digestBefore);

      const list = await sandbox.run(['users', 'list', '--json']);
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual(
        (list.json as Array<{ username: string }>).map((user) => user.username),
        ['root'],
      );
    } finally {
      makeWritable(sandbox.db, protection);
    }
    assert.equal(userCount(sandbox, 'ann'), 0);
  });

  // SQLite needs to create the -shm file of a WAL store next to it, so a
  // store in a folder that cannot be written cannot even be read.
  test('read-only folder gives store error', async (t) => {
    const protection = makeUnwritable(sandbox.dir);
    if (protection === null) {
      t.skip('cannot make a folder unwritable for root here: chattr +i failed');
      return;
    }
    t.diagnostic(`folder made unwritable with ${protection}`);
    let list: RunResult;
    let create: RunResult;
    try {
      list = await sandbox.run(['users', 'list']);
      create = await sandbox.run(['users', 'create', '--username', 'ann', '--password-stdin'], { input: `${USER_PASSWORD}\n` });
    } finally {
      makeWritable(sandbox.dir, protection);
    }
    for (const result of [list, create]) {
      assert.equal(result.code, 1, result.stderr);
      assertOneLineError(result, new RegExp(`store ${escapeRegExp(sandbox.db)}`));
    }
    assert.equal(userCount(sandbox, 'ann'), 0);
  });

  test('read-only folder message names cause', async (t) => {
    const protection = makeUnwritable(sandbox.dir);
    if (protection === null) {
      t.skip('cannot make a folder unwritable for root here: chattr +i failed');
      return;
    }
    let result: RunResult;
    try {
      result = await sandbox.run(['users', 'list']);
    } finally {
      makeWritable(sandbox.dir, protection);
    }
    assert.equal(result.code, 1, result.stderr);
    assertOneLineError(result, /read-only|not writable|cannot write/);
  });
});
