// Kysely table types of the store. The users table keeps the layout of the
// Python app that shares the file; twofa's columns come after its own.

import type { Generated } from 'kysely';

export interface UsersTable {
  id: Generated<number>;
  username: string | null;
  email: string | null;
  full_name: string | null;
  hashed_password: string | null;
  otp_secret: string | null;
  disabled: number | null;
  role: string | null;
  /** 1 until the first correct code; rows of the Python app have 0. */
  otp_pending: Generated<number>;
  created_at: string | null;
  updated_at: string | null;
  last_login_at: string | null;
  failed_login_count: Generated<number>;
  failed_login_window_start: string | null;
  locked_until: string | null;
  last_totp_step: number | null;
}

export interface SessionsTable {
  id: Generated<number>;
  user_id: number;
  /** SHA-256 of the token, in hexadecimal; the token itself is never stored. */
  token_hash: string;
  created_at: string;
  last_used_at: string;
  idle_timeout_seconds: number;
  expires_at: string;
  revoked_at: string | null;
}

export interface RecoveryCodesTable {
  id: Generated<number>;
  user_id: number;
  /** SHA-256 of the normalized code, in hexadecimal. */
  code_hash: string;
  created_at: string;
  used_at: string | null;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: string;
  action: string;
  actor_id: number | null;
  actor_username: string | null;
  target_id: number | null;
  target_username: string | null;
  /** JSON object with field names and non-secret values. */
  detail: string | null;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  recovery_codes: RecoveryCodesTable;
  audit_events: AuditEventsTable;
}
