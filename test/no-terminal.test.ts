// Scripted use without a terminal. A missing value is an error that names
// the flag which supplies it, at once, whatever state standard input is in.
// Output carries no colour, and a --json error is one JSON object.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Sandbox, type RunResult } from './support/cli.js';
import { runWithStdin, type StdinState } from './support/stdin.js';

const PASSWORD = 'correct horse battery';
/** A generous bound: twofa must fail at once, not after waiting for input. */
const MAX_ELAPSED_MS = 1000;
const ESCAPE = '\x1b[';

interface MissingValueCase {
  name: string;
  args: string[];
  env?: Record<string, string>;
  /** The flag the message must name. */
  flag: string;
  /** Which store the command runs against. */
  store: 'empty' | 'admin';
}

const CASES: MissingValueCase[] = [
  { name: 'init-admin without --username', args: ['init-admin'], flag: '--username', store: 'empty' },
  { name: 'init-admin without password', args: ['init-admin', '--username', 'root'], flag: '--password-stdin', store: 'empty' },
  { name: 'login without --username', args: ['login'], flag: '--username', store: 'admin' },
  { name: 'login without password', args: ['login', '--username', 'root'], flag: '--password-stdin', store: 'admin' },
  { name: 'login without --otp, enrolled', args: ['login', '--username', 'root'], env: { TWOFA_PASSWORD: PASSWORD }, flag: '--otp', store: 'admin' },
  { name: 'users create without --username', args: ['users', 'create'], flag: '--username', store: 'admin' },
  { name: 'users create without password', args: ['users', 'create', '--username', 'bob'], flag: '--password-stdin', store: 'admin' },
  {
    name: 'password change without new password',
    args: ['users', 'update', '--change-password'],
    env: { TWOFA_PASSWORD: PASSWORD },
    flag: '--new-password-stdin',
    store: 'admin',
  },
  { name: 'password change without current password', args: ['users', 'update', '--change-password'], flag: '--password-stdin', store: 'admin' },
];

const STDIN_STATES: Array<{ label: string; stdin: StdinState; extraFlags: string[] }> = [
  { label: 'empty pipe', stdin: 'empty pipe', extraFlags: [] },
  { label: 'open pipe', stdin: 'open pipe', extraFlags: [] },
  { label: 'closed stdin', stdin: 'closed', extraFlags: [] },
  { label: '--no-input', stdin: 'empty pipe', extraFlags: ['--no-input'] },
];

let emptyStore: Sandbox;
let adminStore: Sandbox;

before(async () => {
  emptyStore = new Sandbox('twofa-noterm');
  adminStore = new Sandbox('twofa-noterm');
  await adminStore.initAdmin('root', PASSWORD);
  const login = await adminStore.login('root', PASSWORD);
  assert.equal(login.code, 0, `admin login failed: ${login.stderr}`);
});

after(() => {
  emptyStore.remove();
  adminStore.remove();
});

function storeFor(testCase: MissingValueCase): Sandbox {
  return testCase.store === 'empty' ? emptyStore : adminStore;
}

function assertNoStackTrace(text: string, context: string): void {
  assert.doesNotMatch(text, /^\s+at /m, `${context}: stack trace in ${JSON.stringify(text)}`);
}

function assertNoEscapes(result: RunResult, context: string): void {
  assert.ok(!result.stdout.includes(ESCAPE), `${context}: escape code on stdout: ${JSON.stringify(result.stdout)}`);
  assert.ok(!result.stderr.includes(ESCAPE), `${context}: escape code on stderr: ${JSON.stringify(result.stderr)}`);
}

