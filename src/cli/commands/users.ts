// twofa users me | get | create | update | list.

import { InputError } from '../../core/errors.js';
import { generateRandomPassword, validateNewPassword } from '../../core/passwords.js';
import type { UserJson } from '../../core/records.js';
import { checkCurrentPassword, createUser, refersTo, describeSelf, getUser, listUsers, updateUser, type UserChanges } from '../../core/users.js';
import { parseCount, parseListLimit, parseUserRef, validateEmail, validateFullName, validateRole, type Role } from '../../core/validation.js';
import { passwordPolicyFor, readNewPassword, readPassword, type PasswordFlags } from '../passwords.js';
import { describeState, printRecoveryCodes, printUser } from '../render.js';
import type { Runtime } from '../runtime.js';
import { renderTable } from '../table.js';
import { printableOr } from '../terminal-text.js';
import { askProfile, takenChecks, type ProfileFlags } from './profile.js';

export interface CreateFlags extends ProfileFlags, PasswordFlags {
  role?: string;
  randomPassword?: boolean;
}

export interface UpdateFlags extends PasswordFlags {
  email?: string;
  fullName?: string;
  changePassword?: boolean;
  newRecoveryCodes?: boolean;
  role?: string;
  disable?: boolean;
  enable?: boolean;
  resetOtp?: boolean;
  unlock?: boolean;
}

export interface ListFlags {
  role?: string;
  disabled?: boolean;
  enabled?: boolean;
  search?: string;
  limit?: string;
  after?: string;
}

export async function runMe(rt: Runtime): Promise<void> {
  const user = describeSelf(await rt.actor());
  printUser(rt, user);
  rt.output.result(user);
}

export async function runGet(rt: Runtime, userArgument: string): Promise<void> {
  const ref = parseUserRef(userArgument);
  const actor = await rt.actor();
  const user = await getUser(await rt.core(), actor, ref);
  printUser(rt, user);
  rt.output.result(user);
}

export async function runCreate(rt: Runtime, flags: CreateFlags): Promise<void> {
  const role: Role = flags.role === undefined ? 'user' : validateRole(flags.role);
  const passwordGiven = flags.passwordStdin || flags.passwordFile !== undefined || process.env.TWOFA_PASSWORD !== undefined;
  if (flags.randomPassword && passwordGiven) {
    throw new InputError('give either --random-password or a password source, not both', 'usage');
  }

  // Check the login first, so that a logged-out admin is not prompted for a
  // new user's details in vain.
  const actor = await rt.actor();
  const profile = await askProfile(rt, flags, takenChecks(await rt.core()));
  const plainPassword = flags.randomPassword
    ? generateRandomPassword()
    : await readPassword(flags, rt.prompter, {
        message: `Password for ${profile.username}`,
        confirm: true,
        otherSource: '--random-password',
        policy: passwordPolicyFor(profile.username),
      });
  const password = await validateNewPassword(plainPassword, profile.username);

  const enrollment = await createUser(await rt.core(), actor, { ...profile, role, password });
  rt.output.message(rt.output.err.green(`Created ${role} ${profile.username} (id ${enrollment.user.id}).`));
  if (!rt.output.json) {
    printUser(rt, enrollment.user);
    if (flags.randomPassword) {
      rt.output.data(`${rt.output.out.bold('Password:')} ${password}  (shown once; give it to ${profile.username} safely)`);
    }
    rt.output.message(`Two-factor enrollment is pending: ${profile.username} scans the QR code at their first "twofa login".`);
  }
  rt.output.result({ ...enrollment.user, ...(flags.randomPassword ? { password } : {}) });
}

export async function runUpdate(rt: Runtime, userArgument: string | undefined, flags: UpdateFlags): Promise<void> {
  const ref = userArgument === undefined ? null : parseUserRef(userArgument);
  if (flags.disable && flags.enable) {
    throw new InputError('give either --disable or --enable, not both', 'usage');
  }
  const changes: UserChanges = {
    ...(flags.email !== undefined ? { email: validateEmail(flags.email) } : {}),
    ...(flags.fullName !== undefined ? { fullName: validateFullName(flags.fullName) } : {}),
    ...(flags.role !== undefined ? { role: validateRole(flags.role) } : {}),
    ...(flags.disable ? { disabled: true } : {}),
    ...(flags.enable ? { disabled: false } : {}),
    ...(flags.newRecoveryCodes ? { newRecoveryCodes: true } : {}),
    ...(flags.resetOtp ? { resetOtp: true } : {}),
    ...(flags.unlock ? { unlock: true } : {}),
  };

  const actor = await rt.actor();
  if (flags.changePassword) {
    if (ref === null || refersTo(ref, actor.user)) {
      changes.currentPassword = await readPassword(flags, rt.prompter, { message: 'Current password', confirm: false });
      // Checked before the new password is requested, so a typo fails fast.
      await checkCurrentPassword(await rt.core(), actor, changes.currentPassword);
    }
    // The policy rejects a password equal to the username, when the name is known here.
    let username: string | null = null;
    if (ref === null) {
      username = actor.user.username;
    } else if ('username' in ref) {
      username = ref.username;
    }
    changes.newPassword = await readNewPassword(flags, rt.prompter, passwordPolicyFor(username, changes.currentPassword ?? null));
  }

  const result = await updateUser(await rt.core(), actor, ref, changes);
  rt.output.message(rt.output.err.green(`Updated ${printableOr(result.user.username, String(result.user.id))}.`));
  if (!rt.output.json) {
    printUser(rt, result.user);
    if (result.recoveryCodes !== null) {
      printRecoveryCodes(rt, result.recoveryCodes);
    }
  }
  rt.output.result(result.recoveryCodes === null ? result.user : { ...result.user, recoveryCodes: result.recoveryCodes });
}

