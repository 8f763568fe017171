// The bulk path for imports: rows with finished hashes go in with one
// transaction or not at all, and parallel hashing returns hashes in order.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcrypt';
import { hashPasswords, insertUsers, type BulkUserRow } from '../src/core/bulk.js';
import type { CoreContext } from '../src/core/context.js';
import { ConflictError, InputError, PermissionError } from '../src/core/errors.js';
import { findUserRow } from '../src/core/records.js';
import type { Actor } from '../src/core/sessions.js';
import { openStore, type Store } from '../src/store/store.js';
import { Sandbox } from './support/cli.js';

const COST = 10;
const PASSWORD = 'plum tree evening walk';

describe('insertUsers', () => {
  const sandbox = new Sandbox('bulk');
  let store: Store;
  let ctx: CoreContext;
  let admin: Actor;
  let hash: string;

  before(async () => {
    await sandbox.initAdmin('root');
    store = await openStore(sandbox.db);
    ctx = { store, bcryptCost: COST, issuer: 'twofa', now: () => new Date() };
    const root = await findUserRow(store.db, { username: 'root' });
    assert.ok(root);
    admin = { user: root, sessionId: 0 };
    hash = await bcrypt.hash(PASSWORD, COST);
  });

  after(async () => {
    await store.close();
    sandbox.remove();
  });

  function countUsers(): number {
    return (store.sqlite.prepare('SELECT count(*) FROM users').pluck().get() as number);
  }

  test('creates rows in input order', async () => {
    const rows: BulkUserRow[] = [
      { username: 'ada', email: 'ada@example.com', fullName: 'Ada Lovelace', hashedPassword: hash },
      { username: 'grace', role: 'admin', hashedPassword: hash, otpSecret: 'jbsw y3dp ehpk 3pxp' },
      { username: 'linus', hashedPassword: hash },
    ];
    const { ids } = await insertUsers(ctx, admin, rows);

    assert.equal(ids.length, 3);
    assert.ok(ids[0]! < ids[1]!, `ids ${ids.join(', ')} are not ascending`);
    assert.ok(ids[1]! < ids[2]!, `ids ${ids.join(', ')} are not ascending`);
    const stored = store.sqlite.prepare('SELECT * FROM users WHERE id = ?');
    const ada = stored.get(ids[0]) as Record<string, unknown>;
    assert.equal(ada.username, 'ada');
    assert.equal(ada.email, 'ada@example.com');
    assert.equal(ada.full_name, 'Ada Lovelace');
    assert.equal(ada.role, 'user');
    assert.equal(ada.hashed_password, hash);
    assert.equal(ada.otp_pending, 1);
    assert.match(ada.otp_secret as string, /^[A-Z2-7]{32}$/);
    assert.equal(ada.created_at, ada.updated_at);

    const grace = stored.get(ids[1]) as Record<string, unknown>;
    assert.equal(grace.role, 'admin');
    assert.equal(grace.otp_secret, 'JBSWY3DPEHPK3PXP');
    assert.equal(grace.otp_pending, 0);
  });

  test('records one audit event per user', () => {
    const events = store.sqlite
      .prepare("SELECT actor_username, target_username, detail FROM audit_events WHERE action = 'user.created' AND target_username IN ('ada', 'grace', 'linus') ORDER BY id")
      .all() as Array<{ actor_username: string; target_username: string; detail: string }>;
    assert.deepEqual(
      events.map((event) => event.target_username),
      ['ada', 'grace', 'linus'],
    );
    assert.ok(events.every((event) => event.actor_username === 'root'));
    assert.deepEqual(JSON.parse(events[1]!.detail), { role: 'admin', bulk: true });
  });

  test('created user logs in with CLI', async () => {
    const result = await sandbox.login('linus', PASSWORD);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.json.user.username, 'linus');
    assert.equal(result.json.user.otpEnrolled, true);
  });

  test('rejects invalid username by row', async () => {
    const before = countUsers();
    await assert.rejects(
      insertUsers(ctx, admin, [
        { username: 'valid1', hashedPassword: hash },
        { username: '9lives', hashedPassword: hash },
      ]),
      (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.match(error.message, /^row 2: invalid username "9lives"/);
        assert.equal(error.code, 'invalid_username');
        return true;
      },
    );
    assert.equal(countUsers(), before);
  });

  test('rejects malformed hash by row', async () => {
    await assert.rejects(insertUsers(ctx, admin, [{ username: 'plain1', hashedPassword: 'secret123' }]), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /^row 1: invalid password hash/);
      return true;
    });
  });

  test('rejects invalid email by row', async () => {
    await assert.rejects(insertUsers(ctx, admin, [{ username: 'mailer', email: 'not-an-address', hashedPassword: hash }]), /^InputError: row 1: invalid email/);
  });

  test('rejects repeated username ignoring case', async () => {
    const before = countUsers();
    await assert.rejects(
      insertUsers(ctx, admin, [
        { username: 'Twin', hashedPassword: hash },
        { username: 'other', hashedPassword: hash },
        { username: 'tWIN', hashedPassword: hash },
      ]),
      (error: unknown) => {
        assert.ok(error instanceof ConflictError);
        assert.match(error.message, /^row 3: username "tWIN" repeats row 1/);
        return true;
      },
    );
    assert.equal(countUsers(), before);
  });

  test('rejects repeated email ignoring case', async () => {
    await assert.rejects(
      insertUsers(ctx, admin, [
        { username: 'first', email: 'Same@Example.com', hashedPassword: hash },
        { username: 'second', email: 'same@example.COM', hashedPassword: hash },
      ]),
      (error: unknown) => {
        assert.ok(error instanceof ConflictError);
        assert.match(error.message, /^row 2: email "same@example\.COM" repeats row 1/);
        return true;
      },
    );
  });

  test('rejects username taken in store', async () => {
    const before = countUsers();
    await assert.rejects(
      insertUsers(ctx, admin, [
        { username: 'newcomer', hashedPassword: hash },
        { username: 'ADA', hashedPassword: hash },
      ]),
      (error: unknown) => {
        assert.ok(error instanceof ConflictError);
        assert.match(error.message, /^row 2: username "ADA" is taken in the store/);
        return true;
      },
    );
    // One transaction: the valid first row was rolled back too.
    assert.equal(countUsers(), before);
    assert.equal(await findUserRow(store.db, { username: 'newcomer' }), undefined);
  });

  test('rejects email taken in store', async () => {
    await assert.rejects(
      insertUsers(ctx, admin, [{ username: 'adatwo', email: 'ADA@example.com', hashedPassword: hash }]),
      /^ConflictError: row 1: email "ADA@example.com" is taken in the store/,
    );
  });

  test('rejects non-admin actor', async () => {
    const linus = await findUserRow(store.db, { username: 'linus' });
    assert.ok(linus);
    const before = countUsers();
    await assert.rejects(insertUsers(ctx, { user: linus, sessionId: 0 }, [{ username: 'sneaky', hashedPassword: hash }]), PermissionError);
    assert.equal(countUsers(), before);
  });

  test('accepts empty input', async () => {
    assert.deepEqual(await insertUsers(ctx, admin, []), { ids: [] });
  });
});

describe('hashPasswords', () => {
  test('returns verifiable hashes in order', async () => {
    const passwords = ['first password', 'second password', 'third password', 'fourth password', 'fifth password'];
    const hashes = await hashPasswords(passwords, COST);

    assert.equal(hashes.length, passwords.length);
    for (const [index, password] of passwords.entries()) {
      assert.match(hashes[index]!, /^\$2b\$10\$/);
      assert.equal(await bcrypt.compare(password, hashes[index]!), true, `hash ${index} does not match its password`);
    }
  });

  test('reports progress up to total', async () => {
    const calls: Array<[number, number]> = [];
    await hashPasswords(['one password', 'two password', 'three password'], COST, (done, total) => calls.push([done, total]));
    assert.deepEqual(calls, [
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });

  test('rejects cost below minimum', async () => {
    await assert.rejects(hashPasswords(['a password'], 9), InputError);
  });

  test('returns nothing for no passwords', async () => {
    assert.deepEqual(await hashPasswords([], COST), []);
  });
});
