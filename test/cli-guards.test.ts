// Guards around the commands: a bad state folder or store path, paging
// hints, a readable store file, locks shown to admins, and password-change
// guessing. Each one was found by trying twofa as a new user.

import assert from 'node:assert/strict';
import { chmodSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, storeDigest } from './support/checks.js';
import { codes, Sandbox } from './support/cli.js';

const ROOT_PASSWORD = 'correct horse battery';
const CAROL_PASSWORD = 'carol pass phrase 1';

function count(sandbox: Sandbox, sql: string): number {
  const db = sandbox.open();
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function rootHash(sandbox: Sandbox): string {
  const db = sandbox.open();
  try {
    return (db.prepare("SELECT hashed_password AS hash FROM users WHERE username = 'root'").get() as { hash: string }).hash;
  } finally {
    db.close();
  }
}

describe('command guards', () => {
  const sandbox = new Sandbox('guards');
  let rootRecoveryCodes: string[] = [];

  before(async () => {
    await sandbox.initAdmin('root', ROOT_PASSWORD);
    const login = await sandbox.login('root', ROOT_PASSWORD);
    assert.equal(login.code, 0, login.stderr);
    rootRecoveryCodes = login.json.recoveryCodes as string[];
    await sandbox.createUser('carol', CAROL_PASSWORD);
  });

  after(() => sandbox.remove());

  test('state folder that is a file', async () => {
    const stateFile = join(sandbox.dir, 'not-a-folder');
    writeFileSync(stateFile, 'x');
    const sessionsBefore = count(sandbox, 'SELECT count(*) AS n FROM sessions');
    const stepBefore = count(sandbox, "SELECT coalesce(last_totp_step, -1) AS n FROM users WHERE username = 'root'");

    const result = await sandbox.run(
      ['login', '--username', 'root', '--password-stdin', '--otp', await codes.next(sandbox.secretOf('root'))],
      { input: `${ROOT_PASSWORD}\n`, env: { TWOFA_STATE_DIR: stateFile } },
    );

    assert.equal(result.code, 2, result.stderr);
    assertOneLineError(result, /cannot use .*not-a-folder for session files.*TWOFA_STATE_DIR/);
    assert.equal(count(sandbox, 'SELECT count(*) AS n FROM sessions'), sessionsBefore);
    assert.equal(count(sandbox, "SELECT coalesce(last_totp_step, -1) AS n FROM users WHERE username = 'root'"), stepBefore);
  });

  test('missing store before login check', async () => {
    const result = await sandbox.run(['users', 'me'], { env: { TWOFA_DB: join(sandbox.dir, 'nope', 'store.db') } });

    assert.equal(result.code, 1, result.stderr);
    assertOneLineError(result, /no store at .*nope.*init-admin/);
  });

  test('other program database untouched', async () => {
    const other = join(sandbox.dir, 'notes.db');
    execFileSync('sqlite3', [other, 'CREATE TABLE notes (body TEXT)']);
    const before = storeDigest(other);

    for (const args of [['users', 'me'], ['init-admin', '--username', 'ann', '--password-stdin']]) {
      const result = await sandbox.run(['--db', other, ...args], { input: 'ann pass phrase 1\n' });

      assert.equal(result.code, 1, result.stderr);
      assertOneLineError(result, /another program \(it has no users table\)/);
    }
    assert.equal(storeDigest(other), before);
  });

  test('empty file is not a store', async () => {
    const empty = join(sandbox.dir, 'empty.db');
    writeFileSync(empty, '');

    const result = await sandbox.run(['--db', empty, 'users', 'me']);

    assert.equal(result.code, 1, result.stderr);
    assertOneLineError(result, /not a twofa store yet; create one with "twofa init-admin"/);
    assert.equal(statSync(empty).size, 0);
  });

  test('version as JSON with --json', async () => {
    const plain = await sandbox.run(['--version']);
    const json = await sandbox.run(['--version', '--json']);

    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^\d+\.\d+\.\d+\n$/);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(json.json, { version: plain.stdout.trim() });
  });

  test('empty --db is rejected', async () => {
    const result = await sandbox.run(['--db', '', 'users', 'me']);

    assert.equal(result.code, 2, result.stderr);
    assertOneLineError(result, /invalid --db ""/);
  });

  test('list says more users follow', async () => {
    const result = await sandbox.run(['users', 'list', '--limit', '1', '--json']);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json.length, 1);
    assert.match(result.stderr, /More users follow: run again with --after 1 /);
  });

  test('last page has no hint', async () => {
    const result = await sandbox.run(['users', 'list', '--after', '1', '--json']);

    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      result.json.map((user: { username: string }) => user.username),
      ['carol'],
    );
    assert.doesNotMatch(result.stderr, /More users follow/);
  });

  test('readable store gets a warning', async () => {
    chmodSync(sandbox.db, 0o644);
    try {
      const result = await sandbox.run(['users', 'me', '--json']);

      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, new RegExp(`mode 0644.*chmod 600 ${sandbox.db}`));
      assert.equal(result.json.username, 'root');
    } finally {
      chmodSync(sandbox.db, 0o600);
    }
  });

  test('lock shows in users get', async () => {
    const db = sandbox.open();
    db.prepare("UPDATE users SET locked_until = '2999-01-01T00:00:00.000Z' WHERE username = 'carol'").run();
    db.close();
    try {
      const human = await sandbox.run(['users', 'get', 'carol']);
      const json = await sandbox.run(['users', 'get', 'carol', '--json']);

      assert.match(human.stdout, /state:\s+locked until 2999-01-01T00:00:00.000Z/);
      assert.deepEqual(Object.keys(json.json).sort(), [
        'createdAt',
        'disabled',
        'email',
        'fullName',
        'id',
        'lastLoginAt',
        'otpEnrolled',
        'role',
        'updatedAt',
        'username',
      ]);
    } finally {
      const unlock = await sandbox.run(['users', 'update', 'carol', '--unlock']);
      assert.equal(unlock.code, 0, unlock.stderr);
    }
  });

  test('wrong current password counts as failure', async () => {
    const result = await sandbox.run(['users', 'update', '--change-password', '--password-stdin', '--new-password-stdin'], {
      input: 'not the password\nroot new pass phrase 2\n',
    });

    assert.equal(result.code, 3, result.stderr);
    assertOneLineError(result, /current password is wrong/);
    assert.equal(count(sandbox, "SELECT failed_login_count AS n FROM users WHERE username = 'root'"), 1);
    assert.equal(
      count(sandbox, "SELECT count(*) AS n FROM audit_events WHERE action = 'login.failed' AND detail LIKE '%current_password%'"),
      1,
    );
  });

  test('new password equal to current rejected', async () => {
    const before = count(sandbox, "SELECT count(*) AS n FROM audit_events WHERE action = 'user.password_changed'");
    const hash = rootHash(sandbox);

    const result = await sandbox.run(['users', 'update', '--change-password', '--password-stdin', '--new-password-stdin'], {
      input: `${ROOT_PASSWORD}\n${ROOT_PASSWORD}\n`,
    });

    assert.equal(result.code, 2, result.stderr);
    assertOneLineError(result, /invalid password: it equals the current password; choose a new one/);
    assert.equal(rootHash(sandbox), hash);
    assert.equal(count(sandbox, "SELECT count(*) AS n FROM audit_events WHERE action = 'user.password_changed'"), before);
  });

  test('locked account cannot change password', async () => {
    const db = sandbox.open();
    db.prepare("UPDATE users SET locked_until = '2999-01-01T00:00:00.000Z' WHERE username = 'root'").run();
    db.close();
    try {
      const result = await sandbox.run(['users', 'update', '--change-password', '--password-stdin', '--new-password-stdin'], {
        input: `${ROOT_PASSWORD}\nroot new pass phrase 3\n`,
      });

      assert.equal(result.code, 7, result.stderr);
      assertOneLineError(result, /account locked/);
    } finally {
      const unlock = sandbox.open();
      unlock.prepare("UPDATE users SET locked_until = NULL, failed_login_count = 0 WHERE username = 'root'").run();
      unlock.close();
    }
  });

  test('attempt on locked account audited', async () => {
    const db = sandbox.open();
    db.prepare("UPDATE users SET locked_until = '2999-01-01T00:00:00.000Z' WHERE username = 'carol'").run();
    db.close();
    try {
      const result = await sandbox.run(['login', '--username', 'carol', '--password-stdin', '--otp', '123456'], {
        input: `${CAROL_PASSWORD}\n`,
        env: { TWOFA_STATE_DIR: join(sandbox.dir, 'carol-locked') },
      });

      assert.equal(result.code, 7, result.stderr);
      assert.equal(
        count(sandbox, "SELECT count(*) AS n FROM audit_events WHERE action = 'login.failed' AND detail LIKE '%\"locked\"%'"),
        1,
      );
    } finally {
      const unlock = await sandbox.run(['users', 'update', 'carol', '--unlock']);
      assert.equal(unlock.code, 0, unlock.stderr);
    }
  });

  test('unlock without lock writes nothing', async () => {
    const eventsBefore = count(sandbox, "SELECT count(*) AS n FROM audit_events WHERE action = 'user.unlocked'");

    const result = await sandbox.run(['users', 'update', 'carol', '--unlock']);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(count(sandbox, "SELECT count(*) AS n FROM audit_events WHERE action = 'user.unlocked'"), eventsBefore);
  });

  test('password of only spaces rejected', async () => {
    const result = await sandbox.run(['users', 'create', '--username', 'spacey', '--password-stdin'], { input: '          \n' });

    assert.equal(result.code, 2, result.stderr);
    assertOneLineError(result, /only spaces/);
  });

  test('link to store shares the session', async () => {
    const link = join(sandbox.dir, 'link.db');
    symlinkSync(sandbox.db, link);

    const result = await sandbox.run(['users', 'me', '--json'], { env: { TWOFA_DB: link } });

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json.username, 'root');
  });

  test('recovery login counts codes left', async () => {
    const result = await sandbox.run(['login', '--username', 'root', '--password-stdin', '--recovery-code', rootRecoveryCodes[0] ?? ''], {
      input: `${ROOT_PASSWORD}\n`,
      env: { TWOFA_STATE_DIR: join(sandbox.dir, 'root-recovery') },
    });

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Recovery code used: 9 left\./);
  });

  test('--qr draws pending enrollment', async () => {
    const result = await sandbox.run(['login', '--username', 'carol', '--password-stdin', '--qr'], {
      input: `${CAROL_PASSWORD}\n`,
      env: { TWOFA_STATE_DIR: join(sandbox.dir, 'carol-state') },
    });

    assert.equal(result.code, 3, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /[█▀▄]{10}/);
    assert.match(result.stderr, /otpauth:\/\/totp\/twofa:carol\?secret=/);
  });
});
