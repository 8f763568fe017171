// User administration with its role rules. Every rule is enforced here, so
// no front end can skip one.

import { sql, type Kysely, type Updateable } from 'kysely';
import type { Database, UsersTable } from '../store/schema.js';
import { writeTransaction } from '../store/store.js';
import { foldForSearch, SEARCH_FOLD_FUNCTION } from './search.js';
import { recordAuditEvent, type AuditParty } from './audit.js';
import type { CoreContext } from './context.js';
import { AuthError, ConflictError, InputError, NotFoundError, PermissionError } from './errors.js';
import { hashPassword, requireDifferentPassword, validateNewPassword, verifyPassword } from './passwords.js';
import {
  describeRef,
  findUserRow,
  isDisabled,
  roleOf,
  selectPublicUsers,
  toUserJson,
  type PublicUserRow,
  type UserJson,
  type UserRow,
} from './records.js';
import { recordFailure, requireNotLocked } from './login.js';
import { completeEnrollment, issueRecoveryCodes } from './recovery.js';
import { revokeUserSessions, type Actor } from './sessions.js';
import { buildOtpauthUri, checkTotpCode, createTotpSecret } from './totp.js';
import { validateEmail, validateFullName, validateRole, validateUsername, type Role, type UserRef } from './validation.js';

/** A new user's fields as given; createUser and initAdmin validate them. */
export interface NewUserInput {
  username: string;
  email: string | null;
  fullName: string | null;
  role: Role;
  password: string;
}

export interface Enrollment {
  user: UserJson;
  secret: string;
  otpauthUri: string;
}

export interface ListUsersOptions {
  role: Role | null;
  disabled: boolean | null;
  search: string | null;
  /** 0 means no limit. */
  limit: number;
  afterId: number | null;
}

/** Changes to one user; undefined leaves a field as it is. */
export interface UserChanges {
  email?: string | null;
  fullName?: string | null;
  role?: Role;
  disabled?: boolean;
  /** The new password as given; updateUser applies the password policy. */
  newPassword?: string;
  /** Required with newPassword when users change their own. */
  currentPassword?: string;
  newRecoveryCodes?: boolean;
  resetOtp?: boolean;
  unlock?: boolean;
}

export interface UpdateResult {
  user: UserJson;
  /** Set when the update issued new recovery codes. */
  recoveryCodes: string[] | null;
}

/** Throws ConflictError when the store has an admin already. */
export async function requireNoAdmin(ctx: CoreContext): Promise<void> {
  const admin = await ctx.store.db.selectFrom('users').select('id').where('role', '=', 'admin').executeTakeFirst();
  if (admin) {
    throw new ConflictError('this store already has an admin; log in as that admin and use "twofa users create"', 'admin_exists');
  }
}

/**
 * Creates the first admin of a store that has none. Without `shown`, the
 * admin gets a new secret pending enrollment. `shown.secret` is a secret
 * already shown to the person, kept pending when `shown.code` is null. With
 * the first code from their app, the enrollment is confirmed in the same
 * transaction and recovery codes are issued. A wrong code throws AuthError
 * and writes nothing.
 */
export async function initAdmin(
  ctx: CoreContext,
  input: Omit<NewUserInput, 'role'>,
  shown?: { secret: string; code: string | null },
): Promise<Enrollment & { recoveryCodes: string[] | null }> {
  const valid = await validateNewUser({ ...input, role: 'admin' });
  const hashedPassword = await hashPassword(valid.password, ctx.bcryptCost);

  return writeTransaction(ctx.store, async (trx) => {
    await requireNoAdmin({ ...ctx, store: { ...ctx.store, db: trx } });
    const fields = { ...valid, hashedPassword, actor: null };
    if (!shown || shown.code === null) {
      const enrollment = await insertUser(ctx, trx, shown ? { ...fields, secret: shown.secret } : fields);
      return { ...enrollment, recoveryCodes: null };
    }

    const now = ctx.now();
    const check = checkTotpCode({ secret: shown.secret, code: shown.code, nowSeconds: now.getTime() / 1000 });
    if (!check.valid) {
      throw new AuthError('invalid code: it does not match the secret at the current time; check the clock of the device', 'invalid_code');
    }
    const enrollment = await insertUser(ctx, trx, { ...fields, secret: shown.secret, confirmedStep: check.step });
    // The events follow user.created, so they take its time, not the earlier one of the code check.
    const nowIso = enrollment.user.createdAt ?? now.toISOString();
    const recoveryCodes = await completeEnrollment(trx, partyOf(enrollment.user), nowIso);
    return { ...enrollment, recoveryCodes };
  });
}

