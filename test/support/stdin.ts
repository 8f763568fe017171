// Runs the built CLI with standard input in a chosen state, to show that
// twofa never waits for input that cannot come.

import { spawn } from 'node:child_process';
import { BIN, type RunResult } from './cli.js';

/**
 * - `empty pipe`: a pipe closed at once, as in `true | twofa ...`.
 * - `open pipe`: a pipe that stays open and silent until twofa exits, as in
 *   `sleep 60 | twofa ...`.
 * - `closed`: file descriptor 0 closed, as in `twofa ... 0<&-`.
 */
export type StdinState = 'empty pipe' | 'open pipe' | 'closed';

export interface TimedResult extends RunResult {
  elapsedMs: number;
}

/** Runs twofa with the given stdin state; kills it after timeoutMs. */
export function runWithStdin(args: string[], env: Record<string, string>, stdin: StdinState, timeoutMs = 10_000): Promise<TimedResult> {
  return new Promise((resolvePromise, reject) => {
    const childEnv: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env })) {
      if (value !== undefined) {
        childEnv[key] = value;
      }
    }

    const started = Date.now();
    const child =
      stdin === 'closed'
        ? spawn('/bin/sh', ['-c', 'exec "$@" 0<&-', 'sh', process.execPath, BIN, ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(process.execPath, [BIN, ...args], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });

    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      const elapsedMs = Date.now() - started;
      clearTimeout(timer);
      child.stdin?.destroy();
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolvePromise({ code, stdout, stderr, json, elapsedMs });
    });

    if (stdin === 'empty pipe') {
      child.stdin?.end();
    }
    // An open pipe gets neither data nor end-of-file while twofa runs. A
    // write error after twofa exits is expected and ignored.
    child.stdin?.on('error', () => undefined);
  });
}
