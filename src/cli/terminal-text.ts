// Makes values from the store safe to show on a terminal.

import { UNSAFE_TEXT } from '../core/validation.js';

/**
 * Replaces control and bidirectional formatting characters with U+FFFD, so a
 * value from the store is safe to show on a terminal. The Python app may
 * have stored names that twofa's own input rules reject.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE_TEXT, '\uFFFD');
}

/** Returns printable(text), or missing when the store has no value. */
export function printableOr(text: string | null, missing: string): string {
  return text === null ? missing : printable(text);
}
