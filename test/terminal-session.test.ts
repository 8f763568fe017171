// twofa at a real terminal: each test starts a tmux server, types into the
// prompts, reads the screen, and checks the store afterwards.

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { describe, test, type TestContext } from 'node:test';
import { BIN, ROOT, Sandbox, codes } from './support/cli.js';
import { decodeQr, extractQrLines, printedSecret, printedUri } from './support/qr.js';
import { Terminal } from './support/tmux.js';
import { displayWidth } from '../src/cli/table.js';

const ADMIN_PASSWORD = 'correct horse battery';
const BOB_PASSWORD = 'purple monkey dishwasher';
const BOB_NEW_PASSWORD = 'seven lemon tigers waltz';
const ESCAPE = '\x1b[';
const EXIT_CANCELLED = 130;

const TWOFA = `'${BIN.replace(/'/g, `'\\''`)}'`;

/** Creates a store and a terminal whose shell has TWOFA_DB, TWOFA_STATE_DIR and TWOFA_BCRYPT_COST set; the test removes both when it ends. */
function setUp(t: TestContext, size: { width?: number } = {}): { sandbox: Sandbox; terminal: Terminal } {
  const sandbox = new Sandbox('twofa-tty');
  const terminal = Terminal.start({ env: sandbox.env, cwd: ROOT, ...size });
  t.after(() => {
    terminal.kill();
    sandbox.remove();
  });
  return { sandbox, terminal };
}

function userRow(sandbox: Sandbox, username: string): Record<string, unknown> | undefined {
  if (!existsSync(sandbox.db)) {
    return undefined;
  }
  const db = sandbox.open();
  try {
    return db.prepare('SELECT * FROM users WHERE username = ?').get(username) as Record<string, unknown> | undefined;
  } finally {
    db.close();
  }
}

function countRows(sandbox: Sandbox, table: 'users' | 'sessions'): number {
  if (!existsSync(sandbox.db)) {
    return 0;
  }
  const db = sandbox.open();
  try {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
    return hasTable ? (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n : 0;
  } finally {
    db.close();
  }
}

/** Returns the index of the first line matching each pattern; fails when one is missing. */
function lineIndexes(screen: string, patterns: RegExp[]): number[] {
  const lines = screen.split('\n');
  return patterns.map((pattern) => {
    const index = lines.findIndex((line) => pattern.test(line));
    assert.ok(index >= 0, `no line matches ${String(pattern)} on the screen:\n${screen}`);
    return index;
  });
}

function assertAscending(indexes: number[], description: string): void {
  for (let i = 1; i < indexes.length; i += 1) {
    assert.ok((indexes[i] ?? 0) > (indexes[i - 1] ?? 0), `${description} out of order: lines ${indexes.join(', ')}`);
  }
}

/** Returns the recovery codes listed under the "Recovery codes" heading. */
function recoveryCodes(screen: string): string[] {
  const lines = screen.split('\n');
  const heading = lines.findIndex((line) => line.includes('Recovery codes'));
  assert.ok(heading >= 0, `no recovery codes on the screen:\n${screen}`);
  const listed: string[] = [];
  for (const line of lines.slice(heading + 1)) {
    if (line.trim() === '' || /^EXIT\d+=/.test(line)) {
      break;
    }
    listed.push(line.trim());
  }
  return listed;
}

/** Types a password at a masked prompt and checks that only asterisks show. */
async function typeMasked(terminal: Terminal, label: RegExp, password: string): Promise<void> {
  await terminal.waitFor(new RegExp(`\\? ${label.source}`));
  terminal.type(password);
  const screen = await terminal.waitFor(new RegExp(`\\? ${label.source} \\*{${password.length}}(?!\\*)`));
  assert.ok(!screen.includes(password), `the password shows on the screen:\n${screen}`);
  terminal.press('Enter');
}

/** Reads the QR code off the screen and checks it decodes to the URI screen beside it. */
function assertQrOnScreen(screen: string): string {
  const lines = extractQrLines(screen);
  const uri = printedUri(screen);
  assert.ok(lines.length > 0, `no QR code on the screen:\n${screen}`);
  assert.equal(decodeQr(lines, 'dark'), uri, 'the QR code on the screen does not decode to the URI');
  return uri;
}

/** Creates root (enrolled, logged in) and bob (enrollment pending) with scripted commands. */
async function adminWithPendingBob(sandbox: Sandbox): Promise<void> {
  await sandbox.initAdmin('root', ADMIN_PASSWORD);
  const login = await sandbox.login('root', ADMIN_PASSWORD);
  assert.equal(login.code, 0, `root login failed: ${login.stderr}`);
  await sandbox.createUser('bob', BOB_PASSWORD);
}

describe('interactive init-admin', () => {
  test('prompts, masks and enrolls admin', async (t) => {
    const { sandbox, terminal } = setUp(t);
    terminal.runCommand(`${TWOFA} init-admin`);

    let screen = await terminal.waitFor('? Username');
    assert.doesNotMatch(screen, /Email|Full name|Password/);
    terminal.typeLine('root');
    screen = await terminal.waitFor('? Email');
    assert.doesNotMatch(screen, /Full name|Password/);
    terminal.typeLine('root@example.com');
    screen = await terminal.waitFor('? Full name');
    assert.doesNotMatch(screen, /Password/);
    terminal.typeLine('Root Admin');
    await typeMasked(terminal, /Password/, ADMIN_PASSWORD);
    await typeMasked(terminal, /Password \(again\)/, ADMIN_PASSWORD);

    screen = await terminal.waitFor('? Code from the app');
    const secret = printedSecret(screen);
    const uri = assertQrOnScreen(screen);
    assert.equal(uri, `otpauth://totp/twofa:root?secret=${secret}&issuer=twofa&algorithm=SHA1&digits=6&period=30`);
    // The admin is written only once the first code confirms the enrollment.
    assert.equal(userRow(sandbox, 'root'), undefined, 'the admin was written before any code was typed');

    terminal.typeLine(await codes.next(secret));
    assert.equal(await terminal.waitForExit(), 0);
    assert.equal(sandbox.secretOf('root'), secret);
    screen = terminal.output();

    const order = lineIndexes(screen, [
      /Username\s+root\s*$/,
      /Email.*\s+root@example\.com\s*$/,
      /Full name.*\s+Root Admin\s*$/,
      /Password\s+\*+\s*$/,
      /Password \(again\)\s+\*+\s*$/,
      /Code from the app/,
    ]);
    assertAscending(order, 'prompts');
    const listed = recoveryCodes(screen);
    assert.equal(listed.length, 10, `expected 10 recovery codes, got:\n${listed.join('\n')}`);
    assert.equal(new Set(listed).size, 10, 'recovery codes repeat');
    assert.ok(!terminal.capture().includes(ADMIN_PASSWORD), 'the password shows in the terminal history');

    const row = userRow(sandbox, 'root');
    assert.equal(row?.otp_pending, 0);
    assert.equal(row?.role, 'admin');
    assert.equal(row?.email, 'root@example.com');
    assert.equal(row?.full_name, 'Root Admin');
  });

  test('Ctrl-C at password writes nothing', async (t) => {
    const { sandbox, terminal } = setUp(t);
    terminal.runCommand(`${TWOFA} init-admin`);

    await terminal.waitFor('? Username');
    terminal.typeLine('root');
    await terminal.waitFor('? Email');
    terminal.typeLine('');
    await terminal.waitFor('? Full name');
    terminal.typeLine('');
    await terminal.waitFor('? Password');
    terminal.type('half a pass');
    terminal.press('C-c');

    assert.equal(await terminal.waitForExit(), EXIT_CANCELLED);
    assert.equal(countRows(sandbox, 'users'), 0, 'a user row was written');
    assert.ok(!existsSync(sandbox.stateDir) || readdirSync(sandbox.stateDir).length === 0, 'a session file was written');
  });

  test(
    'Ctrl-C at code writes nothing',
    async (t) => {
      const { sandbox, terminal } = setUp(t);
      terminal.runCommand(`${TWOFA} init-admin --username root`);

      await typeMasked(terminal, /Password/, ADMIN_PASSWORD);
      await typeMasked(terminal, /Password \(again\)/, ADMIN_PASSWORD);
      await terminal.waitFor('? Code from the app');
      terminal.press('C-c');

      assert.equal(await terminal.waitForExit(), EXIT_CANCELLED);
      assert.equal(countRows(sandbox, 'users'), 0, 'the admin row stays after Ctrl-C');
      assert.equal(existsSync(sandbox.db), false, 'a store file was created before the admin');
    },
  );

  test('--no-input never prompts', async (t) => {
    const { sandbox, terminal } = setUp(t);
    const started = Date.now();
    terminal.runCommand(`${TWOFA} --no-input init-admin`);

    assert.equal(await terminal.waitForExit(), 2);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    const screen = terminal.output();
    assert.doesNotMatch(screen, /\? Username/);
    assert.match(screen, /error: .*--username/);
    assert.equal(countRows(sandbox, 'users'), 0);
  });
});