/** Parses stderr as exactly one JSON error object; fails the test otherwise. */
function parseJsonError(stderr: string, context: string): { code: unknown; message: unknown } {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${context}: expected one line on stderr, got ${JSON.stringify(stderr)}`);
  const parsed = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), ['error'], `${context}: ${stderr}`);
  const error = parsed.error as Record<string, unknown>;
  assert.equal(typeof error.code, 'string', `${context}: error.code in ${stderr}`);
  assert.equal(typeof error.message, 'string', `${context}: error.message in ${stderr}`);
  return { code: error.code, message: error.message };
}

for (const testCase of CASES) {
  describe(testCase.name, () => {
    for (const state of STDIN_STATES) {
      test(`${state.label}: exits 2, names flag`, async () => {
        const sandbox = storeFor(testCase);
        const result = await runWithStdin([...testCase.args, ...state.extraFlags], { ...sandbox.env, ...testCase.env }, state.stdin);
        const context = `${testCase.args.join(' ')} with ${state.label}`;

        assert.equal(result.code, 2, `${context}: exit ${result.code}, stderr ${result.stderr}`);
        assert.ok(result.elapsedMs < MAX_ELAPSED_MS, `${context}: took ${result.elapsedMs} ms`);
        assert.equal(result.stdout, '', `${context}: stdout`);
        const lines = result.stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, `${context}: expected a one-line message, got ${JSON.stringify(result.stderr)}`);
        assert.match(lines[0] ?? '', /^error: /, context);
        assert.ok(result.stderr.includes(testCase.flag), `${context}: message does not name ${testCase.flag}: ${result.stderr}`);
        assertNoStackTrace(result.stderr, context);
        assertNoEscapes(result, context);
      });
    }

    test('--json: one error object', async () => {
      const sandbox = storeFor(testCase);
      const result = await runWithStdin([...testCase.args, '--json'], { ...sandbox.env, ...testCase.env }, 'empty pipe');
      const context = `${testCase.args.join(' ')} --json`;

      assert.equal(result.code, 2, `${context}: exit ${result.code}, stderr ${result.stderr}`);
      assert.equal(result.stdout, '', `${context}: stdout`);
      const error = parseJsonError(result.stderr, context);
      assert.equal(error.code, 'missing_value');
      assert.ok(String(error.message).includes(testCase.flag), `${context}: message does not name ${testCase.flag}: ${result.stderr}`);
      assertNoEscapes(result, context);
    });
  });
}

describe('missing values leave store alone', () => {
  test('failed init-admin creates no user', async () => {
    const sandbox = new Sandbox('twofa-noterm');
    try {
      const result = await sandbox.run(['init-admin', '--username', 'root']);
      assert.equal(result.code, 2, result.stderr);
      const retry = await sandbox.run(['init-admin', '--username', 'root', '--password-stdin', '--json'], { input: `${PASSWORD}\n` });
      assert.equal(retry.code, 0, `init-admin after the failed one: ${retry.stderr}`);
      assert.equal(retry.json.user.id, 1);
    } finally {
      sandbox.remove();
    }
  });
});

describe('no colour without a terminal', () => {
  for (const env of [{}, { NO_COLOR: '1' }]) {
    const label = 'NO_COLOR' in env ? 'NO_COLOR=1' : 'piped';
    test(`${label}: success output plain`, async () => {
      const sandbox = new Sandbox('twofa-noterm');
      try {
        const init = await sandbox.run(['init-admin', '--username', 'root', '--password-stdin', '--qr'], { input: `${PASSWORD}\n`, env });
        assert.equal(init.code, 0, init.stderr);
        assertNoEscapes(init, 'init-admin --qr');

        const login = await sandbox.login('root', PASSWORD);
        assert.equal(login.code, 0, login.stderr);
        for (const args of [['users', 'me'], ['users', 'list'], ['audit'], ['users', 'create', '--username', 'bob', '--random-password']]) {
          const result = await sandbox.run(args, { env });
          assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
          assertNoEscapes(result, args.join(' '));
        }
      } finally {
        sandbox.remove();
      }
    });

    test(`${label}: error output plain`, async () => {
      const wrongPassword = await adminStore.run(['login', '--username', 'root', '--password-stdin', '--otp', '000000'], {
        input: 'not the password\n',
        env,
      });
      assert.equal(wrongPassword.code, 3, wrongPassword.stderr);
      assertNoEscapes(wrongPassword, 'login with a wrong password');

      const unknownUser = await adminStore.run(['users', 'get', 'nobody'], { env });
      assert.equal(unknownUser.code, 5, unknownUser.stderr);
      assertNoEscapes(unknownUser, 'users get nobody');

      const badFlag = await adminStore.run(['users', 'list', '--bogus'], { env });
      assert.equal(badFlag.code, 2, badFlag.stderr);
      assertNoEscapes(badFlag, 'users list --bogus');
    });
  }
});

describe('JSON errors', () => {
  test('wrong password: one error object', async () => {
    const result = await adminStore.run(['login', '--username', 'root', '--password-stdin', '--otp', '000000', '--json'], {
      input: 'not the password\n',
    });

    assert.equal(result.code, 3, result.stderr);
    assert.equal(result.stdout, '');
    const error = parseJsonError(result.stderr, 'login with a wrong password');
    assert.equal(error.code, 'login_failed');
  });

  test('not found: one error object', async () => {
    const result = await adminStore.run(['users', 'get', 'nobody', '--json']);

    assert.equal(result.code, 5, result.stderr);
    assert.equal(result.stdout, '');
    const error = parseJsonError(result.stderr, 'users get nobody');
    assert.equal(error.code, 'not_found');
  });
});

describe('unknown flags', () => {
  for (const args of [
    ['init-admin', '--bogus'],
    ['--bogus', 'users', 'me'],
    ['users', 'list', '--bogus'],
  ]) {
    test(`${args.join(' ')} exits 2, names it`, async () => {
      const result = await adminStore.run(args);

      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `expected a one-line message, got ${JSON.stringify(result.stderr)}`);
      assert.match(lines[0] ?? '', /^error: .*--bogus/);
      assertNoStackTrace(result.stderr, args.join(' '));
      assertNoEscapes(result, args.join(' '));
    });
  }

  test('unknown flag with --json', async () => {
    const result = await adminStore.run(['users', 'list', '--bogus', '--json']);

    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    const error = parseJsonError(result.stderr, 'users list --bogus --json');
    assert.equal(error.code, 'usage');
    assert.match(String(error.message), /--bogus/);
  });

  test('misspelled flag: one-line message', async () => {
    const result = await adminStore.run(['init-admin', '--usrname', 'root']);

    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--usrname/);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, `expected a one-line message, got ${JSON.stringify(result.stderr)}`);
  });
});