export async function runList(rt: Runtime, flags: ListFlags): Promise<void> {
  if (flags.disabled && flags.enabled) {
    throw new InputError('give either --disabled or --enabled, not both', 'usage');
  }
  let disabled: boolean | null = null;
  if (flags.disabled) {
    disabled = true;
  } else if (flags.enabled) {
    disabled = false;
  }
  const options = {
    role: flags.role === undefined ? null : validateRole(flags.role),
    disabled,
    search: flags.search ?? null,
    limit: parseListLimit(flags.limit),
    afterId: flags.after === undefined ? null : parseCount(flags.after, '--after'),
  };

  const actor = await rt.actor();
  // Fetching one row more than the page shows whether another page follows.
  const limit = options.limit;
  const page = pageOf(listUsers(await rt.core(), actor, { ...options, limit: limit === 0 ? 0 : limit + 1 }), limit);
  if (rt.output.json) {
    await streamJsonArray(page.users);
  } else {
    await printTable(rt, page.users);
  }
  if (page.lastShownId() !== null && page.hasMore()) {
    rt.output.message(
      `More users follow: run again with --after ${page.lastShownId()} for the next page, or --limit 0 for all.`,
    );
  }
}

/** Passes on at most limit users (all with 0) and remembers whether more came. */
function pageOf(users: AsyncIterable<UserJson>, limit: number) {
  let shown = 0;
  let lastId: number | null = null;
  let more = false;
  async function* limited(): AsyncGenerator<UserJson> {
    for await (const user of users) {
      if (limit > 0 && shown === limit) {
        more = true;
        break;
      }
      shown += 1;
      lastId = user.id;
      yield user;
    }
  }
  return { users: limited(), hasMore: () => more, lastShownId: () => lastId };
}

/** Writes a JSON array one user at a time, so memory stays flat for any count. */
async function streamJsonArray(users: AsyncIterable<UserJson>): Promise<void> {
  let count = 0;
  let buffer = '[';
  for await (const user of users) {
    buffer += `${count === 0 ? '\n' : ',\n'}  ${JSON.stringify(user)}`;
    count += 1;
    if (buffer.length > 64 * 1024) {
      await writeChunk(buffer);
      buffer = '';
    }
  }
  buffer += count === 0 ? ']\n' : '\n]\n';
  await writeChunk(buffer);
}

function writeChunk(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
  });
}

async function printTable(rt: Runtime, users: AsyncIterable<UserJson>): Promise<void> {
  const style = rt.output.out;
  const headings = ['id', 'username', 'full name', 'email', 'role', 'state', '2FA', 'last login'].map((heading) => style.bold(heading));

  // On a terminal, long usernames, full names and emails are cut to fit.
  const fit = { maxWidth: rt.output.terminalColumns, shrinkable: [1, 2, 3] };

  // Tables are drawn a page at a time, so a listing of every user streams too.
  const rowsPerTable = 1000;
  let rows: string[][] = [];
  let count = 0;
  for await (const user of users) {
    rows.push([
      String(user.id),
      printableOr(user.username, '-'),
      printableOr(user.fullName, '-'),
      printableOr(user.email, '-'),
      user.role,
      describeState(rt, user),
      user.otpEnrolled ? 'enrolled' : style.yellow('pending'),
      user.lastLoginAt ?? 'never',
    ]);
    count += 1;
    if (rows.length === rowsPerTable) {
      await writeChunk(`${renderTable(headings, rows, fit)}\n`);
      rows = [];
    }
  }
  if (count === 0) {
    rt.output.message('No users match.');
    return;
  }
  if (rows.length > 0) {
    await writeChunk(`${renderTable(headings, rows, fit)}\n`);
  }
  rt.output.message(rt.output.err.dim(`${count} user${count === 1 ? '' : 's'}.`));
}
