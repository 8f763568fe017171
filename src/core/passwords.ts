// Password policy and bcrypt hashing. bcrypt and the common-password list
// are loaded on first use, so commands that never hash start faster.

import { randomInt } from 'node:crypto';
import {
  DEFAULT_BCRYPT_COST,
  MAX_BCRYPT_COST,
  MAX_PASSWORD_BYTES,
  MIN_BCRYPT_COST,
  MIN_PASSWORD_CHARACTERS,
  RANDOM_PASSWORD_CHARACTERS,
} from './constants.js';
import { InputError } from './errors.js';

type Bcrypt = typeof import('bcrypt');

let bcryptModule: Promise<Bcrypt> | undefined;
let commonPasswords: Promise<Set<string>> | undefined;

const RANDOM_PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.';

/**
 * Reads the bcrypt cost from the value of TWOFA_BCRYPT_COST (10 to 15,
 * default 12).
 */
export function parseBcryptCost(value: string | undefined): number {
  if (value === undefined || value.trim() === '') {
    return DEFAULT_BCRYPT_COST;
  }
  const cost = Number(value);
  if (!Number.isInteger(cost) || cost < MIN_BCRYPT_COST || cost > MAX_BCRYPT_COST) {
    throw new InputError(
      `invalid TWOFA_BCRYPT_COST "${value}": use a whole number from ${MIN_BCRYPT_COST} to ${MAX_BCRYPT_COST}`,
    );
  }
  return cost;
}

/**
 * Applies the password policy to a new password and returns it in Unicode
 * NFC, the form that gets hashed. Throws InputError naming the broken rule.
 */
export async function validateNewPassword(password: string, username: string | null): Promise<string> {
  const normalized = password.normalize('NFC');
  const characters = [...normalized].length;
  const bytes = Buffer.byteLength(normalized, 'utf8');

  if (characters < MIN_PASSWORD_CHARACTERS) {
    throw new InputError(`password too short: it has ${characters} characters, at least ${MIN_PASSWORD_CHARACTERS} are needed`, 'invalid_password');
  }
  if (bytes > MAX_PASSWORD_BYTES) {
    throw new InputError(
      `password too long: it has ${bytes} bytes in UTF-8, at most ${MAX_PASSWORD_BYTES} are allowed because bcrypt ignores the rest`,
      'invalid_password',
    );
  }
  if (normalized.trim() === '') {
    throw new InputError('invalid password: it is only spaces; choose one with other characters', 'invalid_password');
  }
  if (/\p{Cc}/u.test(normalized)) {
    throw new InputError('invalid password: it contains a control character such as a tab or newline', 'invalid_password');
  }
  if (username !== null && normalized.toLowerCase() === username.toLowerCase()) {
    throw new InputError('invalid password: it equals the username; choose another', 'invalid_password');
  }
  if ((await loadCommonPasswords()).has(normalized.toLowerCase())) {
    throw new InputError('invalid password: it is on the list of common passwords; choose another', 'invalid_password');
  }
  return normalized;
}

/** Throws InputError when a new password equals the current one, compared in NFC. */
export function requireDifferentPassword(newPassword: string, currentPassword: string): void {
  if (newPassword.normalize('NFC') === currentPassword.normalize('NFC')) {
    throw new InputError('invalid password: it equals the current password; choose a new one', 'invalid_password');
  }
}

/** Hashes an already validated password with bcrypt at the given cost. */
export async function hashPassword(password: string, cost: number): Promise<string> {
  const bcrypt = await loadBcrypt();
  return bcrypt.hash(password, cost);
}

/**
 * Compares a password with a stored hash. With no hash (unknown user or a row
 * without one) or a password over 72 bytes, it compares against a dummy hash
 * of the same cost, so every case takes about as long as a real check, and
 * returns false.
 */
export async function verifyPassword(password: string, hash: string | null, cost: number): Promise<boolean> {
  const bcrypt = await loadBcrypt();
  const normalized = password.normalize('NFC');

  // bcrypt compares only the first 72 bytes, so a longer password that starts
  // like the right one would pass. No stored password is that long.
  const tooLong = Buffer.byteLength(normalized, 'utf8') > MAX_PASSWORD_BYTES;
  if (hash === null || !isBcryptHash(hash) || tooLong) {
    await bcrypt.compare(normalized, dummyHash(cost));
    return false;
  }
  // $2y$ (PHP) is the same algorithm as $2b$, but the native module only
  // reads $2a$ and $2b$.
  const comparable = hash.startsWith('$2y$') ? `$2b$${hash.slice(4)}` : hash;
  return bcrypt.compare(normalized, comparable);
}

/** Tells whether a stored hash has a lower cost than the configured one. */
export function needsRehash(hash: string, cost: number): boolean {
  const match = /^\$2[aby]\$(\d\d)\$/.exec(hash);
  return match !== null && Number(match[1]) < cost;
}

/** Generates a random password of 20 characters from an unambiguous alphabet. */
export function generateRandomPassword(): string {
  let password = '';
  for (let index = 0; index < RANDOM_PASSWORD_CHARACTERS; index += 1) {
    password += RANDOM_PASSWORD_ALPHABET[randomInt(RANDOM_PASSWORD_ALPHABET.length)];
  }
  return password;
}

function isBcryptHash(hash: string): boolean {
  return /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash);
}

/** Returns a well-formed hash of no known password, which costs full rounds to compare. */
function dummyHash(cost: number): string {
  return `$2b$${String(cost).padStart(2, '0')}$twofaDummySaltForTiminuNoPasswordHashesToThisValue012`;
}

function loadBcrypt(): Promise<Bcrypt> {
  bcryptModule ??= import('bcrypt').then((module) => (module.default ?? module) as Bcrypt);
  return bcryptModule;
}

// The list is zxcvbn-ts's common passwords (about 49,000, lower case).
function loadCommonPasswords(): Promise<Set<string>> {
  commonPasswords ??= import('@zxcvbn-ts/language-common/dist/passwords.json.mjs').then(
    (module: { default: string[] }) => new Set(module.default),
  );
  return commonPasswords;
}
