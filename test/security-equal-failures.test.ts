// Equal failures: an unknown user, a wrong password, a wrong code and a
// disabled account get the same message, exit 3 and about the same time, and
// no wrong or missing second factor ever yields a session.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { AuthError } from '../src/core/errors.js';
import { checkPassword, LOGIN_FAILED_MESSAGE } from '../src/core/login.js';
import { codes, oathtool, Sandbox, type RunResult } from './support/cli.js';
import {
  bcryptHash,
  caught,
  DEFAULT_PASSWORD,
  execStore,
  insertUser,
  K,
  K_CODES,
  loginAt,
  median,
  openCoreFixture,
  Person,
  queryStore,
  type CoreFixture,
} from './support/security.js';

/** Codes that must never pass for K at T=59, where steps 0 to 2 are in the window. */
const WRONG_CODES_AT_59 = ['000000', '123456', K_CODES.step3, '', 'abcdef', '2870820'];

describe('wrong codes at core level', () => {
  let fixture: CoreFixture;

  beforeEach(async () => {
    fixture = await openCoreFixture();
  });

  afterEach(async () => {
    await fixture.close();
  });

  test('wrong codes rejected at T=59', async () => {
    for (const [index, code] of WRONG_CODES_AT_59.entries()) {
      const username = `user${index}`;
      await insertUser(fixture.store, { username });
      const error = await caught(() => loginAt(fixture, 59, { username }, { totpCode: code }));
      assert.ok(error instanceof AuthError, `code "${code}" gave ${error.name}: ${error.message}`);
      assert.equal(error.message, LOGIN_FAILED_MESSAGE, `code "${code}"`);
    }
    const sessions = await fixture.store.db.selectFrom('sessions').selectAll().execute();
    assert.equal(sessions.length, 0);
  });

  test('right code accepted at T=59', async () => {
    await insertUser(fixture.store, { username: 'ana' });
    const result = await loginAt(fixture, 59, { username: 'ana' }, { totpCode: K_CODES.step1 });
    assert.equal(result.user.username, 'ana');
  });

  test('wrong codes leave pending enrollment', async () => {
    for (const [index, code] of WRONG_CODES_AT_59.entries()) {
      const username = `user${index}`;
      await insertUser(fixture.store, { username, pending: 1 });
      const error = await caught(() => loginAt(fixture, 59, { username }, { totpCode: code }));
      assert.ok(error instanceof AuthError, `code "${code}" gave ${error.name}`);
    }
    const pending = await fixture.store.db.selectFrom('users').select('otp_pending').execute();
    assert.deepEqual(
      pending.map((row) => row.otp_pending),
      WRONG_CODES_AT_59.map(() => 1),
    );
    const recoveryCodes = await fixture.store.db.selectFrom('recovery_codes').selectAll().execute();
    assert.equal(recoveryCodes.length, 0);
  });

  test('every failure has one message', async () => {
    await insertUser(fixture.store, { username: 'ana' });
    await insertUser(fixture.store, { username: 'dora', disabled: 1 });
    await insertUser(fixture.store, { username: 'hashless', hash: null });
    const attempts: Array<[string, { username: string; password?: string }, string]> = [
      ['unknown user', { username: 'nosuchuser' }, K_CODES.step1],
      ['empty username', { username: '' }, K_CODES.step1],
      ['wrong password', { username: 'ana', password: 'not the password' }, K_CODES.step1],
      ['wrong code', { username: 'ana' }, '000000'],
      ['disabled account', { username: 'dora' }, K_CODES.step1],
      ['row without hash', { username: 'hashless' }, K_CODES.step1],
    ];
    for (const [label, credentials, code] of attempts) {
      const error = await caught(() => loginAt(fixture, 59, credentials, { totpCode: code }));
      assert.ok(error instanceof AuthError, `${label} gave ${error.name}`);
      assert.equal(error.message, LOGIN_FAILED_MESSAGE, label);
      assert.equal(error.code, 'login_failed', label);
      assert.equal(error.exitCode, 3, label);
      assert.deepEqual(error.details, {}, label);
    }
  });
});

