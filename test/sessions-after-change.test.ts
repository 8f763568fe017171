// A session must not outlive a change to its user: every command re-reads
// the session, the user's role and disabled flag from the store.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcrypt';
import { errorLines, firstAdmin, Person, userRow } from './support/actors.js';
import { Sandbox, type RunResult } from './support/cli.js';

const ADMIN_PASSWORD = 'root pass phrase 1';

function passwordOf(username: string): string {
  return `${username} pass phrase 1`;
}

/** Counts the sessions of a user that the store has not revoked. */
function openSessions(sandbox: Sandbox, username: string): number {
  const db = sandbox.open();
  try {
    const row = db
      .prepare('SELECT count(*) AS open FROM sessions JOIN users ON users.id = sessions.user_id WHERE users.username = ? AND revoked_at IS NULL')
      .get(username) as { open: number };
    return row.open;
  } finally {
    db.close();
  }
}

function assertCleanRefusal(result: RunResult, exitCode: number): void {
  assert.equal(result.code, exitCode, result.stderr);
  assert.equal(result.stdout, '');
  assert.equal(errorLines(result).length, 1, result.stderr);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'stack trace in the output');
}

describe('sessions after a change', () => {
  const sandbox = new Sandbox('sessions');
  let root: Person;

  /** Creates a user as root and logs them in, in their own state folder. */
  async function loggedIn(username: string, extra: string[] = [], loginExtra: string[] = []): Promise<Person> {
    await root.createUser(username, passwordOf(username), extra);
    const person = new Person(sandbox, username, passwordOf(username));
    await person.login(loginExtra);
    return person;
  }

  before(async () => {
    root = await firstAdmin(sandbox, 'root', ADMIN_PASSWORD);
  });

  after(() => sandbox.remove());

  test('disabled user is logged out', async () => {
    const bob = await loggedIn('bob');
    assert.equal((await bob.run(['users', 'me'])).code, 0);

    const disabled = await root.run(['users', 'update', 'bob', '--disable']);
    assert.equal(disabled.code, 0, disabled.stderr);

    assertCleanRefusal(await bob.run(['users', 'me']), 3);
    assert.equal(openSessions(sandbox, 'bob'), 0);
  });

  test('demoted admin cannot list users', async () => {
    const eve = await loggedIn('eve', ['--role', 'admin']);
    assert.equal((await eve.run(['users', 'list'])).code, 0);

    const demoted = await root.run(['users', 'update', 'eve', '--role', 'user']);
    assert.equal(demoted.code, 0, demoted.stderr);

    const result = await eve.run(['users', 'list', '--json']);
    assert.notEqual(result.code, 0);
    assert.ok(result.code === 3 || result.code === 4, `exit code ${result.code}: ${result.stderr}`);
    assert.equal(result.stdout, '');
    assert.equal(openSessions(sandbox, 'eve'), 0);
  });

  test('role edited in store applies', async () => {
    // The Python app shares the store and changes roles without ending
    // sessions, so the role must be read again on every command.
    const ivy = await loggedIn('ivy', ['--role', 'admin']);
    assert.equal((await ivy.run(['users', 'list'])).code, 0);
    const db = sandbox.open();
    db.prepare("UPDATE users SET role = 'user' WHERE username = 'ivy'").run();
    db.close();

    assertCleanRefusal(await ivy.run(['users', 'list']), 4);
    assertCleanRefusal(await ivy.run(['users', 'update', 'root', '--full-name', 'X']), 4);
    assert.equal((await ivy.run(['users', 'me', '--json'])).json.role, 'user');
  });

  test('disable edited in store applies', async () => {
    const jack = await loggedIn('jack');
    const db = sandbox.open();
    db.prepare('UPDATE users SET disabled = 1 WHERE username = ?').run('jack');
    db.close();

    const result = await jack.run(['users', 'me']);

    assertCleanRefusal(result, 3);
    assert.match(result.stderr, /disabled/);
  });

  test('expired session exits 3', async () => {
    const frank = await loggedIn('frank', [], ['--ttl', '2s']);
    assert.equal((await frank.run(['users', 'me'])).code, 0);

    await delay(3000);
    const result = await frank.run(['users', 'me']);

    assertCleanRefusal(result, 3);
    assert.match(result.stderr, /expired/);
    assert.match(result.stderr, /log in again/);
  });

  describe('session file edited by hand', () => {
    let henry: Person;
    let fileText: string;
    let token: string;

    before(async () => {
      henry = await loggedIn('henry');
      fileText = readFileSync(join(henry.stateDir, 'sessions.json'), 'utf8');
      token = JSON.parse(fileText).sessions[sandbox.db].token as string;
    });

    function writeSessionFile(text: string): void {
      writeFileSync(join(henry.stateDir, 'sessions.json'), text, { mode: 0o600 });
    }

    test('changed token exits 3', async () => {
      const changed = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      writeSessionFile(fileText.replace(token, changed));

      const result = await henry.run(['users', 'me']);

      assertCleanRefusal(result, 3);
      assert.match(result.stderr, /log in again/);
    });

    test('malformed token exits 3', async () => {
      writeSessionFile(fileText.replace(token, 'not a token'));

      const result = await henry.run(['users', 'me']);

      assertCleanRefusal(result, 3);
      assert.match(result.stderr, /log in again/);
    });

    test('damaged file exits 3', async () => {
      writeSessionFile(fileText.slice(0, fileText.length / 2));

      const result = await henry.run(['users', 'me']);

      assertCleanRefusal(result, 3);
      assert.match(result.stderr, /log in again/);
    });

    test('damaged file as JSON error', async () => {
      writeSessionFile('{"sessions": 7');

      const result = await henry.run(['users', 'me', '--json']);

      assert.equal(result.code, 3);
      assert.equal(result.stdout, '');
      assert.match(JSON.parse(result.stderr).error.message, /log in again/);
    });

    test('original token still works', async () => {
      writeSessionFile(fileText);

      const result = await henry.run(['users', 'me', '--json']);

      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.json.username, 'henry');
    });
  });

  describe('password change', () => {
    test('ends other sessions, keeps this', async () => {
      const gina = await loggedIn('gina');
      const laptop = gina.elsewhere('gina-laptop');
      await laptop.login();
      const newPassword = 'gina new pass phrase 2';

      const changed = await gina.run(['users', 'update', '--change-password', '--password-stdin', '--new-password-stdin'], {
        input: `${passwordOf('gina')}\n${newPassword}\n`,
      });

      assert.equal(changed.code, 0, changed.stderr);
      assert.equal((await gina.run(['users', 'me'])).code, 0);
      assertCleanRefusal(await laptop.run(['users', 'me']), 3);
      assert.equal(openSessions(sandbox, 'gina'), 1);
      assert.ok(await bcrypt.compare(newPassword, userRow(sandbox, 'gina').hashed_password as string), 'new password not stored');
    });

    test('wrong current password changes nothing', async () => {
      const kim = await loggedIn('kim');
      const laptop = kim.elsewhere('kim-laptop');
      await laptop.login();
      const hashBefore = userRow(sandbox, 'kim').hashed_password;

      const result = await kim.run(['users', 'update', '--change-password', '--password-stdin', '--new-password-stdin'], {
        input: `not the password\nkim new pass phrase 2\n`,
      });

      assert.ok(result.code === 3 || result.code === 4, `exit code ${result.code}: ${result.stderr}`);
      assert.equal(errorLines(result).length, 1, result.stderr);
      assert.equal(userRow(sandbox, 'kim').hashed_password, hashBefore);
      assert.equal((await kim.run(['users', 'me'])).code, 0);
      assert.equal((await laptop.run(['users', 'me'])).code, 0);
    });

    test('admin reset ends their sessions', async () => {
      const leo = await loggedIn('leo');

      const result = await root.run(['users', 'update', 'leo', '--change-password', '--new-password-stdin'], { input: 'leo new pass phrase 2\n' });

      assert.equal(result.code, 0, result.stderr);
      assertCleanRefusal(await leo.run(['users', 'me']), 3);
      assert.equal((await root.run(['users', 'me'])).code, 0);
    });
  });
});
