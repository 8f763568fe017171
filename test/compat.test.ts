// A store made by the Python/FastAPI app opens as is: its sample admin logs
// in, and rows that the app inserts afterwards stay valid.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { oathtool, Sandbox } from './support/cli.js';

const APP_SCHEMA = `
CREATE TABLE users (
  id INTEGER NOT NULL, username VARCHAR, email VARCHAR,
  full_name VARCHAR, hashed_password VARCHAR, otp_secret VARCHAR,
  disabled BOOLEAN, role VARCHAR(5), PRIMARY KEY (id));
CREATE UNIQUE INDEX ix_users_username ON users (username);
CREATE UNIQUE INDEX ix_users_email ON users (email);
CREATE INDEX ix_users_id ON users (id);
`;
const JOHNDOE_HASH = '$2b$12$rMFOsKHq6qaX6bbPB0pb6.ymbwF63soIe19af9qd.1Q8PhbCVfXSO';
const JOHNDOE_SECRET = 'LGLEREYEPVVWTLYO';
const APP_COLUMNS = ['id', 'username', 'email', 'full_name', 'hashed_password', 'otp_secret', 'disabled', 'role'];

function sqlite(db: string, statement: string): string {
  return execFileSync('sqlite3', [db, statement], { encoding: 'utf8' }).trim();
}

function currentCode(secret: string): string {
  return oathtool(secret, Math.floor(Date.now() / 1000));
}

describe('store of the Python app', () => {
  const sandbox = new Sandbox('compat');

  before(() => {
    sqlite(sandbox.db, APP_SCHEMA);
    sqlite(
      sandbox.db,
      `INSERT INTO users (username, email, full_name, hashed_password, otp_secret, disabled, role)
       VALUES ('johndoe', 'johndoe@example.com', 'John Doe', '${JOHNDOE_HASH}', '${JOHNDOE_SECRET}', 0, 'admin')`,
    );
  });

  after(() => sandbox.remove());

  test('johndoe logs in with oathtool code', async () => {
    const result = await sandbox.run(['login', '--username', 'johndoe', '--password-stdin', '--otp', currentCode(JOHNDOE_SECRET), '--json'], {
      input: 'secret\n',
      env: { TWOFA_BCRYPT_COST: '12' },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json.user.username, 'johndoe');
    assert.equal(result.json.user.role, 'admin');
    assert.equal(result.json.user.otpEnrolled, true);
    // The app's user scanned the secret there, so no new enrollment happens.
    assert.equal(result.json.recoveryCodes, undefined);
  });

  test('keeps the app columns first', () => {
    const columns = sqlite(sandbox.db, "SELECT group_concat(name, ',') FROM pragma_table_info('users')").split(',');
    assert.deepEqual(columns.slice(0, APP_COLUMNS.length), APP_COLUMNS);
    assert.equal(sqlite(sandbox.db, 'SELECT otp_secret FROM users WHERE username = "johndoe"'), JOHNDOE_SECRET);
    assert.equal(sqlite(sandbox.db, 'PRAGMA integrity_check'), 'ok');
  });

  test('accepts the app inserting afterwards', async () => {
    sqlite(
      sandbox.db,
      `INSERT INTO users (username, email, full_name, hashed_password, otp_secret, disabled, role)
       VALUES ('janedoe', 'jane@example.com', 'Jane Doe', '${JOHNDOE_HASH.replace('$2b$', '$2y$')}', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 0, 'user')`,
    );
    // A row with only some of the app's columns, as older versions wrote them.
    sqlite(sandbox.db, "INSERT INTO users (username, hashed_password) VALUES ('oldtimer', NULL)");

    const list = await sandbox.run(['users', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const byName = new Map<string, any>(list.json.map((user: any) => [user.username, user]));
    assert.equal(byName.get('janedoe').otpEnrolled, true);
    assert.equal(byName.get('janedoe').role, 'user');
    assert.equal(byName.get('janedoe').createdAt, null);
    assert.equal(byName.get('oldtimer').role, 'user');
    assert.equal(byName.get('oldtimer').disabled, false);
    assert.equal(byName.get('oldtimer').otpEnrolled, false);
  });

  test('app row with $2y$ hash logs in', async () => {
    const result = await sandbox.run(
      ['login', '--username', 'janedoe', '--password-stdin', '--otp', currentCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'), '--json'],
      { input: 'secret\n', env: { TWOFA_BCRYPT_COST: '12', TWOFA_STATE_DIR: `${sandbox.dir}/jane-state` } },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json.user.username, 'janedoe');
  });

  test('app still reads and writes its rows', () => {
    sqlite(sandbox.db, "UPDATE users SET full_name = 'John Q. Doe' WHERE username = 'johndoe'");
    assert.equal(sqlite(sandbox.db, "SELECT full_name FROM users WHERE username = 'johndoe'"), 'John Q. Doe');
    assert.equal(sqlite(sandbox.db, 'SELECT count(*) FROM users'), '3');
  });
});

describe('names the Python app stored without twofa input rules', () => {
  const sandbox = new Sandbox('compat-unprintable');
  // An escape sequence that would turn the terminal red, a line break and a
  // right-to-left override: the app validates none of them.
  const rawName = 'Mallory\u001b[31m\nFake row\u202E';
  const rawUsername = 'mal\u0007lory';
  let id = '';

  before(async () => {
    await sandbox.initAdmin();
    const login = await sandbox.login('root', 'correct horse battery');
    assert.equal(login.code, 0, login.stderr);
    sqlite(
      sandbox.db,
      `INSERT INTO users (username, email, full_name, role) VALUES ('mal' || char(7) || 'lory', 'm@example.com', 'Mallory' || char(27) || '[31m' || char(10) || 'Fake row' || char(8238), 'user')`,
    );
    id = sqlite(sandbox.db, "SELECT id FROM users WHERE email = 'm@example.com'");
  });

  after(() => sandbox.remove());

  test('show as replacement characters in output', async () => {
    const list = await sandbox.run(['users', 'list']);
    const get = await sandbox.run(['users', 'get', id]);
    const update = await sandbox.run(['users', 'update', id, '--email', 'mallory@example.com']);
    const audit = await sandbox.run(['audit', '--limit', '1']);

    for (const result of [list, get, update, audit]) {
      assert.equal(result.code, 0, result.stderr);
      const printed = result.stdout + result.stderr;
      assert.ok(!/[\u0007\u001b\u202E]/.test(printed), `raw control characters reached the terminal: ${JSON.stringify(printed)}`);
      assert.ok(printed.includes('mal\uFFFDlory'), printed);
    }
    for (const result of [list, get]) {
      assert.ok(result.stdout.includes('Mallory\uFFFD[31m\uFFFDFake row\uFFFD'), result.stdout);
    }
    const rows = list.stdout.split('\n').filter((line) => line.startsWith('│'));
    assert.equal(rows.length, 3, 'the line break in the name split a table row');
  });

  test('stay exact in JSON', async () => {
    const result = await sandbox.run(['users', 'get', id, '--json']);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json.fullName, rawName);
    assert.equal(result.json.username, rawUsername);
  });
});
