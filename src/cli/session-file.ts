// The local session file: one token per store, keyed by the store's absolute
// path, in a 0700 folder as a 0600 file that is replaced atomically.

import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import envPaths from 'env-paths';
import { AuthError, InputError } from '../core/errors.js';

interface SessionFileContent {
  version: 1;
  sessions: Record<string, { token: string; expiresAt: string }>;
}

const FILE_NAME = 'sessions.json';

/**
 * Returns the folder for session files: TWOFA_STATE_DIR, else
 * $XDG_STATE_HOME/twofa, else ~/.local/state/twofa.
 */
export function stateDirectory(): string {
  if (process.env.TWOFA_STATE_DIR) {
    return process.env.TWOFA_STATE_DIR;
  }
  // env-paths calls it the log folder; on Linux it is the XDG state folder.
  return envPaths('twofa', { suffix: '' }).log;
}

export function sessionFilePath(): string {
  return join(stateDirectory(), FILE_NAME);
}

/**
 * Returns the saved token for a store, or null when there is none. A file
 * that group or others can read is rejected with the chmod that fixes it.
 */
export function readSessionToken(storePath: string): string | null {
  const content = readContent({ requirePrivate: true });
  const token = content.sessions[storePath]?.token;
  return typeof token === 'string' ? token : null;
}

/** Saves (or with token null, removes) the token for a store. */
export async function writeSessionToken(storePath: string, session: { token: string; expiresAt: string } | null): Promise<void> {
  // An unsafe old file is replaced, not trusted: its tokens may have leaked,
  // but the new file is written with mode 0600 either way.
  const content = readContent({ requirePrivate: false });
  if (session === null) {
    delete content.sessions[storePath];
  } else {
    content.sessions[storePath] = session;
  }

  const directory = prepareStateDirectory();
  const { default: writeFileAtomic } = await import('write-file-atomic');
  const path = join(directory, FILE_NAME);
  await writeFileAtomic(path, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  // write-file-atomic applies the mode to its temporary file; a umask cannot
  // widen 0600, and this makes the final mode certain.
  chmodSync(path, 0o600);
}

/**
 * Creates the state folder (0700) when missing and checks that a session
 * file can be written there. login calls it before it checks a code, so a
 * bad folder cannot use up a code and leave a session without its token.
 */
export function prepareStateDirectory(): string {
  const directory = stateDirectory();
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    if (!statSync(directory).isDirectory()) {
      throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    }
    if ((statSync(directory).mode & 0o077) !== 0) {
      chmodSync(directory, 0o700);
    }
    accessSync(directory, constants.W_OK);
  } catch (error) {
    throw new InputError(
      `cannot use ${directory} for session files (${describeFileError(error)}); set TWOFA_STATE_DIR to a folder you can write`,
      'state_dir_unusable',
    );
  }
  const path = join(directory, FILE_NAME);
  if (existsSync(path) && !statSync(path).isFile()) {
    throw new InputError(`session file ${path} is not a file; remove it or set TWOFA_STATE_DIR to another folder`, 'state_dir_unusable');
  }
  return directory;
}

/** Turns a file system error code into words. */
export function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOENT: 'no such file or folder',
    EEXIST: 'a file of that name is in the way',
    ENOTDIR: 'a part of the path is a file, not a folder',
    EISDIR: 'it is a folder',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
  };
  return (code && words[code]) ?? (error as Error).message;
}

function readContent(options: { requirePrivate: boolean }): SessionFileContent {
  const path = sessionFilePath();
  let text: string;
  try {
    if (options.requirePrivate) {
      const mode = statSync(path).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new AuthError(
          `session file ${path} has mode ${mode.toString(8).padStart(4, '0')}, so others can read your token; run "chmod 600 ${path}"`,
          'session_file_unsafe',
        );
      }
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { version: 1, sessions: {} };
    }
    if (error instanceof AuthError) {
      throw error;
    }
    throw new InputError(
      `cannot read session file ${path} (${describeFileError(error)}); set TWOFA_STATE_DIR to a folder you can write`,
      'state_dir_unusable',
    );
  }

  try {
    const parsed = JSON.parse(text) as Partial<SessionFileContent>;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.sessions !== 'object' || parsed.sessions === null) {
      throw new Error('no sessions object');
    }
    return { version: 1, sessions: parsed.sessions };
  } catch {
    if (!options.requirePrivate) {
      return { version: 1, sessions: {} };
    }
    throw new AuthError(`session file ${path} is damaged; log in again with "twofa login"`, 'session_invalid');
  }
}