describe('interactive first login', () => {
  test('pending user enrolls at login', async (t) => {
    const { sandbox, terminal } = setUp(t);
    await adminWithPendingBob(sandbox);
    const secret = sandbox.secretOf('bob');
    terminal.runCommand(`${TWOFA} login`);

    await terminal.waitFor('? Username');
    terminal.typeLine('bob');
    await typeMasked(terminal, /Password/, BOB_PASSWORD);

    let screen = await terminal.waitFor('? Code from the app');
    assert.match(screen, /enrollment is pending/i);
    assert.equal(printedSecret(screen), secret);
    const uri = assertQrOnScreen(screen);
    assert.ok(uri.startsWith('otpauth://totp/twofa:bob?'), uri);
    assert.ok(uri.includes(`secret=${secret}&`), uri);

    terminal.typeLine(await codes.next(secret));
    assert.equal(await terminal.waitForExit(), 0);
    screen = terminal.output();
    assert.match(screen, /Logged in as bob/);
    const listed = recoveryCodes(screen);
    assert.equal(listed.length, 10, `expected 10 recovery codes, got:\n${listed.join('\n')}`);
    assert.ok(!terminal.capture().includes(BOB_PASSWORD), 'the password shows in the terminal history');

    assert.equal(userRow(sandbox, 'bob')?.otp_pending, 0);
    const me = await sandbox.run(['users', 'me', '--json']);
    assert.equal(me.code, 0, me.stderr);
    assert.equal(me.json.username, 'bob');
    assert.equal(me.json.otpEnrolled, true);
  });

  test('short code is asked again', async (t) => {
    const { sandbox, terminal } = setUp(t);
    await adminWithPendingBob(sandbox);
    terminal.runCommand(`${TWOFA} login --username bob`);
    await typeMasked(terminal, /Password/, BOB_PASSWORD);
    await terminal.waitFor('? Code from the app');

    terminal.typeLine('12');
    await terminal.waitFor(/That is not a 6-digit code; type the code the app shows\.[\s\S]*\? Code from the app/);
    terminal.typeLine(await codes.next(sandbox.secretOf('bob')));

    assert.equal(await terminal.waitForExit(), 0);
    assert.match(terminal.output(), /Logged in as bob/);
  });

  test('Ctrl-C at code starts no session', async (t) => {
    const { sandbox, terminal } = setUp(t);
    await adminWithPendingBob(sandbox);
    const sessionsBefore = countRows(sandbox, 'sessions');
    terminal.runCommand(`${TWOFA} login --username bob`);

    await typeMasked(terminal, /Password/, BOB_PASSWORD);
    await terminal.waitFor('? Code from the app');
    terminal.press('C-c');

    assert.equal(await terminal.waitForExit(), EXIT_CANCELLED);
    assert.equal(countRows(sandbox, 'sessions'), sessionsBefore, 'a session was created');
    assert.equal(userRow(sandbox, 'bob')?.otp_pending, 1, 'the enrollment was confirmed');
    const me = await sandbox.run(['users', 'me', '--json']);
    assert.equal(me.json?.username, 'root', 'the saved session is no longer the one of root');
  });
});