/** Creates a user (admin only), with a TOTP secret pending enrollment. */
export async function createUser(ctx: CoreContext, actor: Actor, input: NewUserInput): Promise<Enrollment> {
  requireAdmin(actor, 'create users');
  const valid = await validateNewUser(input);
  const hashedPassword = await hashPassword(valid.password, ctx.bcryptCost);

  return writeTransaction(ctx.store, async (trx) => {
    await requireActorStillAdmin(trx, actor, 'create users');
    return insertUser(ctx, trx, { ...valid, hashedPassword, actor: partyOf(actor.user) });
  });
}

/** Returns a user to an admin, or to the user themself. */
export async function getUser(ctx: CoreContext, actor: Actor, ref: UserRef): Promise<UserJson> {
  const row = await findUserRow(ctx.store.db, ref);
  const isSelf = row !== undefined && row.id === actor.user.id;

  if (!isSelf && roleOf(actor.user) !== 'admin') {
    throw new PermissionError('only admins can view other users; use "twofa users me" for your own account');
  }
  if (!row) {
    throw new NotFoundError(`user ${describeRef(ref)} not found; list users with "twofa users list"`);
  }
  return toUserJson(row);
}

/** Returns the logged-in user. */
export function describeSelf(actor: Actor): UserJson {
  return toUserJson(actor.user);
}

/**
 * Yields users (admin only) ordered by id, one page after afterId, or all of
 * them, row by row, when limit is 0.
 */
export async function* listUsers(ctx: CoreContext, actor: Actor, options: ListUsersOptions): AsyncGenerator<UserJson> {
  requireAdmin(actor, 'list users');

  let query = selectPublicUsers(ctx.store.db).orderBy('id');
  if (options.afterId !== null) {
    query = query.where('id', '>', options.afterId);
  }
  if (options.role === 'admin') {
    query = query.where('role', '=', 'admin');
  } else if (options.role === 'user') {
    query = query.where((eb) => eb.or([eb('role', '!=', 'admin'), eb('role', 'is', null)]));
  }
  if (options.disabled !== null) {
    query = options.disabled
      ? query.where('disabled', '=', 1)
      : query.where((eb) => eb.or([eb('disabled', '=', 0), eb('disabled', 'is', null)]));
  }
  if (options.search !== null && options.search !== '') {
    // instr() takes the text literally, so % and _ need no escaping. Each row
    // is folded in JavaScript: about 1 s per million users, measured on Node 20.
    const term = foldForSearch(options.search);
    const fold = sql.raw(SEARCH_FOLD_FUNCTION);
    query = query.where((eb) =>
      eb.or((['username', 'email', 'full_name'] as const).map((column) => sql<boolean>`instr(${fold}(${eb.ref(column)}), ${term}) > 0`)),
    );
  }
  if (options.limit > 0) {
    query = query.limit(options.limit);
  }

  for await (const row of query.stream()) {
    yield toUserJson(row as PublicUserRow);
  }
}

/**
 * Updates a user, or the actor when ref is null. Only admins may change other
 * users, roles, the disabled flag, TOTP enrollment and locks. No user may
 * change their own role or disabled flag, and no change may leave the store
 * without an enabled admin.
 */
export async function updateUser(ctx: CoreContext, actor: Actor, ref: UserRef | null, given: UserChanges): Promise<UpdateResult> {
  requireSomeChange(given);
  const changes: UserChanges = {
    ...given,
    ...(typeof given.email === 'string' ? { email: validateEmail(given.email) } : {}),
    ...(typeof given.fullName === 'string' ? { fullName: validateFullName(given.fullName) } : {}),
    ...(given.role !== undefined ? { role: validateRole(given.role) } : {}),
  };
  // A plain user learns nothing about other accounts, not even whether they exist.
  if (ref !== null && roleOf(actor.user) !== 'admin' && !refersTo(ref, actor.user)) {
    throw new PermissionError('only admins can change other users; you may change only your own account');
  }
  const target = ref === null ? actor.user : await findUserRow(ctx.store.db, ref);
  if (!target) {
    throw new NotFoundError(`user ${describeRef(ref as UserRef)} not found; list users with "twofa users list"`);
  }
  const isSelf = target.id === actor.user.id;
  requireUpdateAllowed(actor, target, isSelf, changes);

  if (changes.newPassword !== undefined && isSelf) {
    await checkCurrentPassword(ctx, actor, changes.currentPassword ?? '');
    requireDifferentPassword(changes.newPassword, changes.currentPassword ?? '');
  }
  const newPassword = changes.newPassword === undefined ? null : await validateNewPassword(changes.newPassword, target.username);
  const newHash = newPassword === null ? null : await hashPassword(newPassword, ctx.bcryptCost);

  return writeTransaction(ctx.store, async (trx) => {
    const nowIso = ctx.now().toISOString();
    const current = await trx.selectFrom('users').selectAll().where('id', '=', target.id).executeTakeFirst();
    if (!current) {
      throw new NotFoundError(`user ${describeRef({ id: target.id })} not found; it was removed meanwhile`);
    }
    await requireAdminRemains(trx, current, changes);
    await requireActorStillAllowed(trx, actor, isSelf);
    return applyChanges(trx, { actor, target: current, changes, newHash, nowIso });
  });
}

