// Recovery codes: ten single-use codes of at least 80 random bits, issued when
// an enrollment is confirmed, shown once and stored only as hashes.

import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { AuthError } from '../src/core/errors.js';
import { consumeRecoveryCode, countUnusedRecoveryCodes, issueRecoveryCodes } from '../src/core/recovery.js';
import { Sandbox, type RunResult } from './support/cli.js';
import { caught, DEFAULT_PASSWORD, insertUser, loginAt, openCoreFixture, Person, queryStore, storeBytes, type CoreFixture } from './support/security.js';

const NOW_ISO = '2026-03-02T09:00:00.000Z';

/** Strips spaces and dashes, leaving the hexadecimal digits of a code. */
function hexDigits(code: string): string {
  return code.replace(/[\s-]/g, '');
}

function assertWellFormed(recoveryCodes: unknown): asserts recoveryCodes is string[] {
  assert.ok(Array.isArray(recoveryCodes), 'recoveryCodes is not an array');
  assert.equal(recoveryCodes.length, 10);
  for (const code of recoveryCodes) {
    assert.equal(typeof code, 'string');
    // 20 hexadecimal digits are 80 bits.
    assert.match(hexDigits(code as string), /^[0-9a-fA-F]{20,}$/, `code ${String(code)}`);
  }
  assert.equal(new Set(recoveryCodes).size, 10, 'codes repeat');
}

describe('recovery codes at core level', () => {
  let fixture: CoreFixture;
  let anaId: number;

  beforeEach(async () => {
    fixture = await openCoreFixture();
    anaId = await insertUser(fixture.store, { username: 'ana' });
  });

  afterEach(async () => {
    await fixture.close();
  });

  test('code starting with 0 works', async () => {
    let leadingZero: string | undefined;
    for (let attempt = 0; attempt < 200 && leadingZero === undefined; attempt += 1) {
      const issued = await issueRecoveryCodes(fixture.store.db, anaId, NOW_ISO);
      leadingZero = issued.find((code) => code.startsWith('0'));
    }
    assert.ok(leadingZero, 'no code with a leading 0 in 200 sets');

    const result = await loginAt(fixture, 59, { username: 'ana' }, { recoveryCode: leadingZero });
    assert.equal(result.user.username, 'ana');
    assert.equal(await countUnusedRecoveryCodes(fixture.store.db, anaId), 9);
  });

  test('codes distinct across sets', async () => {
    const seen = new Set<string>();
    for (let set = 0; set < 50; set += 1) {
      const issued = await issueRecoveryCodes(fixture.store.db, anaId, NOW_ISO);
      assertWellFormed(issued);
      for (const code of issued) {
        seen.add(hexDigits(code).toLowerCase());
      }
    }
    assert.equal(seen.size, 500);
  });

  test('typed forms of a code work', async () => {
    const issued = await issueRecoveryCodes(fixture.store.db, anaId, NOW_ISO);
    const forms = [
      (code: string) => code.toUpperCase(),
      (code: string) => hexDigits(code),
      (code: string) => ` ${hexDigits(code).replace(/(.{4})/g, '$1 ')} `,
    ];
    for (const [index, form] of forms.entries()) {
      const typed = form(issued[index] ?? '');
      assert.equal(await consumeRecoveryCode(fixture.store.db, anaId, typed, NOW_ISO), true, `typed as "${typed}"`);
    }
  });

  test('used code rejected', async () => {
    const [code] = await issueRecoveryCodes(fixture.store.db, anaId, NOW_ISO);
    await loginAt(fixture, 59, { username: 'ana' }, { recoveryCode: code ?? '' });
    const error = await caught(() => loginAt(fixture, 65, { username: 'ana' }, { recoveryCode: code ?? '' }));
    assert.ok(error instanceof AuthError, `gave ${error.name}`);
  });

  test('code of other user rejected', async () => {
    const benId = await insertUser(fixture.store, { username: 'ben' });
    const [anaCode] = await issueRecoveryCodes(fixture.store.db, anaId, NOW_ISO);
    await issueRecoveryCodes(fixture.store.db, benId, NOW_ISO);
    assert.equal(await consumeRecoveryCode(fixture.store.db, benId, anaCode ?? '', NOW_ISO), false);
    assert.equal(await countUnusedRecoveryCodes(fixture.store.db, anaId), 10);
  });

  test('near misses rejected', async () => {
    const [code] = await issueRecoveryCodes(fixture.store.db, anaId, NOW_ISO);
    const digits = hexDigits(code ?? '');
    const flipped = `${digits.slice(0, -1)}${digits.endsWith('0') ? '1' : '0'}`;
    for (const typed of [flipped, digits.slice(0, -1), `${digits}0`, '', '0'.repeat(20)]) {
      assert.equal(await consumeRecoveryCode(fixture.store.db, anaId, typed, NOW_ISO), false, `typed "${typed}"`);
    }
    assert.equal(await countUnusedRecoveryCodes(fixture.store.db, anaId), 10);
  });

  test('pending enrollment rejects codes', async () => {
    const pendingId = await insertUser(fixture.store, { username: 'pia', pending: 1 });
    const [code] = await issueRecoveryCodes(fixture.store.db, pendingId, NOW_ISO);
    const error = await caught(() => loginAt(fixture, 59, { username: 'pia' }, { recoveryCode: code ?? '' }));
    assert.ok(error instanceof AuthError, `gave ${error.name}`);
  });
});

