// The enrollment QR code as drawn by a scripted init-admin with --qr: it is
// turned back into an image and decoded with zbarimg, then compared with the
// otpauth URI printed beside it.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Sandbox, type RunResult } from './support/cli.js';
import { BLOCK_CHARACTERS, columns, decodeQr, extractQrLines, printedSecret, printedUri } from './support/qr.js';

const PASSWORD = 'correct horse battery';
const MAX_COLUMNS = 80;

const sandboxes: Sandbox[] = [];
after(() => {
  for (const sandbox of sandboxes) {
    sandbox.remove();
  }
});

/** Runs a scripted init-admin in a new store; fails the test unless it exits 0. */
async function initAdmin(flags: string[], options: { username?: string; env?: Record<string, string> } = {}): Promise<{ result: RunResult; sandbox: Sandbox }> {
  const sandbox = new Sandbox('twofa-qr');
  sandboxes.push(sandbox);
  const username = options.username ?? 'root';
  const result = await sandbox.run(['init-admin', '--username', username, '--password-stdin', ...flags], {
    input: `${PASSWORD}\n`,
    env: options.env ?? {},
  });
  assert.equal(result.code, 0, `init-admin failed: ${result.stderr}`);
  return { result, sandbox };
}

function expectedUri(issuer: string, username: string, secret: string): string {
  return `otpauth://totp/${issuer}:${username}?secret=${secret}&issuer=${issuer}&algorithm=SHA1&digits=6&period=30`;
}

function assertFitsTerminal(lines: string[]): void {
  for (const line of lines) {
    assert.ok(columns(line) <= MAX_COLUMNS, `QR line of ${columns(line)} columns: ${line}`);
  }
}

describe('QR code with --qr and no terminal', () => {
  test('default QR decodes to URI', async () => {
    const { result, sandbox } = await initAdmin(['--qr']);
    const secret = sandbox.secretOf('root');
    const lines = extractQrLines(result.stdout);
    const uri = printedUri(result.stdout);

    assert.ok(lines.length >= 11, `expected a QR drawing of at least 21 modules, got:\n${lines.join('\n')}`);
    assert.equal(uri, expectedUri('twofa', 'root', secret));
    assert.equal(printedSecret(result.stdout), secret);
    assert.equal(decodeQr(lines, 'dark'), uri);
  });

  test('default QR is light on dark', async () => {
    const { result } = await initAdmin(['--qr']);
    const lines = extractQrLines(result.stdout);

    // Read with the colours swapped, the drawing must not decode, which shows
    // that filled halves are the light modules that dark themes need.
    assert.equal(decodeQr(lines, 'light'), null);
  });

  test('QR lines fit 80 columns', async () => {
    const { result } = await initAdmin(['--qr']);
    const lines = extractQrLines(result.stdout);

    assert.ok(lines.length > 0, 'no QR drawn');
    assertFitsTerminal(lines);
    for (const line of lines) {
      assert.match(line, /^[█▀▄ ]+$/, `QR line with other characters than blocks and spaces: ${JSON.stringify(line)}`);
    }
  });

  test('--qr-invert decodes on light theme', async () => {
    const { result } = await initAdmin(['--qr', '--qr-invert']);
    const lines = extractQrLines(result.stdout);
    const uri = printedUri(result.stdout);

    assertFitsTerminal(lines);
    assert.equal(decodeQr(lines, 'light'), uri);
    assert.equal(decodeQr(lines, 'dark'), null);
  });

  for (const flags of [['--qr'], ['--qr', '--qr-invert']]) {
    test(`--json keeps QR out (${flags.join(' ')})`, async () => {
      const { result, sandbox } = await initAdmin([...flags, '--json']);

      assert.doesNotMatch(result.stdout, BLOCK_CHARACTERS);
      assert.doesNotMatch(result.stderr, BLOCK_CHARACTERS);
      const parsed = JSON.parse(result.stdout) as { otpauthUri: unknown; secret: unknown };
      const secret = sandbox.secretOf('root');
      assert.equal(parsed.secret, secret);
      assert.equal(parsed.otpauthUri, expectedUri('twofa', 'root', secret));
    });
  }

  test('piped output prints text, no QR', async () => {
    const { result, sandbox } = await initAdmin([]);
    const secret = sandbox.secretOf('root');

    assert.doesNotMatch(result.stdout, BLOCK_CHARACTERS);
    assert.doesNotMatch(result.stderr, BLOCK_CHARACTERS);
    // Nothing to scan, so the secret is to be typed into the app.
    assert.match(result.stdout, /^Add this secret to an authenticator app to enroll root:$/m);
    assert.doesNotMatch(result.stdout, /Scan this/);
    assert.equal(printedSecret(result.stdout), secret);
    assert.equal(printedUri(result.stdout), expectedUri('twofa', 'root', secret));
  });

  test('long username, spaced issuer decode', async () => {
    const username = 'alexandra.montgomery-smith_admin';
    assert.equal(username.length, 32);
    const env = { TWOFA_ISSUER: 'Acme Co' };

    for (const [flags, theme] of [
      [['--qr'], 'dark'],
      [['--qr', '--qr-invert'], 'light'],
    ] as const) {
      const { result, sandbox } = await initAdmin([...flags], { username, env });
      const lines = extractQrLines(result.stdout);
      const uri = printedUri(result.stdout);

      assert.equal(uri, expectedUri('Acme%20Co', username, sandbox.secretOf(username)));
      assert.ok(uri.startsWith(`otpauth://totp/Acme%20Co:${username}?`), uri);
      assertFitsTerminal(lines);
      assert.equal(decodeQr(lines, theme), uri, `QR for ${theme} theme does not decode to the URI`);
    }
  });

  test('overlong URI stays within 80 columns', async () => {
    // An issuer this long makes a URI of about 700 characters, whose QR code
    // needs more than 80 columns at any error correction level.
    const issuer = Array.from({ length: 25 }, () => 'Acme Co').join(' ');
    const { result, sandbox } = await initAdmin(['--qr'], { env: { TWOFA_ISSUER: issuer } });
    const secret = sandbox.secretOf('root');

    for (const line of result.stdout.split('\n').filter((text) => BLOCK_CHARACTERS.test(text))) {
      assert.ok(columns(line) <= MAX_COLUMNS, `line of ${columns(line)} columns: ${line}`);
    }
    assert.equal(printedSecret(result.stdout), secret);
    assert.equal(printedUri(result.stdout), expectedUri(encodeURIComponent(issuer), 'root', secret));
  });
});
