// Password sources, in order: standard input, a file, the environment, and a
// masked prompt. A flag value is never one, because others can read the
// process list.

import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import { requireDifferentPassword, validateNewPassword } from '../core/passwords.js';
import { promptHint, type Prompter } from './prompts.js';
import { describeFileError } from './session-file.js';

export interface PasswordFlags {
  passwordStdin?: boolean;
  passwordFile?: string;
  newPasswordStdin?: boolean;
  newPasswordFile?: string;
}

const SOURCES_HINT = '--password-stdin, --password-file FILE or TWOFA_PASSWORD';
const NEW_SOURCES_HINT = '--new-password-stdin, --new-password-file FILE or TWOFA_NEW_PASSWORD';

let stdinText: { text: string; ended: boolean } | undefined;

/**
 * Reads the password of the current user or of a login. With `confirm`, the
 * prompt requests it twice, for a password that is being set.
 */
export async function readPassword(
  flags: PasswordFlags,
  prompter: Prompter,
  options: { message: string; confirm: boolean; otherSource?: string; policy?: PasswordPolicy },
): Promise<string> {
  if (flags.passwordStdin) {
    return requireNonEmpty(await readStdinLine(0), '--password-stdin');
  }
  if (flags.passwordFile !== undefined) {
    return readFirstLine(flags.passwordFile, '--password-file');
  }
  if (process.env.TWOFA_PASSWORD !== undefined) {
    return requireNonEmpty(process.env.TWOFA_PASSWORD, 'TWOFA_PASSWORD');
  }
  if (!prompter.interactive) {
    const sources = options.otherSource ? `${SOURCES_HINT}, ${options.otherSource}` : SOURCES_HINT;
    throw new InputError(`missing password: give ${sources}, ${promptHint()}`, 'missing_value');
  }
  return options.confirm
    ? promptTwice(prompter, { message: options.message, flag: SOURCES_HINT, policy: options.policy })
    : prompter.secret({ message: options.message, flag: SOURCES_HINT });
}

/**
 * Reads a new password for a password change. When the current password also
 * comes from standard input, the new one is its second line.
 */
export async function readNewPassword(flags: PasswordFlags, prompter: Prompter, policy?: PasswordPolicy): Promise<string> {
  if (flags.newPasswordStdin) {
    return requireNonEmpty(await readStdinLine(flags.passwordStdin ? 1 : 0), '--new-password-stdin');
  }
  if (flags.newPasswordFile !== undefined) {
    return readFirstLine(flags.newPasswordFile, '--new-password-file');
  }
  if (process.env.TWOFA_NEW_PASSWORD !== undefined) {
    return requireNonEmpty(process.env.TWOFA_NEW_PASSWORD, 'TWOFA_NEW_PASSWORD');
  }
  if (!prompter.interactive) {
    throw new InputError(`missing new password: give ${NEW_SOURCES_HINT}, ${promptHint()}`, 'missing_value');
  }
  return promptTwice(prompter, { message: 'New password', flag: NEW_SOURCES_HINT, policy });
}

/** Checks a new password as it is typed; returns a message for the prompt, or true. */
export type PasswordPolicy = (password: string) => Promise<string | true>;

/** Returns the password policy for a user as a prompt check. */
export function passwordPolicyFor(username: string | null, currentPassword: string | null = null): PasswordPolicy {
  return async (password) => {
    try {
      if (currentPassword !== null) {
        requireDifferentPassword(password, currentPassword);
      }
      await validateNewPassword(password, username);
      return true;
    } catch (error) {
      if (error instanceof InputError) {
        return error.message;
      }
      throw error;
    }
  };
}

/** Rounds of typing a new password twice before a mismatch ends the command. */
const CONFIRM_ROUNDS = 3;

async function promptTwice(prompter: Prompter, options: { message: string; flag: string; policy: PasswordPolicy | undefined }): Promise<string> {
  for (let round = 1; ; round += 1) {
    const first = await prompter.secret({ message: options.message, flag: options.flag, ...(options.policy ? { validate: options.policy } : {}) });
    const second = await prompter.secret({ message: `${options.message} (again)`, flag: options.flag });
    if (first === second) {
      return first;
    }
    if (round === CONFIRM_ROUNDS) {
      throw new InputError('the two passwords differ; nothing was changed, run the command again', 'password_mismatch');
    }
    prompter.notice('The two passwords differ; type the new one again.');
  }
}

function readFirstLine(path: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${flag} "${path}": ${describeFileError(error)}`, 'invalid_input');
  }
  return requireNonEmpty(firstLine(text), `${flag} "${path}"`);
}

/**
 * Returns line `index` of standard input, reading only as far as needed, so
 * a writer that keeps the pipe open after the password does not stall twofa.
 */
async function readStdinLine(index: number): Promise<string> {
  stdinText ??= { text: '', ended: false };
  const buffer = stdinText;
  while (!buffer.ended && buffer.text.split(/\r?\n/).length <= index + 1) {
    const chunk = await readChunk();
    if (chunk === null) {
      buffer.ended = true;
    } else {
      buffer.text += chunk;
    }
  }
  return buffer.text.split(/\r?\n/)[index] ?? '';
}

function readChunk(): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    const cleanUp = () => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
      stdin.pause();
    };
    const onData = (chunk: Buffer | string) => {
      cleanUp();
      resolve(chunk.toString());
    };
    const onEnd = () => {
      cleanUp();
      resolve(null);
    };
    const onError = (error: Error) => {
      cleanUp();
      reject(error);
    };
    if (stdin.readableEnded) {
      resolve(null);
      return;
    }
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onError);
    stdin.resume();
  });
}

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0] ?? '';
}

function requireNonEmpty(value: string, source: string): string {
  if (value === '') {
    throw new InputError(`empty password from ${source}`, 'missing_value');
  }
  return value;
}