/**
 * Checks the actor's current password before a password change. A wrong one
 * counts as a failed login and a locked account is rejected, so a left-open
 * session cannot be used to guess it without limit.
 */
export async function checkCurrentPassword(ctx: CoreContext, actor: Actor, password: string): Promise<void> {
  requireNotLocked(actor.user, ctx.now());
  if (!(await verifyPassword(password, actor.user.hashed_password, ctx.bcryptCost))) {
    await recordFailure(ctx, actor.user.id, 'current_password', partyOf(actor.user));
    throw new AuthError('current password is wrong; the password was not changed', 'wrong_password');
  }
}


/** Returns the message for a username or email that is taken, or null; for prompts. */
export async function findTaken(ctx: CoreContext, value: { username?: string; email?: string }): Promise<string | null> {
  try {
    if (value.username !== undefined) {
      await requireUniqueUsername(ctx.store.db, value.username, null);
    }
    if (value.email !== undefined) {
      await requireUniqueEmail(ctx.store.db, value.email, null);
    }
    return null;
  } catch (error) {
    if (error instanceof ConflictError) {
      return error.message;
    }
    throw error;
  }
}

async function validateNewUser(input: NewUserInput): Promise<NewUserInput> {
  const username = validateUsername(input.username);
  return {
    username,
    email: input.email === null ? null : validateEmail(input.email),
    fullName: input.fullName === null ? null : validateFullName(input.fullName),
    role: validateRole(input.role),
    password: await validateNewPassword(input.password, username),
  };
}

async function insertUser(
  ctx: CoreContext,
  trx: Kysely<Database>,
  input: Omit<NewUserInput, 'password'> & {
    hashedPassword: string;
    actor: AuditParty | null;
    /** A secret already shown to the person, and the step of their first code. */
    secret?: string;
    confirmedStep?: number;
  },
): Promise<Enrollment> {
  await requireUniqueUsername(trx, input.username, null);
  if (input.email !== null) {
    await requireUniqueEmail(trx, input.email, null);
  }

  const nowIso = ctx.now().toISOString();
  const secret = input.secret ?? createTotpSecret();
  const confirmed = input.confirmedStep !== undefined;
  const inserted = await trx
    .insertInto('users')
    .values({
      username: input.username,
      email: input.email,
      full_name: input.fullName,
      hashed_password: input.hashedPassword,
      otp_secret: secret,
      disabled: 0,
      role: input.role,
      otp_pending: confirmed ? 0 : 1,
      last_totp_step: input.confirmedStep ?? null,
      created_at: nowIso,
      updated_at: nowIso,
    })
    .returningAll()
    .executeTakeFirstOrThrow();

  const party = partyOf(inserted);
  await recordAuditEvent(trx, {
    action: 'user.created',
    nowIso,
    actor: input.actor ?? party,
    target: party,
    detail: { role: input.role, ...(input.actor === null ? { firstAdmin: true } : {}) },
  });
  return {
    user: toUserJson(inserted),
    secret,
    otpauthUri: buildOtpauthUri({ issuer: ctx.issuer, username: input.username, secret }),
  };
}

