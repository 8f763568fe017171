// Reading user rows. Queries that return users to callers select only the
// public columns; the secret columns are read only where a check needs them.

import type { Kysely, Selectable } from 'kysely';
import type { Database, UsersTable } from '../store/schema.js';
import { NotFoundError } from './errors.js';
import type { Role, UserRef } from './validation.js';

export type UserRow = Selectable<UsersTable>;

/** The user as shown to people and scripts: no hash, no secret. */
export interface UserJson {
  id: number;
  username: string | null;
  email: string | null;
  fullName: string | null;
  role: Role;
  disabled: boolean;
  otpEnrolled: boolean;
  createdAt: string | null;
  updatedAt: string | null;
  lastLoginAt: string | null;
}

export interface PublicUserRow {
  id: number;
  username: string | null;
  email: string | null;
  full_name: string | null;
  role: string | null;
  disabled: number | null;
  otp_secret_present: number;
  otp_pending: number;
  created_at: string | null;
  updated_at: string | null;
  last_login_at: string | null;
  locked_until: string | null;
}

/** Selects the public columns; the secret is reduced to whether it is set. */
export function selectPublicUsers(db: Kysely<Database>) {
  return db
    .selectFrom('users')
    .select((eb) => [
      'id',
      'username',
      'email',
      'full_name',
      'role',
      'disabled',
      eb.case().when('otp_secret', 'is not', null).then(1).else(0).end().as('otp_secret_present'),
      'otp_pending',
      'created_at',
      'updated_at',
      'last_login_at',
      'locked_until',
    ]);
}

/**
 * Key of the lock time on a UserJson, for people's views. A symbol, so that
 * JSON output keeps exactly the documented fields.
 */
export const LOCKED_UNTIL = Symbol('lockedUntil');

export function lockedUntilOf(user: UserJson): string | null {
  return (user as UserJson & { [LOCKED_UNTIL]?: string | null })[LOCKED_UNTIL] ?? null;
}

export function toUserJson(row: PublicUserRow | UserRow): UserJson {
  const secretPresent = 'otp_secret_present' in row ? row.otp_secret_present === 1 : row.otp_secret !== null;
  const json: UserJson = {
    id: row.id,
    username: row.username,
    email: row.email,
    fullName: row.full_name,
    role: roleOf(row),
    disabled: isDisabled(row),
    otpEnrolled: secretPresent && row.otp_pending === 0,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastLoginAt: row.last_login_at,
  };
  Object.defineProperty(json, LOCKED_UNTIL, { value: row.locked_until, enumerable: false });
  return json;
}

/** Rows from the Python app may lack a role; they count as plain users. */
export function roleOf(row: { role: string | null }): Role {
  return row.role === 'admin' ? 'admin' : 'user';
}

export function isDisabled(row: { disabled: number | null }): boolean {
  return Boolean(row.disabled);
}

/** Finds the full row by id or username (case-insensitive), or undefined. */
export async function findUserRow(db: Kysely<Database>, ref: UserRef): Promise<UserRow | undefined> {
  const query = db.selectFrom('users').selectAll();
  if ('id' in ref) {
    return query.where('id', '=', ref.id).executeTakeFirst();
  }
  // An exact match wins over one that differs only in case, for stores where
  // the app allowed both.
  return query
    .where((eb) => eb(eb.fn('lower', ['username']), '=', ref.username.toLowerCase()))
    .orderBy((eb) => eb.case().when('username', '=', ref.username).then(0).else(1).end())
    .orderBy('id')
    .executeTakeFirst();
}

export async function requireUserRow(db: Kysely<Database>, ref: UserRef): Promise<UserRow> {
  const row = await findUserRow(db, ref);
  if (!row) {
    throw new NotFoundError(`user ${describeRef(ref)} not found; list users with "twofa users list"`);
  }
  return row;
}

export function describeRef(ref: UserRef): string {
  return 'id' in ref ? `with id ${ref.id}` : `"${ref.username}"`;
}
