// twofa init-admin: creates the first admin of a store and shows the
// enrollment. In a terminal, the admin is written only once the first code
// confirms it (or after three wrong codes, pending), so Ctrl-C at any
// prompt leaves no user behind.

import { buildOtpauthUri, checkTotpCode, createTotpSecret, resolveIssuer } from '../../core/totp.js';
import { validateNewPassword } from '../../core/passwords.js';
import { initAdmin, requireNoAdmin } from '../../core/users.js';
import { existsSync } from 'node:fs';
import { passwordPolicyFor, readPassword, type PasswordFlags } from '../passwords.js';
import { printEnrollment, printRecoveryCodes, printUser, wrongCodeMessage } from '../render.js';
import type { Runtime } from '../runtime.js';
import { askProfile, takenChecks, type ProfileFlags } from './profile.js';

const CONFIRM_ATTEMPTS = 3;

export async function runInitAdmin(rt: Runtime, flags: ProfileFlags & PasswordFlags): Promise<void> {
  // An existing store is checked before the first prompt, so that a person
  // does not type a whole profile only to learn that it has an admin.
  rt.createStore = true;
  const existing = existsSync(rt.storePath) ? await rt.core() : null;
  if (existing) {
    await requireNoAdmin(existing);
  }
  const taken = existing ? takenChecks(existing) : undefined;

  const profile = await askProfile(rt, flags, taken);
  const password = await validateNewPassword(
    await readPassword(flags, rt.prompter, { message: 'Password', confirm: true, policy: passwordPolicyFor(profile.username) }),
    profile.username,
  );

  let shown: { secret: string; code: string | null } | undefined;
  if (rt.prompter.interactive) {
    const secret = createTotpSecret();
    const otpauthUri = buildOtpauthUri({ issuer: resolveIssuer(process.env.TWOFA_ISSUER), username: profile.username, secret });
    await printEnrollment(rt, { username: profile.username, secret, otpauthUri });
    // After three wrong codes the admin is still created, pending, with the
    // secret the person scanned already.
    shown = { secret, code: await askFirstCode(rt, secret) };
  }

  // A new store is created only now, so Ctrl-C at a prompt leaves no file.
  const ctx = await rt.core();
  const result = await initAdmin(ctx, { ...profile, password }, shown);
  rt.output.message(rt.output.err.green(`Created admin ${profile.username} (id ${result.user.id}).`));

  if (!rt.output.json) {
    printUser(rt, result.user);
    if (!rt.prompter.interactive) {
      await printEnrollment(rt, { username: profile.username, secret: result.secret, otpauthUri: result.otpauthUri });
    }
    if (result.recoveryCodes !== null) {
      rt.output.message(rt.output.err.green('Enrollment confirmed.'));
      printRecoveryCodes(rt, result.recoveryCodes);
    } else {
      rt.output.message('Enrollment is pending: the first "twofa login" with a code from the app confirms it.');
    }
  }

  rt.output.result({
    user: result.user,
    otpauthUri: result.otpauthUri,
    secret: result.secret,
    ...(result.recoveryCodes !== null ? { recoveryCodes: result.recoveryCodes } : {}),
  });
}

/** Asks for the first code up to three times; returns null when none matched. */
async function askFirstCode(rt: Runtime, secret: string): Promise<string | null> {
  for (let attempt = 1; attempt <= CONFIRM_ATTEMPTS; attempt += 1) {
    const code = await rt.prompter.text({ message: 'Code from the app, to confirm', flag: '--otp' });
    if (checkTotpCode({ secret, code, nowSeconds: Date.now() / 1000 }).valid) {
      return code;
    }
    const notValid = attempt < CONFIRM_ATTEMPTS ? 'That code is not valid; check the app and try again.' : 'That code is not valid either.';
    rt.output.message(rt.output.err.yellow(wrongCodeMessage(code, notValid, false)));
  }
  return null;
}
