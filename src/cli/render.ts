// Human renderings shared by several commands.

import { lockedUntilOf, type UserJson } from '../core/records.js';
import { normalizeTotpCode } from '../core/totp.js';
import { renderQr } from './qr.js';
import type { Runtime } from './runtime.js';
import { printableOr } from './terminal-text.js';

/** Prints a user as aligned "field: value" lines on standard output. */
export function printUser(rt: Runtime, user: UserJson): void {
  const style = rt.output.out;
  const rows: Array<[string, string]> = [
    ['id', String(user.id)],
    ['username', printableOr(user.username, '-')],
    ['full name', printableOr(user.fullName, '-')],
    ['email', printableOr(user.email, '-')],
    ['role', user.role],
    ['state', describeState(rt, user)],
    ['2FA', user.otpEnrolled ? 'enrolled' : style.yellow('pending')],
    ['created', user.createdAt ?? '-'],
    ['updated', user.updatedAt ?? '-'],
    ['last login', user.lastLoginAt ?? 'never'],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) {
    rt.output.data(`${style.bold(`${label}:`.padEnd(width + 1))} ${value}`);
  }
}

/**
 * Shows a TOTP enrollment: the QR code (on a terminal or with --qr), and the
 * secret and URI as text, always. The QR and text go to standard output, as
 * they are the command's data.
 */
export async function printEnrollment(rt: Runtime, enrollment: { username: string | null; secret: string; otpauthUri: string }): Promise<void> {
  const style = rt.output.out;
  rt.output.data('');
  // Without a QR code there is nothing to scan: the secret or URI is typed in.
  const verb = rt.drawQr ? 'Scan this with' : 'Add this secret to';
  rt.output.data(`${verb} an authenticator app to enroll ${printableOr(enrollment.username, 'the user')}:`);
  if (rt.drawQr) {
    rt.output.data('');
    rt.output.data(await renderQr(enrollment.otpauthUri, Boolean(rt.flags.qrInvert)));
    rt.output.data('');
  }
  rt.output.data(`${style.bold('Secret:')} ${enrollment.secret.match(/.{1,4}/g)!.join(' ')}`);
  rt.output.data(`${style.bold('URI:')}    ${enrollment.otpauthUri}`);
  // Only at a prompt can the person still start over with the flag: a
  // scripted init-admin or create has written the user by now.
  if (rt.drawQr && !rt.flags.qrInvert && rt.prompter.interactive) {
    rt.output.message(rt.output.err.dim('If the QR code does not scan on a light background, press Ctrl-C and run again with --qr-invert.'));
  }
}

/** Describes enabled, disabled, and a lock after failed logins while it lasts. */
export function describeState(rt: Runtime, user: UserJson): string {
  const style = rt.output.out;
  const lockedUntil = lockedUntilOf(user);
  if (user.disabled) {
    return style.red('disabled');
  }
  if (lockedUntil !== null && Date.parse(lockedUntil) > Date.now()) {
    return style.yellow(`locked until ${lockedUntil}`);
  }
  return 'enabled';
}

/**
 * Returns the message after a rejected TOTP code: notValid for a code of the
 * right form, else a request for the 6 digits the app shows.
 */
export function wrongCodeMessage(code: string, notValid: string, recoveryCodeAllowed: boolean): string {
  if (normalizeTotpCode(code) !== null) {
    return notValid;
  }
  return `That is not a 6-digit code${recoveryCodeAllowed ? ' or a recovery code' : ''}; type the code the app shows.`;
}

export function printRecoveryCodes(rt: Runtime, codes: string[]): void {
  rt.output.data('');
  rt.output.data(rt.output.out.bold('Recovery codes (each works once; store them safely, they are not shown again):'));
  for (const code of codes) {
    rt.output.data(`  ${code}`);
  }
}