describe('bcrypt work on every path', () => {
  /**
   * Times runs calls of first and of second, alternating them so that load
   * from other processes falls on both, after one warm-up call of each.
   * Returns the median milliseconds of each. prepare runs before every call,
   * outside the timing.
   */
  async function pairedMedians(
    runs: number,
    first: () => Promise<unknown>,
    second: () => Promise<unknown>,
    prepare: () => Promise<void> = async () => undefined,
  ): Promise<[number, number]> {
    const times: [number[], number[]] = [[], []];
    for (let run = 0; run <= runs; run += 1) {
      for (const [index, fn] of [first, second].entries()) {
        await prepare();
        const start = process.hrtime.bigint();
        await fn().catch(() => undefined);
        const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
        if (run > 0) {
          times[index as 0 | 1].push(elapsedMs);
        }
      }
    }
    return [median(times[0]), median(times[1])];
  }

  /** Clears the failure count and lock of every user, so a lock never cuts a timed check short. */
  async function clearFailures(fixture: CoreFixture): Promise<void> {
    await fixture.store.db.updateTable('users').set({ failed_login_count: 0, failed_login_window_start: null, locked_until: null }).execute();
  }

  test('unknown user matches wrong password', async () => {
    const fixture = await openCoreFixture({ bcryptCost: 12 });
    try {
      await insertUser(fixture.store, { username: 'ana', cost: 12 });
      const [unknown, wrong] = await pairedMedians(
        9,
        () => checkPassword(fixture.ctx, { username: 'nosuchuser', password: 'whatever it is' }),
        () => checkPassword(fixture.ctx, { username: 'ana', password: 'whatever it is' }),
        () => clearFailures(fixture),
      );
      const ratio = Math.max(unknown, wrong) / Math.min(unknown, wrong);
      assert.ok(ratio < 1.5, `unknown user ${unknown.toFixed(1)} ms, wrong password ${wrong.toFixed(1)} ms`);
    } finally {
      await fixture.close();
    }
  });

  test('dummy hash follows configured cost', async () => {
    const cheap = await openCoreFixture({ bcryptCost: 10 });
    const dear = await openCoreFixture({ bcryptCost: 13 });
    try {
      const [atTen, atThirteen] = await pairedMedians(
        5,
        () => checkPassword(cheap.ctx, { username: 'nosuchuser', password: 'whatever it is' }),
        () => checkPassword(dear.ctx, { username: 'nosuchuser', password: 'whatever it is' }),
      );
      // Each step of cost doubles the work, so cost 13 is 8 times cost 10.
      assert.ok(atThirteen > 3 * atTen, `cost 10: ${atTen.toFixed(1)} ms, cost 13: ${atThirteen.toFixed(1)} ms`);
    } finally {
      await cheap.close();
      await dear.close();
    }
  });

  // TODO: checkPassword hashes the password again at the configured cost as
  // soon as it matches a weaker hash, before the code is checked, so a wrong
  // code costs a second bcrypt run that a wrong password does not.
  test('wrong code matches wrong password', async () => {
    const fixture = await openCoreFixture({ bcryptCost: 12 });
    try {
      await insertUser(fixture.store, { username: 'ana', cost: 10 });
      let second = 100;
      const [wrongCode, wrongPassword] = await pairedMedians(
        9,
        () => loginAt(fixture, (second += 1), { username: 'ana' }, { totpCode: '000000' }),
        () => loginAt(fixture, (second += 1), { username: 'ana', password: 'not the password' }, { totpCode: '000000' }),
        () => clearFailures(fixture),
      );
      const ratio = Math.max(wrongCode, wrongPassword) / Math.min(wrongCode, wrongPassword);
      assert.ok(ratio < 1.5, `wrong code ${wrongCode.toFixed(1)} ms, wrong password ${wrongPassword.toFixed(1)} ms`);
    } finally {
      await fixture.close();
    }
  });
});

