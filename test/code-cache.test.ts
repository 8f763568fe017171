// The launcher's V8 code cache: written once per command, made anew for a
// changed bundle, and never a reason for a command to fail. Each test runs a
// copy of dist/ in a temporary folder, so the real cache stays untouched.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { makeUnwritable, makeWritable } from './support/checks.js';
import { ROOT } from './support/cli.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('code cache', () => {
  let folder = '';
  let dist = '';
  let bundle = '';
  let cache = '';

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'twofa-code-cache-'));
    dist = join(folder, 'dist');
    cpSync(join(ROOT, 'dist'), dist, { recursive: true, filter: (source) => !source.endsWith('.cache') });
    symlinkSync(join(ROOT, 'node_modules'), join(folder, 'node_modules'));
    bundle = join(dist, 'cli.cjs');
    cache = join(dist, 'cli.cjs.cache');
  });

  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  function run(args: string[], env: Record<string, string> = {}) {
    const result = spawnSync(process.execPath, [join(dist, 'launcher.cjs'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, TWOFA_STATE_DIR: join(folder, 'state'), ...env },
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  function header(): { source: string; commands: string[] } {
    const bytes = readFileSync(cache);
    return JSON.parse(bytes.subarray(0, bytes.indexOf(10)).toString('utf8'));
  }

  function bundleKey(): string {
    const stats = statSync(bundle, { bigint: true });
    return `${stats.size}-${stats.mtimeNs}-${stats.ino}`;
  }

  test('first run writes the cache', () => {
    const result = run(['--version']);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${VERSION}\n`);
    assert.equal(result.stderr, '');
    assert.deepEqual(header(), { source: bundleKey(), commands: ['--version'] });
  });

  test('adds each command once', () => {
    const missingStore = join(folder, 'missing.db');
    run(['--version']);
    run(['users', 'me', '--db', missingStore]);
    const written = statSync(cache, { bigint: true }).mtimeNs;
    const again = run(['users', 'me', '--db', missingStore]);

    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stderr, /no store at/);
    assert.deepEqual(header().commands, ['--version', 'users me']);
    assert.equal(statSync(cache, { bigint: true }).mtimeNs, written, 'a covered command wrote the cache again');
  });

  test('changed bundle of equal size runs anew', () => {
    run(['--version']);
    // The same length, so only the modification time distinguishes the old cache.
    const changedVersion = `9${VERSION.slice(1)}`;
    const source = readFileSync(bundle, 'utf8');
    assert.equal(source.split(`"${VERSION}"`).length, 2, 'the bundle should contain the version string once');
    writeFileSync(bundle, source.replace(`"${VERSION}"`, `"${changedVersion}"`));

    const result = run(['--version']);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${changedVersion}\n`);
    assert.deepEqual(header(), { source: bundleKey(), commands: ['--version'] });
  });

  test('damaged cache is replaced', () => {
    writeFileSync(cache, 'not a cache\nat all');

    const result = run(['--version']);

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${VERSION}\n`);
    assert.equal(result.stderr, '');
    assert.deepEqual(header(), { source: bundleKey(), commands: ['--version'] });
  });

  test('TWOFA_CODE_CACHE=0 writes none', () => {
    const result = run(['--version'], { TWOFA_CODE_CACHE: '0' });

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${VERSION}\n`);
    assert.equal(existsSync(cache), false);
  });

  test('read-only install runs without cache', (t) => {
    const protection = makeUnwritable(dist);
    if (protection === null) {
      t.skip('cannot make a folder unwritable for root here: chattr +i failed');
      return;
    }
    try {
      const result = run(['--version']);

      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${VERSION}\n`);
      assert.equal(result.stderr, '');
      assert.equal(existsSync(cache), false);
    } finally {
      makeWritable(dist, protection);
    }
  });
});
