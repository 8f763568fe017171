// twofa init-admin: creates the first admin of a store and shows the
// enrollment. In a terminal, the first code confirms it at once.

import { confirmEnrollment } from '../../core/login.js';
import { validateNewPassword } from '../../core/passwords.js';
import { initAdmin } from '../../core/users.js';
import { readPassword, type PasswordFlags } from '../passwords.js';
import { printEnrollment, printRecoveryCodes, printUser } from '../render.js';
import type { Runtime } from '../runtime.js';
import { askProfile, type ProfileFlags } from './profile.js';

const CONFIRM_ATTEMPTS = 3;

export async function runInitAdmin(rt: Runtime, flags: ProfileFlags & PasswordFlags): Promise<void> {
  const profile = await askProfile(rt, flags);
  const password = await validateNewPassword(
    await readPassword(flags, rt.prompter, { message: 'Password', confirm: true }),
    profile.username,
  );

  rt.createStore = true;
  const ctx = await rt.core();
  const enrollment = await initAdmin(ctx, { ...profile, password });
  rt.output.message(rt.output.err.green(`Created admin ${profile.username} (id ${enrollment.user.id}).`));

  let recoveryCodes: string[] | null = null;
  if (!rt.output.json) {
    printUser(rt, enrollment.user);
    await printEnrollment(rt, { username: profile.username, secret: enrollment.secret, otpauthUri: enrollment.otpauthUri });
  }

  if (rt.prompter.interactive) {
    for (let attempt = 1; attempt <= CONFIRM_ATTEMPTS && recoveryCodes === null; attempt += 1) {
      const code = await rt.prompter.text({ message: 'Code from the app, to confirm', flag: '--otp' });
      recoveryCodes = await confirmEnrollment(ctx, { userId: enrollment.user.id, code });
      if (recoveryCodes === null) {
        rt.output.message(rt.output.err.yellow(attempt < CONFIRM_ATTEMPTS ? 'That code is not valid; check the app and try again.' : 'That code is not valid either.'));
      }
    }
    if (recoveryCodes === null) {
      rt.output.message('Enrollment stays pending: the first login with a code from the app confirms it.');
    }
  } else if (!rt.output.json) {
    rt.output.message('Enrollment is pending: the first "twofa login" with a code from the app confirms it.');
  }

  if (recoveryCodes !== null && !rt.output.json) {
    rt.output.message(rt.output.err.green('Enrollment confirmed.'));
    printRecoveryCodes(rt, recoveryCodes);
  }

  const user = recoveryCodes === null ? enrollment.user : { ...enrollment.user, otpEnrolled: true };
  rt.output.result({
    user,
    otpauthUri: enrollment.otpauthUri,
    secret: enrollment.secret,
    ...(recoveryCodes !== null ? { recoveryCodes } : {}),
  });
}
