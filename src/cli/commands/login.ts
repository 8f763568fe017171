// twofa login and twofa logout.

import { existsSync } from 'node:fs';
import { DEFAULT_SESSION_TTL_SECONDS } from '../../core/constants.js';
import { AuthError, InputError, TwofaError } from '../../core/errors.js';
import { checkPassword, completeLogin, type LoginResult, type PasswordCheck, type SecondFactor } from '../../core/login.js';
import { revokeSessionByToken } from '../../core/sessions.js';
import { parseTtl } from '../../core/validation.js';
import { readPassword, type PasswordFlags } from '../passwords.js';
import { promptHint } from '../prompts.js';
import { renderQr } from '../qr.js';
import { printEnrollment, printRecoveryCodes, wrongCodeMessage } from '../render.js';
import type { Runtime } from '../runtime.js';
import { printableOr } from '../terminal-text.js';
import { prepareStateDirectory, readSessionToken, writeSessionToken } from '../session-file.js';

export interface LoginFlags extends PasswordFlags {
  username?: string;
  otp?: string;
  recoveryCode?: string;
  ttl?: string;
}

const CODE_ATTEMPTS = 3;

export async function runLogin(rt: Runtime, flags: LoginFlags): Promise<void> {
  const ttlSeconds = flags.ttl === undefined ? DEFAULT_SESSION_TTL_SECONDS : parseTtl(flags.ttl);
  if (flags.otp !== undefined && flags.recoveryCode !== undefined) {
    throw new InputError('give either --otp or --recovery-code, not both', 'usage');
  }
  const username = flags.username ?? (await rt.prompter.text({ message: 'Username', flag: '--username' }));
  const password = await readPassword(flags, rt.prompter, { message: 'Password', confirm: false });

  prepareStateDirectory();
  const ctx = await rt.core();
  const check = await checkPassword(ctx, { username, password });
  const result = await finishLogin(rt, check, flags, ttlSeconds);

  await replaceLocalSession(rt, result);
  const name = printableOr(result.user.username, String(result.user.id));
  rt.output.message(rt.output.err.green(`Logged in as ${name} (${result.user.role}) until ${result.expiresAt}.`));
  if (result.recoveryCodesLeft !== null) {
    const left = result.recoveryCodesLeft;
    const advice = left <= 3 ? '; issue a new set with "twofa users update --new-recovery-codes"' : '';
    rt.output.message(`Recovery code used: ${left} left${advice}.`);
  }
  if (result.recoveryCodes !== null && !rt.output.json) {
    rt.output.message('Two-factor enrollment confirmed.');
    printRecoveryCodes(rt, result.recoveryCodes);
  }
  rt.output.result({
    user: result.user,
    expiresAt: result.expiresAt,
    ...(result.recoveryCodes !== null ? { recoveryCodes: result.recoveryCodes } : {}),
  });
}

export async function runLogout(rt: Runtime): Promise<void> {
  let token: string | null = null;
  let damaged = false;
  try {
    token = readSessionToken(rt.storePath);
  } catch (error) {
    // A damaged or unsafe file is replaced below; logging out must still work.
    if (!(error instanceof TwofaError)) {
      throw error;
    }
    damaged = true;
  }

  let revoked = false;
  if (token !== null && existsSync(rt.storePath)) {
    revoked = await revokeSessionByToken((await rt.core()).store, token, new Date());
  }
  // With no token saved for this store, there is nothing to remove.
  if (token !== null || damaged) {
    await writeSessionToken(rt.storePath, null);
  }
  rt.output.message(revoked ? 'Logged out.' : 'Not logged in; nothing to do.');
  rt.output.result({ loggedOut: true, sessionRevoked: revoked });
}

async function finishLogin(rt: Runtime, check: PasswordCheck, flags: LoginFlags, ttlSeconds: number): Promise<LoginResult> {
  const givenCode = flags.otp ?? process.env.TWOFA_OTP;
  if (flags.recoveryCode !== undefined) {
    return completeLogin(await rt.core(), check, { factor: { recoveryCode: flags.recoveryCode }, ttlSeconds });
  }
  if (givenCode !== undefined) {
    return completeLogin(await rt.core(), check, { factor: { totpCode: givenCode }, ttlSeconds });
  }

  const pendingUri = check.pendingEnrollmentUri;
  if (!rt.prompter.interactive) {
    if (pendingUri !== null) {
      if (rt.flags.qr && !rt.output.json) {
        // Standard output stays empty on this failure; the QR is a message.
        rt.output.message(await renderQr(pendingUri, Boolean(rt.flags.qrInvert)));
      }
      throw new AuthError(
        `two-factor enrollment is pending: add ${pendingUri} to an authenticator app, then log in again with --otp CODE`,
        'enrollment_required',
        { otpauthUri: pendingUri },
      );
    }
    throw new InputError(`missing value: give --otp CODE (or TWOFA_OTP) or --recovery-code CODE, ${promptHint()}`, 'missing_value');
  }

  if (pendingUri !== null) {
    rt.output.message('Two-factor enrollment is pending for this account.');
    await printEnrollment(rt, { username: check.user.username, secret: check.pendingSecret as string, otpauthUri: pendingUri });
  }
  return promptForCode(rt, check, ttlSeconds, pendingUri === null);
}

async function promptForCode(rt: Runtime, check: PasswordCheck, ttlSeconds: number, enrolled: boolean): Promise<LoginResult> {
  // Recovery codes exist only once an enrollment is confirmed.
  const message = enrolled ? 'Code from the app (or a recovery code)' : 'Code from the app';
  for (let attempt = 1; ; attempt += 1) {
    const answer = await rt.prompter.text({ message, flag: '--otp' });
    const factor: SecondFactor = answer.replace(/[\s-]/g, '').length > 8 ? { recoveryCode: answer } : { totpCode: answer };
    try {
      return await completeLogin(await rt.core(), check, { factor, ttlSeconds });
    } catch (error) {
      if (!(error instanceof AuthError) || attempt >= CODE_ATTEMPTS) {
        throw error;
      }
      const notValid = 'That code is not valid; try the next one the app shows.';
      const advice = 'recoveryCode' in factor ? notValid : wrongCodeMessage(answer, notValid, enrolled);
      rt.output.message(rt.output.err.yellow(advice));
    }
  }
}

/** Saves the new token, ending the session this store had saved before. */
async function replaceLocalSession(rt: Runtime, result: LoginResult): Promise<void> {
  let previous: string | null = null;
  try {
    previous = readSessionToken(rt.storePath);
  } catch {
    previous = null;
  }
  if (previous !== null) {
    await revokeSessionByToken((await rt.core()).store, previous, new Date(), 'replaced by a new login');
  }
  await writeSessionToken(rt.storePath, { token: result.token, expiresAt: result.expiresAt });
}
