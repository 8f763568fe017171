// Makes values from the store safe to show on a terminal.

// C0 and C1 controls, DEL, and the bidirectional embeddings, overrides and
// isolates: on a terminal they can move or hide other text.
const UNPRINTABLE = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/gu;

/**
 * Replaces control and bidirectional formatting characters with U+FFFD, so a
 * value from the store is safe to show on a terminal. The Python app may
 * have stored names that twofa's own input rules reject.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, '\uFFFD');
}
