// Drives a real terminal, so that a test types into twofa's prompts and reads
// the screen as a person would. Each Terminal is a detached tmux session on a
// server of its own, whose socket is in a temporary folder (tmux -S).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface TerminalOptions {
  /** Variables set inside the session, on top of PATH, HOME and the locale. */
  env: Record<string, string>;
  cwd?: string;
  width?: number;
  height?: number;
}

/** Polling interval and default timeout of waitFor, in milliseconds. */
const POLL_MS = 50;
export const WAIT_TIMEOUT_MS = 8000;

export class Terminal {
  /** Folder of the server socket, removed by kill. */
  private readonly socketDir: string;
  private commandCount = 0;

  private constructor(socketDir: string) {
    this.socketDir = socketDir;
  }

  /** Starts a tmux server with one 120x50 pane (by default) running a bare bash. */
  static start(options: TerminalOptions): Terminal {
    const terminal = new Terminal(mkdtempSync(join(tmpdir(), 'twofa-tmux-')));
    const args = ['new-session', '-d', '-s', 'main', '-x', String(options.width ?? 120), '-y', String(options.height ?? 50)];
    for (const [name, value] of Object.entries(options.env)) {
      args.push('-e', `${name}=${value}`);
    }
    if (options.cwd !== undefined) {
      args.push('-c', options.cwd);
    }
    args.push("env PS1='$ ' bash --norc --noprofile");
    terminal.tmux(args);
    return terminal;
  }

  /** Types text literally, without pressing Enter. */
  type(text: string): void {
    this.tmux(['send-keys', '-t', 'main', '-l', text]);
  }

  /** Presses keys by tmux name, such as Enter or C-c. */
  press(...keys: string[]): void {
    this.tmux(['send-keys', '-t', 'main', ...keys]);
  }

  /** Types a line and presses Enter. */
  typeLine(text: string): void {
    if (text !== '') {
      this.type(text);
    }
    this.press('Enter');
  }

  /**
   * Runs a command line in the pane's shell, followed by an echo of its exit
   * status, which waitForExit reads.
   */
  runCommand(line: string): void {
    this.commandCount += 1;
    this.typeLine(`${line}; echo "EXIT${this.commandCount}=$?"`);
  }

  /** Returns the pane history and screen as text, with wrapped lines joined. */
  capture(): string {
    return this.tmux(['capture-pane', '-p', '-J', '-S', '-', '-t', 'main']);
  }

  /** Returns the pane history and screen with colours and other attributes as escape sequences. */
  captureWithEscapes(): string {
    return this.tmux(['capture-pane', '-p', '-e', '-J', '-S', '-', '-t', 'main']);
  }

  /** Returns what the last command started with runCommand has printed so far. */
  output(screen = this.capture()): string {
    const marker = `echo "EXIT${this.commandCount}=$?"`;
    const start = screen.lastIndexOf(marker);
    if (start < 0) {
      return screen;
    }
    const lineEnd = screen.indexOf('\n', start);
    return lineEnd < 0 ? '' : screen.slice(lineEnd + 1);
  }

  /** Polls the last command's output until it matches; returns that output. */
  async waitFor(expected: RegExp | string, timeoutMs = WAIT_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const printed = this.output();
      if (typeof expected === 'string' ? printed.includes(expected) : expected.test(printed)) {
        return printed;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${String(expected)}; the terminal shows:\n${printed}`);
      }
      await delay(POLL_MS);
    }
  }

  /** Waits until the last command finishes and returns its exit status. */
  async waitForExit(timeoutMs = WAIT_TIMEOUT_MS): Promise<number> {
    const pattern = new RegExp(`EXIT${this.commandCount}=(\\d+)`);
    const printed = await this.waitFor(pattern, timeoutMs);
    return Number(pattern.exec(printed)?.[1]);
  }

  /** Stops the tmux server and everything running in it, and removes its socket. */
  kill(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      // The server is gone already.
    }
    rmSync(this.socketDir, { recursive: true, force: true });
  }

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-u', '-f', '/dev/null', '-S', join(this.socketDir, 'socket'), ...args], {
      encoding: 'utf8',
      env: serverEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
}

/**
 * Builds the environment of the tmux server and so of its shell. It is the
 * test's own, without a surrounding tmux session or the colour and twofa
 * settings that would change what twofa prints.
 */
function serverEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith('TWOFA_') || name.startsWith('TMUX') || name === 'NO_COLOR' || name === 'FORCE_COLOR') {
      continue;
    }
    env[name] = value;
  }
  env.TERM = 'xterm-256color';
  env.LANG = 'C.UTF-8';
  return env;
}