describe('recovery codes through the CLI', () => {
  let sandbox: Sandbox;
  let root: Person;
  let ana: Person;
  let firstSet: string[];
  let secondSet: string[];

  before(async () => {
    sandbox = new Sandbox('twofa-recovery');
    await sandbox.initAdmin('root', 'correct horse battery');
    root = new Person(sandbox, 'root', 'correct horse battery');
    await root.login();
    ana = new Person(sandbox, 'ana', DEFAULT_PASSWORD);
    const created = await root.run(['users', 'create', '--username', 'ana', '--password-stdin', '--json'], { input: `${ana.password}\n` });
    assert.equal(created.code, 0, created.stderr);
  });

  after(() => {
    sandbox.remove();
  });

  function recoveryLogin(code: string, password = ana.password): Promise<RunResult> {
    return ana.run(['login', '--username', 'ana', '--password-stdin', '--recovery-code', code, '--json'], { input: `${password}\n` });
  }

  function unusedCount(): number {
    const [row] = queryStore<{ count: number }>(
      sandbox,
      'SELECT count(*) AS count FROM recovery_codes JOIN users ON users.id = recovery_codes.user_id WHERE username = ? AND used_at IS NULL',
      'ana',
    );
    return row?.count ?? -1;
  }

  test('confirming login shows ten codes', async () => {
    const result = await ana.login();
    assertWellFormed(result.json.recoveryCodes);
    firstSet = result.json.recoveryCodes;
    assert.equal(unusedCount(), 10);
  });

  test('later login shows none', async () => {
    const result = await ana.login();
    assert.equal('recoveryCodes' in result.json, false);
    for (const code of firstSet) {
      assert.equal((result.stdout + result.stderr).includes(code), false, `code ${code} shown again`);
    }
  });

  test('store holds only hashes', () => {
    const bytes = storeBytes(sandbox.db);
    for (const code of firstSet) {
      assert.equal(bytes.includes(code), false, `code ${code} is in the store`);
      assert.equal(bytes.includes(hexDigits(code)), false, `code ${code} without dashes is in the store`);
    }
    const rows = queryStore<{ code_hash: string }>(
      sandbox,
      'SELECT code_hash FROM recovery_codes JOIN users ON users.id = recovery_codes.user_id WHERE username = ?',
      'ana',
    );
    assert.equal(rows.length, 10);
    for (const row of rows) {
      assert.match(row.code_hash, /^[0-9a-f]{64}$/);
    }
  });

  test('each code works once', async () => {
    for (const code of firstSet.slice(0, 5)) {
      const first = await recoveryLogin(code);
      assert.equal(first.code, 0, `${code}: ${first.stderr}`);
      assert.equal(first.json.user.username, 'ana');
      const again = await recoveryLogin(code);
      assert.equal(again.code, 3, `${code} worked twice: ${again.stderr}`);
    }
    assert.equal(unusedCount(), 5);
  });

  test('wrong password keeps code unused', async () => {
    const code = firstSet[5] ?? '';
    const wrong = await recoveryLogin(code, 'not the password');
    assert.equal(wrong.code, 3, wrong.stderr);
    assert.equal(unusedCount(), 5);
    const right = await recoveryLogin(code);
    assert.equal(right.code, 0, right.stderr);
    assert.equal(unusedCount(), 4);
  });

  test('admin cannot issue codes for others', async () => {
    const result = await root.run(['users', 'update', 'ana', '--new-recovery-codes', '--json']);
    assert.equal(result.code, 4, result.stderr);
    assert.equal(unusedCount(), 4);
  });

  test('new set voids old set', async () => {
    const issued = await ana.run(['users', 'update', '--new-recovery-codes', '--json']);
    assert.equal(issued.code, 0, issued.stderr);
    assertWellFormed(issued.json.recoveryCodes);
    secondSet = issued.json.recoveryCodes;
    assert.equal(unusedCount(), 10);

    for (const old of firstSet.slice(6)) {
      const result = await recoveryLogin(old);
      assert.equal(result.code, 3, `old code ${old} still works`);
    }
    assert.equal(unusedCount(), 10);
  });

  test('whole new set works once', async () => {
    for (const [index, code] of secondSet.entries()) {
      // The last code goes in as typed by hand: upper case, no dashes.
      const typed = index === secondSet.length - 1 ? hexDigits(code).toUpperCase() : code;
      const first = await recoveryLogin(typed);
      assert.equal(first.code, 0, `${typed}: ${first.stderr}`);
      const again = await recoveryLogin(code);
      assert.equal(again.code, 3, `${code} worked twice`);
    }
    assert.equal(unusedCount(), 0);
  });
});