async function applyChanges(
  trx: Kysely<Database>,
  options: { actor: Actor; target: UserRow; changes: UserChanges; newHash: string | null; nowIso: string },
): Promise<UpdateResult> {
  const { actor, target, changes, newHash, nowIso } = options;
  const actorParty = partyOf(actor.user);
  const targetParty = partyOf(target);
  const isSelf = target.id === actor.user.id;
  const values: Updateable<UsersTable> = {};
  const changedFields: string[] = [];
  const revokeReasons: string[] = [];

  if (changes.email !== undefined && changes.email !== target.email) {
    if (changes.email !== null) {
      await requireUniqueEmail(trx, changes.email, target.id);
    }
    values.email = changes.email;
    changedFields.push('email');
  }
  if (changes.fullName !== undefined && changes.fullName !== target.full_name) {
    values.full_name = changes.fullName;
    changedFields.push('fullName');
  }
  if (changes.role !== undefined && changes.role !== roleOf(target)) {
    values.role = changes.role;
    revokeReasons.push('role changed');
    await recordAuditEvent(trx, { action: 'user.role_changed', nowIso, actor: actorParty, target: targetParty, detail: { from: roleOf(target), to: changes.role } });
  }
  if (changes.disabled !== undefined && changes.disabled !== isDisabled(target)) {
    values.disabled = changes.disabled ? 1 : 0;
    if (changes.disabled) {
      revokeReasons.push('disabled');
    }
    await recordAuditEvent(trx, { action: changes.disabled ? 'user.disabled' : 'user.enabled', nowIso, actor: actorParty, target: targetParty });
  }
  if (newHash !== null) {
    values.hashed_password = newHash;
    revokeReasons.push('password changed');
    await recordAuditEvent(trx, { action: 'user.password_changed', nowIso, actor: actorParty, target: targetParty });
  }
  if (changes.resetOtp) {
    Object.assign(values, { otp_secret: createTotpSecret(), otp_pending: 1, last_totp_step: null });
    revokeReasons.push('TOTP reset');
    await trx.deleteFrom('recovery_codes').where('user_id', '=', target.id).execute();
    await recordAuditEvent(trx, { action: 'otp.reset', nowIso, actor: actorParty, target: targetParty });
  }
  // Unlocking an account that has no lock and no failures changes nothing.
  if (changes.unlock && (target.locked_until !== null || target.failed_login_count > 0)) {
    Object.assign(values, { failed_login_count: 0, failed_login_window_start: null, locked_until: null });
    await recordAuditEvent(trx, { action: 'user.unlocked', nowIso, actor: actorParty, target: targetParty });
  }

  if (Object.keys(values).length > 0) {
    values.updated_at = nowIso;
    await trx.updateTable('users').set(values).where('id', '=', target.id).execute();
  }
  if (changedFields.length > 0) {
    await recordAuditEvent(trx, { action: 'user.updated', nowIso, actor: actorParty, target: targetParty, detail: { fields: changedFields } });
  }

  if (revokeReasons.length > 0) {
    // A password change alone keeps the session that made it; any other
    // reason ends every session of the target, the actor's own included.
    const passwordOnly = revokeReasons.length === 1 && revokeReasons[0] === 'password changed';
    const keepSessionId = passwordOnly && isSelf ? actor.sessionId : undefined;
    const count = await revokeUserSessions(trx, { userId: target.id, nowIso, ...(keepSessionId !== undefined ? { keepSessionId } : {}) });
    if (count > 0) {
      await recordAuditEvent(trx, {
        action: 'sessions.revoked',
        nowIso,
        actor: actorParty,
        target: targetParty,
        detail: { count, reason: revokeReasons.join(', ') },
      });
    }
  }

  let recoveryCodes: string[] | null = null;
  if (changes.newRecoveryCodes) {
    recoveryCodes = await issueRecoveryCodes(trx, target.id, nowIso);
    await recordAuditEvent(trx, { action: 'recovery_codes.issued', nowIso, actor: actorParty, target: targetParty, detail: { count: recoveryCodes.length } });
  }

  const updated = await trx.selectFrom('users').selectAll().where('id', '=', target.id).executeTakeFirstOrThrow();
  return { user: toUserJson(updated), recoveryCodes };
}

function requireSomeChange(changes: UserChanges): void {
  const given =
    changes.email !== undefined ||
    changes.fullName !== undefined ||
    changes.role !== undefined ||
    changes.disabled !== undefined ||
    changes.newPassword !== undefined ||
    Boolean(changes.newRecoveryCodes || changes.resetOtp || changes.unlock);
  if (!given) {
    throw new InputError(
      'nothing to update: give at least one of --email, --full-name, --change-password, --new-recovery-codes, --role, --disable, --enable, --reset-otp, --unlock',
      'usage',
    );
  }
}

