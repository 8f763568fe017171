// Input rules for what twofa writes. Rows that the Python app or an older
// store already contains are not checked until they are changed.

import {
  DEFAULT_LIST_LIMIT,
  MAX_EMAIL_CHARACTERS,
  MAX_FULL_NAME_CHARACTERS,
  MAX_SESSION_TTL_SECONDS,
  MAX_USERNAME_CHARACTERS,
  MIN_USERNAME_CHARACTERS,
} from './constants.js';
import { InputError } from './errors.js';

export type Role = 'admin' | 'user';
export const ROLES: readonly Role[] = ['admin', 'user'];

const USERNAME_PATTERN = /^[A-Za-z][A-Za-z0-9._-]*$/;
// A plausible address: one @, no spaces, a dot in the domain, no empty labels.
const EMAIL_PATTERN = /^[^\s@"<>()[\]\\,;:]+@(?:[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]*[A-Za-z0-9\u0080-\uffff])?\.)+[A-Za-z\u0080-\uffff]{2,}$/u;
/**
 * Control characters, and the bidirectional embeddings, overrides and
 * isolates that can reorder the text shown around them. Names must not
 * contain them. Zero-width joiners stay allowed, because emoji sequences
 * and some scripts need them.
 */
export const UNSAFE_TEXT = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/gu;
// An address has no use for control or invisible format characters.
const NOT_IN_EMAILS = /[\p{Cc}\p{Cf}]/gu;
const TTL_UNITS_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

export function validateUsername(input: string): string {
  const username = input.trim();
  if (username.length < MIN_USERNAME_CHARACTERS || username.length > MAX_USERNAME_CHARACTERS) {
    throw new InputError(
      `invalid username "${username}": use ${MIN_USERNAME_CHARACTERS} to ${MAX_USERNAME_CHARACTERS} characters, it has ${username.length}`,
      'invalid_username',
    );
  }
  if (!USERNAME_PATTERN.test(username)) {
    throw new InputError(
      `invalid username "${username}": start with an ASCII letter (a-z, A-Z), then use only ASCII letters, digits, ".", "_" or "-"`,
      'invalid_username',
    );
  }
  return username;
}

/** Returns the trimmed address, or null for an empty one (no email). */
export function validateEmail(input: string): string | null {
  const email = input.trim();
  if (email === '') {
    return null;
  }
  if (email.search(NOT_IN_EMAILS) !== -1) {
    throw new InputError(`invalid email "${email.replace(NOT_IN_EMAILS, '?')}": remove the control and invisible characters (shown as ?)`, 'invalid_email');
  }
  if (email.length > MAX_EMAIL_CHARACTERS || !EMAIL_PATTERN.test(email)) {
    throw new InputError(`invalid email "${email}": use an address such as name@example.com`, 'invalid_email');
  }
  return email;
}

export function validateRole(input: string): Role {
  const role = input.trim().toLowerCase();
  if (role !== 'admin' && role !== 'user') {
    throw new InputError(`invalid role "${input}": use "admin" or "user"`, 'invalid_role');
  }
  return role;
}

/** Returns the trimmed name, or null for an empty one. */
export function validateFullName(input: string): string | null {
  const fullName = input.trim().normalize('NFC');
  if (fullName === '') {
    return null;
  }
  if ([...fullName].length > MAX_FULL_NAME_CHARACTERS) {
    throw new InputError(`invalid full name: at most ${MAX_FULL_NAME_CHARACTERS} characters are allowed`, 'invalid_full_name');
  }
  if (fullName.search(UNSAFE_TEXT) !== -1) {
    throw new InputError(
      `invalid full name "${fullName.replace(UNSAFE_TEXT, '?')}": remove the control and text-direction characters (shown as ?)`,
      'invalid_full_name',
    );
  }
  return fullName;
}

/** Parses a session lifetime such as 45s, 30m, 12h or 7d into seconds. */
export function parseTtl(input: string): number {
  const match = /^(\d+)([smhd])$/.exec(input.trim());
  if (!match) {
    throw new InputError(`invalid --ttl "${input}": use a number and a unit, such as 45s, 30m, 12h or 7d`);
  }
  const seconds = Number(match[1]) * (TTL_UNITS_SECONDS[match[2] as string] as number);
  if (seconds < 1 || seconds > MAX_SESSION_TTL_SECONDS) {
    throw new InputError(`invalid --ttl "${input}": use from 1s to 30d`);
  }
  return seconds;
}

/** Parses a non-negative whole number given to flagName (0 allowed). */
export function parseCount(input: string, flagName: string): number {
  const trimmed = input.trim();
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    throw new InputError(`invalid ${flagName} "${input}": use a whole number, 0 or more`);
  }
  return Number(trimmed);
}

export function parseListLimit(input: string | undefined): number {
  return input === undefined ? DEFAULT_LIST_LIMIT : parseCount(input, '--limit');
}

/** A USER argument: a numeric id, or a username (which starts with a letter). */
export type UserRef = { id: number } | { username: string };

export function parseUserRef(input: string): UserRef {
  const trimmed = input.trim();
  if (/^\d+$/.test(trimmed)) {
    return { id: Number(trimmed) };
  }
  if (trimmed === '') {
    throw new InputError('missing user: give a numeric id or a username');
  }
  return { username: trimmed };
}
