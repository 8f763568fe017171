// TOTP (RFC 6238) on otplib 13: secrets, codes, the enrollment URI.
// Every function takes the time in Unix seconds, so tests can set it.

import { createGuardrails, generateSecret, generateSync, ScureBase32Plugin, verifySync } from 'otplib';
import {
  DEFAULT_ISSUER,
  TOTP_ALGORITHM,
  TOTP_DIGITS,
  TOTP_MIN_SECRET_BYTES,
  TOTP_PERIOD_SECONDS,
  TOTP_SECRET_BYTES,
  TOTP_WINDOW_STEPS,
} from './constants.js';
import { InputError } from './errors.js';

export interface TotpCheckOptions {
  /** Base32 secret as stored. */
  secret: string;
  /** The code as typed: spaces and a trailing newline are allowed. */
  code: string;
  nowSeconds: number;
  /** The last accepted step of this user; only later steps pass. */
  lastStep?: number | null;
}

export type TotpCheckResult = { valid: true; step: number } | { valid: false };

const base32 = new ScureBase32Plugin();

// Secrets of the Python app are 16 base32 characters (10 bytes), below
// otplib's default minimum of 16 bytes, and must keep working.
const guardrails = createGuardrails({ MIN_SECRET_BYTES: TOTP_MIN_SECRET_BYTES });

/** Creates a new secret of 20 random bytes, as 32 base32 characters. */
export function createTotpSecret(): string {
  return generateSecret({ length: TOTP_SECRET_BYTES });
}

/**
 * Normalizes a base32 secret as people type it (lower case, groups, padding)
 * to upper case without spaces or padding. Throws InputError when the text is
 * not base32 or is shorter than 16 characters.
 */
export function normalizeTotpSecret(input: string): string {
  const secret = input.replace(/[\s-]/g, '').toUpperCase().replace(/=+$/, '');

  if (!/^[A-Z2-7]+$/.test(secret)) {
    throw new InputError('invalid TOTP secret: use base32 letters A-Z and digits 2-7 only');
  }
  decodeSecret(secret);
  return secret;
}

/**
 * Checks a code against the window of one step either side of nowSeconds,
 * and rejects any step at or before lastStep. A code in the wrong format is
 * an invalid result, never an exception.
 */
export function checkTotpCode(options: TotpCheckOptions): TotpCheckResult {
  const code = normalizeTotpCode(options.code);
  if (code === null) {
    return { valid: false };
  }

  // otplib throws when afterTimeStep lies past the window, as it does once
  // the clock has gone back; no code can pass then.
  const lastStep = options.lastStep ?? null;
  const currentStep = Math.floor(options.nowSeconds / TOTP_PERIOD_SECONDS);
  if (lastStep !== null && lastStep >= currentStep + TOTP_WINDOW_STEPS) {
    return { valid: false };
  }
  const result = verifySync({
    secret: decodeSecret(options.secret),
    token: code,
    epoch: Math.floor(options.nowSeconds),
    period: TOTP_PERIOD_SECONDS,
    digits: TOTP_DIGITS,
    algorithm: 'sha1',
    epochTolerance: TOTP_WINDOW_STEPS * TOTP_PERIOD_SECONDS,
    guardrails,
    ...(lastStep !== null && lastStep >= 0 ? { afterTimeStep: lastStep } : {}),
  });

  return result.valid && 'timeStep' in result ? { valid: true, step: result.timeStep } : { valid: false };
}

export interface TotpComputeOptions {
  /** Base32 text, or the raw key bytes. */
  secret: string | Uint8Array;
  nowSeconds: number;
  /** twofa enrolls only SHA-1 with 6 digits; the others serve the RFC 6238 vectors. */
  algorithm?: 'sha1' | 'sha256' | 'sha512';
  digits?: 6 | 8;
}

/** Computes the code for a secret at a time. */
export function computeTotpCode(options: TotpComputeOptions): string {
  return generateSync({
    secret: typeof options.secret === 'string' ? decodeSecret(options.secret) : options.secret,
    epoch: Math.floor(options.nowSeconds),
    period: TOTP_PERIOD_SECONDS,
    digits: options.digits ?? TOTP_DIGITS,
    algorithm: options.algorithm ?? 'sha1',
    guardrails,
  });
}

/** Returns the code with spaces removed, or null unless it is 6 digits. */
export function normalizeTotpCode(input: string): string | null {
  const code = input.replace(/\s/g, '');
  return /^\d+$/.test(code) && code.length === TOTP_DIGITS ? code : null;
}

/**
 * Reads the issuer from TWOFA_ISSUER (default "twofa"). A colon is rejected
 * because it separates issuer and account in the URI label.
 */
export function resolveIssuer(value: string | undefined): string {
  const issuer = (value ?? '').trim() || DEFAULT_ISSUER;
  if (issuer.includes(':')) {
    throw new InputError(`invalid issuer "${issuer}" in TWOFA_ISSUER: remove the colon, which separates issuer and account`);
  }
  return issuer;
}

/**
 * Builds the Key URI for authenticator apps. Label and issuer are
 * percent-encoded, with a space as %20, never "+".
 */
export function buildOtpauthUri(options: { issuer: string; username: string; secret: string }): string {
  const issuer = encodeURIComponent(options.issuer);
  const account = encodeURIComponent(options.username);
  const query = [
    `secret=${options.secret}`,
    `issuer=${issuer}`,
    `algorithm=${TOTP_ALGORITHM}`,
    `digits=${TOTP_DIGITS}`,
    `period=${TOTP_PERIOD_SECONDS}`,
  ].join('&');
  return `otpauth://totp/${issuer}:${account}?${query}`;
}

function decodeSecret(secret: string): Uint8Array {
  const padded = secret.padEnd(Math.ceil(secret.length / 8) * 8, '=');
  let bytes: Uint8Array;
  try {
    bytes = base32.decode(padded);
  } catch {
    throw new InputError('invalid TOTP secret: the base32 text does not decode; check it for typing errors');
  }
  if (bytes.length < TOTP_MIN_SECRET_BYTES) {
    throw new InputError(`invalid TOTP secret: it has ${bytes.length} bytes, at least ${TOTP_MIN_SECRET_BYTES} (16 base32 characters) are needed`);
  }
  return bytes;
}