function requireUpdateAllowed(actor: Actor, target: UserRow, isSelf: boolean, changes: UserChanges): void {
  const isAdmin = roleOf(actor.user) === 'admin';

  if (isSelf && changes.role !== undefined) {
    throw new PermissionError('you cannot change your own role; another admin must do it');
  }
  if (isSelf && changes.disabled !== undefined) {
    throw new PermissionError('you cannot disable or enable your own account; another admin must do it');
  }
  if (!isSelf && !isAdmin) {
    throw new PermissionError(`only admins can change other users; you may change only your own account`);
  }
  if (!isAdmin && (changes.resetOtp || changes.unlock)) {
    throw new PermissionError('only admins can reset TOTP or unlock accounts');
  }
  if (!isSelf && changes.newRecoveryCodes) {
    throw new PermissionError(
      `recovery codes are shown once to their owner; ${target.username ?? 'the user'} must run "twofa users update --new-recovery-codes", or reset TOTP with --reset-otp`,
    );
  }
  if (changes.newRecoveryCodes && (target.otp_secret === null || target.otp_pending !== 0)) {
    throw new InputError('TOTP enrollment is still pending: log in with a code first, then issue recovery codes');
  }
}

/** Refuses a demotion or a disable that would leave no enabled admin. */
async function requireAdminRemains(trx: Kysely<Database>, target: UserRow, changes: UserChanges): Promise<void> {
  const wasActiveAdmin = roleOf(target) === 'admin' && !isDisabled(target);
  const staysActiveAdmin = (changes.role ?? roleOf(target)) === 'admin' && !(changes.disabled ?? isDisabled(target));
  if (!wasActiveAdmin || staysActiveAdmin) {
    return;
  }

  const other = await trx
    .selectFrom('users')
    .select('id')
    .where('role', '=', 'admin')
    .where((eb) => eb.or([eb('disabled', '=', 0), eb('disabled', 'is', null)]))
    .where('id', '!=', target.id)
    .executeTakeFirst();
  if (!other) {
    throw new ConflictError(`cannot change ${target.username ?? target.id}: no enabled admin would remain; make another admin first`, 'last_admin');
  }
}

/** Re-reads the actor inside the transaction: a concurrent change may have demoted them. */
async function requireActorStillAllowed(trx: Kysely<Database>, actor: Actor, isSelf: boolean): Promise<void> {
  const row = await trx.selectFrom('users').select(['role', 'disabled']).where('id', '=', actor.user.id).executeTakeFirst();
  if (!row || isDisabled(row)) {
    throw new PermissionError('your account was disabled meanwhile');
  }
  if (!isSelf && roleOf(row) !== 'admin') {
    throw new PermissionError('your admin role was removed meanwhile');
  }
}

async function requireActorStillAdmin(trx: Kysely<Database>, actor: Actor, action: string): Promise<void> {
  const row = await trx.selectFrom('users').select(['role', 'disabled']).where('id', '=', actor.user.id).executeTakeFirst();
  if (!row || isDisabled(row) || roleOf(row) !== 'admin') {
    throw new PermissionError(`only admins can ${action}; your role changed meanwhile`);
  }
}

function requireAdmin(actor: Actor, action: string): void {
  if (roleOf(actor.user) !== 'admin') {
    throw new PermissionError(`only admins can ${action}; you are logged in as ${actor.user.username ?? actor.user.id}, a user`);
  }
}

async function requireUniqueUsername(trx: Kysely<Database>, username: string, exceptId: number | null): Promise<void> {
  if (await isTaken(trx, 'username', username, exceptId)) {
    throw new ConflictError(`username "${username}" is taken; choose another`, 'username_taken');
  }
}

async function requireUniqueEmail(trx: Kysely<Database>, email: string, exceptId: number | null): Promise<void> {
  if (await isTaken(trx, 'email', email, exceptId)) {
    throw new ConflictError(`email "${email}" is taken by another user; use another address`, 'email_taken');
  }
}

/** Looks the value up case-insensitively, through the index on lower(column). */
async function isTaken(trx: Kysely<Database>, column: 'username' | 'email', value: string, exceptId: number | null): Promise<boolean> {
  let query = trx.selectFrom('users').select('id').where((eb) => eb(eb.fn('lower', [column]), '=', value.toLowerCase()));
  if (exceptId !== null) {
    query = query.where('id', '!=', exceptId);
  }
  return (await query.executeTakeFirst()) !== undefined;
}

/** Tells whether a USER argument names this user (by id, or username in any case). */
export function refersTo(ref: UserRef, user: { id: number; username: string | null }): boolean {
  return 'id' in ref ? ref.id === user.id : ref.username.toLowerCase() === (user.username ?? '').toLowerCase();
}

function partyOf(user: { id: number; username: string | null }): AuditParty {
  return { id: user.id, username: user.username };
}
