// Username, email and full name of a new user, from flags or prompts.

import { TwofaError } from '../../core/errors.js';
import { validateEmail, validateFullName, validateUsername } from '../../core/validation.js';
import type { CoreContext } from '../../core/context.js';
import { findTaken } from '../../core/users.js';
import type { Runtime } from '../runtime.js';

export interface ProfileFlags {
  username?: string;
  email?: string;
  fullName?: string;
}

export interface Profile {
  username: string;
  email: string | null;
  fullName: string | null;
}

/**
 * Validates the given flags; in a terminal, prompts for the missing ones (email
 * and full name may be left empty). Without a terminal only --username is
 * required.
 */
export async function askProfile(rt: Runtime, flags: ProfileFlags, taken?: TakenChecks): Promise<Profile> {
  const username =
    flags.username !== undefined
      ? validateUsername(flags.username)
      : validateUsername(
          await rt.prompter.text({ message: 'Username', flag: '--username', validate: withTakenCheck(validateUsername, taken?.username) }),
        );

  let email: string | null = null;
  if (flags.email !== undefined) {
    email = validateEmail(flags.email);
  } else if (rt.prompter.interactive && flags.username === undefined) {
    email = validateEmail(
      await rt.prompter.text({ message: 'Email (optional)', flag: '--email', required: false, validate: withTakenCheck(validateEmail, taken?.email) }),
    );
  }

  let fullName: string | null = null;
  if (flags.fullName !== undefined) {
    fullName = validateFullName(flags.fullName);
  } else if (rt.prompter.interactive && flags.username === undefined) {
    fullName = validateFullName(
      await rt.prompter.text({ message: 'Full name (optional)', flag: '--full-name', required: false, validate: asPromptCheck(validateFullName) }),
    );
  }

  return { username, email, fullName };
}

/** Look-ups that return a message when a value is taken already, else null. */
export interface TakenChecks {
  username?: (username: string) => Promise<string | null>;
  email?: (email: string) => Promise<string | null>;
}

/** Checks against the store of ctx. */
export function takenChecks(ctx: CoreContext): TakenChecks {
  return {
    username: (username) => findTaken(ctx, { username }),
    email: (email) => findTaken(ctx, { email }),
  };
}

/** Builds a prompt check: the format first, then whether the value is taken. */
function withTakenCheck(
  validate: (value: string) => unknown,
  isTaken: ((value: string) => Promise<string | null>) | undefined,
): (value: string) => Promise<string | true> {
  const checkFormat = asPromptCheck(validate);
  return async (value) => {
    const format = checkFormat(value);
    if (format !== true || isTaken === undefined || value === '') {
      return format;
    }
    return (await isTaken(value)) ?? true;
  };
}

/** Turns a validator that throws into a prompt check that shows the message. */
export function asPromptCheck(validate: (value: string) => unknown): (value: string) => string | true {
  return (value) => {
    try {
      validate(value);
      return true;
    } catch (error) {
      if (error instanceof TwofaError) {
        return error.message;
      }
      throw error;
    }
  };
}