describe('interactive password change', () => {
  /** Creates bob, enrolled and logged in, with scripted commands. */
  async function bobLoggedIn(sandbox: Sandbox): Promise<void> {
    await adminWithPendingBob(sandbox);
    const login = await sandbox.login('bob', BOB_PASSWORD);
    assert.equal(login.code, 0, `bob login failed: ${login.stderr}`);
  }

  test('asks current, then new twice', async (t) => {
    const { sandbox, terminal } = setUp(t);
    await bobLoggedIn(sandbox);
    terminal.runCommand(`${TWOFA} users update --change-password`);

    await typeMasked(terminal, /Current password/, BOB_PASSWORD);
    await typeMasked(terminal, /New password/, BOB_NEW_PASSWORD);
    await typeMasked(terminal, /New password \(again\)/, BOB_NEW_PASSWORD);

    assert.equal(await terminal.waitForExit(), 0);
    const screen = terminal.output();
    assertAscending(lineIndexes(screen, [/Current password\s+\*+\s*$/, /New password\s+\*+\s*$/, /New password \(again\)\s+\*+\s*$/]), 'prompts');
    const history = terminal.capture();
    assert.ok(!history.includes(BOB_PASSWORD), 'the current password shows in the terminal history');
    assert.ok(!history.includes(BOB_NEW_PASSWORD), 'the new password shows in the terminal history');

    const withNew = await sandbox.login('bob', BOB_NEW_PASSWORD);
    assert.equal(withNew.code, 0, `login with the new password: ${withNew.stderr}`);
    const withOld = await sandbox.login('bob', BOB_PASSWORD);
    assert.equal(withOld.code, 3, 'login with the old password still works');
  });

  test('current password as new is rejected', async (t) => {
    const { sandbox, terminal } = setUp(t);
    await bobLoggedIn(sandbox);
    terminal.runCommand(`${TWOFA} users update --change-password`);

    await typeMasked(terminal, /Current password/, BOB_PASSWORD);
    await typeMasked(terminal, /New password/, BOB_PASSWORD);
    await terminal.waitFor(/equals the current password[\s\S]*\? New password/);
    // The rejected entry must be gone: typing now starts a new password.
    terminal.typeLine(BOB_NEW_PASSWORD);
    await typeMasked(terminal, /New password \(again\)/, BOB_NEW_PASSWORD);

    assert.equal(await terminal.waitForExit(), 0);
    const withNew = await sandbox.login('bob', BOB_NEW_PASSWORD);
    assert.equal(withNew.code, 0, `login with the new password: ${withNew.stderr}`);
  });

  test('mismatched new passwords are asked again', async (t) => {
    const { sandbox, terminal } = setUp(t);
    await bobLoggedIn(sandbox);
    terminal.runCommand(`${TWOFA} users update --change-password`);

    await typeMasked(terminal, /Current password/, BOB_PASSWORD);
    await typeMasked(terminal, /New password/, BOB_NEW_PASSWORD);
    await typeMasked(terminal, /New password \(again\)/, `${BOB_NEW_PASSWORD}!`);

    await terminal.waitFor(/differ; type the new one again[\s\S]*\? New password/);
    terminal.press('C-c');
    assert.equal(await terminal.waitForExit(), 130);
    const withOld = await sandbox.login('bob', BOB_PASSWORD);
    assert.equal(withOld.code, 0, `login with the unchanged password: ${withOld.stderr}`);
  });
});

