// Writers killed with SIGKILL at random moments must leave a store that is
// intact and whose every user is complete.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Sandbox, type RunResult } from './support/cli.js';

const ADMIN_PASSWORD = 'correct horse battery';
const USER_PASSWORD = 'violet kettle drums 93';
const NEW_PASSWORD = 'amber lantern pebbles 41';
const KILLS = 30;
const WRITERS_AT_ONCE = 3;
/** Lower bound of the maximum kill delay, which grows on a slower machine. */
const MIN_MAX_KILL_DELAY_MS = 300;
const TARGETS = ['target0', 'target1', 'target2'];

interface Writer {
  args: string[];
  input: string;
}

/** Picks one of the writes that twofa does, at random. */
function randomWriter(index: number): Writer {
  const target = TARGETS[index % TARGETS.length] as string;
  const choices: Writer[] = [
    { args: ['users', 'create', '--username', `crash${index}`, '--email', `crash${index}@example.com`, '--password-stdin'], input: `${USER_PASSWORD}\n` },
    { args: ['users', 'update', target, '--full-name', `Name ${index}`, '--email', `${target}.${index}@example.com`], input: '' },
    { args: ['users', 'update', target, '--reset-otp'], input: '' },
    { args: ['users', 'update', target, '--change-password', '--new-password-stdin'], input: `${index % 2 === 0 ? NEW_PASSWORD : USER_PASSWORD}\n` },
    { args: ['users', 'update', target, '--role', index % 2 === 0 ? 'admin' : 'user'], input: '' },
  ];
  return choices[Math.floor(Math.random() * choices.length)] as Writer;
}

describe('writers killed at random moments', () => {
  const sandbox = new Sandbox('twofa-crash');
  const results: RunResult[] = [];
  let maxKillDelayMs = MIN_MAX_KILL_DELAY_MS;

  before(async () => {
    await sandbox.initAdmin('root', ADMIN_PASSWORD);
    const login = await sandbox.login('root', ADMIN_PASSWORD);
    assert.equal(login.code, 0, login.stderr);
    // Creating the targets, all at once as the writers below run, also times
    // a round here, so that the kill delays spread over a whole run however
    // fast or loaded this machine is.
    const startMs = Date.now();
    await Promise.all(TARGETS.map((target) => sandbox.createUser(target, USER_PASSWORD)));
    maxKillDelayMs = Math.max(MIN_MAX_KILL_DELAY_MS, Math.round((Date.now() - startMs) * 0.8));

    // A few writers run at once, so some are killed while others wait for
    // the lock or hold it.
    for (let started = 0; started < KILLS; started += WRITERS_AT_ONCE) {
      const round = Array.from({ length: WRITERS_AT_ONCE }, (_, offset) => {
        const writer = randomWriter(started + offset);
        const killAfterMs = Math.floor(Math.random() * (maxKillDelayMs + 1));
        // runTwofa sends SIGKILL when the timeout ends.
        return sandbox.run(writer.args, { input: writer.input, timeoutMs: killAfterMs });
      });
      results.push(...(await Promise.all(round)));
    }
  });

  after(() => sandbox.remove());

  test('kills hit running writers', (t) => {
    const killed = results.filter((result) => result.code === null).length;
    t.diagnostic(`${killed} of ${results.length} writers were killed within ${maxKillDelayMs} ms, the others finished`);
    assert.equal(results.length, KILLS);
    // Delays reach most of the time of one round. With fewer kills than
    // this, the run would test little.
    assert.ok(killed >= KILLS / 5, `only ${killed} of ${KILLS} writers were killed`);
    for (const result of results.filter((each) => each.code !== null)) {
      assert.equal(result.code, 0, result.stderr);
    }
  });

  test('store passes integrity check', () => {
    // Opening the store replays or discards what a killed writer left in
    // the write-ahead log, as the next twofa would.
    const db = sandbox.open();
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(db.pragma('foreign_key_check'), []);
    } finally {
      db.close();
    }
  });

  test('every listed user is complete', async () => {
    const list = await sandbox.run(['users', 'list', '--limit', '0', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const users = list.json as Array<{ id: number; username: string }>;
    assert.ok(users.length >= 1 + TARGETS.length, `only ${users.length} users listed`);

    const db = sandbox.open();
    try {
      const rowOf = db.prepare('SELECT username, hashed_password, otp_secret FROM users WHERE id = ?');
      const createdEvents = db.prepare("SELECT count(*) AS n FROM audit_events WHERE action = 'user.created' AND target_id = ?");
      for (const user of users) {
        const row = rowOf.get(user.id) as { username: string; hashed_password: string | null; otp_secret: string | null };
        assert.equal(row.username, user.username);
        assert.match(row.hashed_password ?? '', /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/, `${user.username} has no valid hash`);
        assert.match(row.otp_secret ?? '', /^[A-Z2-7]{32}$/, `${user.username} has no valid TOTP secret`);
        // A user and the audit event of its creation are one transaction.
        assert.equal((createdEvents.get(user.id) as { n: number }).n, 1, `${user.username} has no creation event`);
      }
    } finally {
      db.close();
    }

    const fetched = await Promise.all(users.map((user) => sandbox.run(['users', 'get', String(user.id), '--json'])));
    for (const [index, result] of fetched.entries()) {
      const user = users[index] as { id: number; username: string };
      assert.equal(result.code, 0, `users get ${user.id}: ${result.stderr}`);
      assert.equal(result.json.username, user.username);
    }
  });

  test('store still takes writes', async () => {
    const created = await sandbox.createUser('aftercrash', USER_PASSWORD);
    assert.equal(created.username, 'aftercrash');
    const updated = await sandbox.run(['users', 'update', 'aftercrash', '--full-name', 'After Crash', '--json']);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.json.fullName, 'After Crash');
  });
});