describe('failures through the CLI', () => {
  let sandbox: Sandbox;
  let root: Person;
  let ana: Person;

  before(async () => {
    sandbox = new Sandbox('twofa-equal');
    await sandbox.initAdmin('root', 'correct horse battery');
    root = new Person(sandbox, 'root', 'correct horse battery');
    await root.login();
    for (const username of ['ana', 'dora', 'pia']) {
      const created = await root.run(['users', 'create', '--username', username, '--password-stdin', '--json'], { input: `${DEFAULT_PASSWORD}\n` });
      assert.equal(created.code, 0, created.stderr);
    }
    ana = new Person(sandbox, 'ana', DEFAULT_PASSWORD);
    await ana.login();
    const disabled = await root.run(['users', 'update', 'dora', '--disable']);
    assert.equal(disabled.code, 0, disabled.stderr);
  });

  after(() => {
    sandbox.remove();
  });

  function loginWith(person: Person, password: string, extra: string[]): Promise<RunResult> {
    return person.run(['login', '--username', person.username, '--password-stdin', '--json', ...extra], { input: `${password}\n` });
  }

  function clearFailures(): void {
    execStore(sandbox, 'UPDATE users SET failed_login_count = 0, failed_login_window_start = NULL, locked_until = NULL');
  }

  function sessionCount(username: string): number {
    const [row] = queryStore<{ count: number }>(
      sandbox,
      'SELECT count(*) AS count FROM sessions JOIN users ON users.id = sessions.user_id WHERE users.username = ?',
      username,
    );
    return row?.count ?? -1;
  }

  test('same error for four failures', async () => {
    const secret = sandbox.secretOf('ana');
    const stranger = new Person(sandbox, 'nosuchuser', DEFAULT_PASSWORD);
    const dora = new Person(sandbox, 'dora', DEFAULT_PASSWORD);
    const results: Array<[string, RunResult]> = [
      ['unknown user', await loginWith(stranger, DEFAULT_PASSWORD, ['--otp', '000000'])],
      ['wrong password', await loginWith(ana, 'not the password', ['--otp', await codes.next(secret)])],
      ['wrong code', await loginWith(ana, DEFAULT_PASSWORD, ['--otp', '000000'])],
      ['disabled account', await loginWith(dora, DEFAULT_PASSWORD, ['--otp', await codes.next(sandbox.secretOf('dora'))])],
    ];
    clearFailures();

    for (const [label, result] of results) {
      assert.equal(result.code, 3, `${label}: ${result.stderr}`);
      assert.equal(result.stdout, '', label);
      assert.equal(result.stderr, results[0]?.[1].stderr, label);
    }
    assert.deepEqual(JSON.parse(results[0]?.[1].stderr ?? ''), { error: { code: 'login_failed', message: LOGIN_FAILED_MESSAGE } });
  });

  test('wrong codes never write sessions', async () => {
    const pia = new Person(sandbox, 'pia', DEFAULT_PASSWORD);
    const secret = sandbox.secretOf('pia');
    const nowSeconds = Math.floor(Date.now() / 1000);
    const windowCodes = [-60, -30, 0, 30, 60].map((offset) => oathtool(secret, nowSeconds + offset));
    const wrongCodes = ['000000', '123456', 'abcdef', '2870820', '', '12345', oathtool(secret, nowSeconds + 120)].filter(
      (code) => !windowCodes.includes(code),
    );

    for (const code of wrongCodes) {
      clearFailures();
      const result = await loginWith(pia, DEFAULT_PASSWORD, ['--otp', code]);
      assert.equal(result.code, 3, `code "${code}": ${result.stderr}`);
      assert.equal(existsSync(pia.sessionFile), false, `code "${code}" wrote a session file`);
    }
    clearFailures();
    assert.equal(sessionCount('pia'), 0);
  });

  test('missing code never writes session', async () => {
    // ana logged in once in before(): that session and its token must stay as they are.
    const saved = ana.token();
    const sessionsBefore = sessionCount('ana');
    assert.ok(saved);

    const withoutFlag = await loginWith(ana, DEFAULT_PASSWORD, []);
    assert.notEqual(withoutFlag.code, 0, withoutFlag.stderr);
    const emptyEnv = await ana.run(['login', '--username', 'ana', '--password-stdin', '--json'], {
      input: `${DEFAULT_PASSWORD}\n`,
      env: { TWOFA_OTP: '' },
    });
    assert.equal(emptyEnv.code, 3, emptyEnv.stderr);
    clearFailures();

    assert.equal(sessionCount('ana'), sessionsBefore);
    assert.equal(ana.token(), saved, 'a failed login replaced the saved token');
  });

  test('pending user gets no session without code', async () => {
    const gus = new Person(sandbox, 'gus', DEFAULT_PASSWORD);
    const created = await root.run(['users', 'create', '--username', 'gus', '--password-stdin', '--json'], { input: `${DEFAULT_PASSWORD}\n` });
    assert.equal(created.code, 0, created.stderr);

    const noCode = await loginWith(gus, DEFAULT_PASSWORD, []);
    assert.equal(noCode.code, 3, noCode.stderr);
    assert.match(JSON.parse(noCode.stderr).error.otpauthUri, /^otpauth:\/\/totp\//);
    const recovery = await loginWith(gus, DEFAULT_PASSWORD, ['--recovery-code', '00000-00000-00000-00000']);
    assert.equal(recovery.code, 3, recovery.stderr);
    assert.equal(existsSync(gus.sessionFile), false);
    assert.equal(sessionCount('gus'), 0);
  });

  test('app row without secret gets no session', async () => {
    execStore(
      sandbox,
      "INSERT INTO users (username, hashed_password, otp_secret, disabled, role) VALUES ('legacy', ?, NULL, 0, 'user')",
      bcryptHash(DEFAULT_PASSWORD, 10),
    );
    const legacy = new Person(sandbox, 'legacy', DEFAULT_PASSWORD);
    const noCode = await loginWith(legacy, DEFAULT_PASSWORD, []);
    assert.equal(noCode.code, 3, noCode.stderr);
    const wrongCode = await loginWith(legacy, DEFAULT_PASSWORD, ['--otp', '000000']);
    assert.equal(wrongCode.code, 3, wrongCode.stderr);
    clearFailures();
    assert.equal(existsSync(legacy.sessionFile), false);
    assert.equal(sessionCount('legacy'), 0);
  });

  test('wrong recovery codes never write sessions', async () => {
    const pia = new Person(sandbox, 'pia', DEFAULT_PASSWORD);
    const totp = await codes.next(sandbox.secretOf('pia'));
    for (const code of ['00000-00000-00000-00000', '', 'not a code', '0000000000000000000', totp]) {
      clearFailures();
      const result = await loginWith(pia, DEFAULT_PASSWORD, ['--recovery-code', code]);
      assert.equal(result.code, 3, `recovery code "${code}": ${result.stderr}`);
      assert.equal(existsSync(pia.sessionFile), false, `recovery code "${code}" wrote a session file`);
    }
    clearFailures();
    assert.equal(sessionCount('pia'), 0);
  });
});

describe('enumeration by message and time', () => {
  const COST = '12';
  let sandbox: Sandbox;

  before(async () => {
    sandbox = new Sandbox('twofa-enum');
    await sandbox.initAdmin('root', 'correct horse battery');
    // Five users with four attempts each stay below the lock at five, so
    // every response below comes from a full password check.
    for (let index = 0; index < 5; index += 1) {
      execStore(
        sandbox,
        "INSERT INTO users (username, hashed_password, otp_secret, disabled, role, otp_pending) VALUES (?, ?, ?, 0, 'user', 0)",
        `member${index}`,
        bcryptHash(DEFAULT_PASSWORD, Number(COST)),
        K,
      );
    }
  });

  after(() => {
    sandbox.remove();
  });

  async function timedLogin(username: string): Promise<{ result: RunResult; ms: number }> {
    const start = process.hrtime.bigint();
    const result = await sandbox.run(['login', '--username', username, '--password-stdin', '--otp', '000000', '--json'], {
      input: 'wrong password 123\n',
      env: { TWOFA_BCRYPT_COST: COST },
    });
    return { result, ms: Number(process.hrtime.bigint() - start) / 1e6 };
  }

  test('unknown user looks like existing', async (t) => {
    const unknownMs: number[] = [];
    const existingMs: number[] = [];
    const answers = new Set<string>();

    // Alternating the two kinds spreads any load on the machine over both.
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const unknown = await timedLogin('nosuchuser');
      const existing = await timedLogin(`member${attempt % 5}`);
      for (const [label, { result }] of [['nosuchuser', unknown], [`member${attempt % 5}`, existing]] as const) {
        assert.equal(result.code, 3, `${label}, attempt ${attempt}: ${result.stderr}`);
        answers.add(result.stderr);
      }
      unknownMs.push(unknown.ms);
      existingMs.push(existing.ms);
    }

    assert.equal(answers.size, 1, `different answers: ${[...answers].join(' | ')}`);
    const locked = queryStore<{ username: string }>(sandbox, 'SELECT username FROM users WHERE locked_until IS NOT NULL');
    assert.deepEqual(locked, [], 'a lock cut some checks short');

    const unknownMedian = median(unknownMs);
    const existingMedian = median(existingMs);
    const ratio = Math.max(unknownMedian, existingMedian) / Math.min(unknownMedian, existingMedian);
    t.diagnostic(`median nosuchuser ${unknownMedian.toFixed(0)} ms, existing user ${existingMedian.toFixed(0)} ms`);
    assert.ok(ratio < 1.5, `median nosuchuser ${unknownMedian.toFixed(0)} ms, existing user ${existingMedian.toFixed(0)} ms`);
  });
});