describe('tables at a terminal', () => {
  const longName = 'Carolina Esperanza de los Santos y Montenegro';
  const longEmail = 'carolina.esperanza.montenegro@example.com';

  // At their narrowest, the eight columns of users list take 96 columns.
  test('list fits a 100-column terminal', async (t) => {
    const { sandbox, terminal } = setUp(t, { width: 100 });
    await adminWithPendingBob(sandbox);
    await sandbox.createUser('carol', BOB_PASSWORD, ['--full-name', longName, '--email', longEmail]);
    terminal.runCommand(`${TWOFA} users list`);

    assert.equal(await terminal.waitForExit(), 0);
    const tableLines = terminal.output().split('\n').filter((line) => /^[┌├│└]/.test(line));
    assert.equal(tableLines.length, 7, terminal.output());
    for (const line of tableLines) {
      assert.ok(displayWidth(line) <= 100, `wider than the terminal: ${line}`);
    }
    const carol = tableLines.find((line) => line.includes(' carol ')) ?? '';
    assert.match(carol, /Carolina[^│]*…/);
    assert.doesNotMatch(carol, /Montenegro/);

    const piped = await sandbox.run(['users', 'list']);
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok(piped.stdout.includes(longName), 'a piped table cut the full name');
    assert.ok(piped.stdout.includes(longEmail), 'a piped table cut the email');
  });
});

describe('colour at a terminal', () => {
  test('errors are coloured by default', async (t) => {
    const { sandbox, terminal } = setUp(t);
    await sandbox.initAdmin();
    terminal.runCommand(`${TWOFA} users me`);

    assert.equal(await terminal.waitForExit(), 3);
    const screen = terminal.output(terminal.captureWithEscapes());
    assert.match(screen, /not logged in/);
    assert.ok(screen.includes(ESCAPE), `no colour in:\n${JSON.stringify(screen)}`);
  });

  for (const [label, prefix, suffix] of [
    ['NO_COLOR=1', 'NO_COLOR=1 ', ''],
    ['TERM=dumb', 'TERM=dumb ', ''],
    ['--no-color', '', ' --no-color'],
  ] as const) {
    test(`${label}: errors without colour`, async (t) => {
      const { sandbox, terminal } = setUp(t);
      await sandbox.initAdmin();
      terminal.runCommand(`${prefix}${TWOFA} users me${suffix}`);

      assert.equal(await terminal.waitForExit(), 3);
      const screen = terminal.output(terminal.captureWithEscapes());
      assert.match(screen, /not logged in/);
      assert.ok(!screen.includes(ESCAPE), `colour in:\n${JSON.stringify(screen)}`);
    });
  }

  for (const [label, prefix, suffix, todo] of [
    ['default', '', '', undefined],
    ['NO_COLOR=1', 'NO_COLOR=1 ', '', undefined],
    ['TERM=dumb', 'TERM=dumb ', '', undefined],
    ['--no-color', '', ' --no-color', undefined],
  ] as const) {
    const colourExpected = label === 'default';
    test(`${label}: prompt ${colourExpected ? 'coloured' : 'without colour'}`, todo ? { todo } : {}, async (t) => {
      const { terminal } = setUp(t);
      terminal.runCommand(`${prefix}${TWOFA} init-admin${suffix}`);

      await terminal.waitFor('? Username');
      terminal.type('ro');
      await terminal.waitFor('? Username ro');
      const screen = terminal.output(terminal.captureWithEscapes());
      terminal.press('C-c');
      assert.equal(await terminal.waitForExit(), EXIT_CANCELLED);
      assert.equal(screen.includes(ESCAPE), colourExpected, `prompt as captured:\n${JSON.stringify(screen)}`);
    });
  }
});
