// Schema changes, in order. Migrations only create tables and add columns
// with defaults, so the Python app that shares the store keeps working.

import { sql, type Kysely, type Migration } from 'kysely';

export const migrations: Record<string, Migration> = {
  '0001_app_users': {
    // The Python app's own table, created as that app creates it, so either
    // program can make a new store.
    async up(db: Kysely<any>) {
      await sql`CREATE TABLE IF NOT EXISTS users (
        id INTEGER NOT NULL,
        username VARCHAR,
        email VARCHAR,
        full_name VARCHAR,
        hashed_password VARCHAR,
        otp_secret VARCHAR,
        disabled BOOLEAN,
        role VARCHAR(5),
        PRIMARY KEY (id))`.execute(db);
      await sql`CREATE UNIQUE INDEX IF NOT EXISTS ix_users_username ON users (username)`.execute(db);
      await sql`CREATE UNIQUE INDEX IF NOT EXISTS ix_users_email ON users (email)`.execute(db);
      await sql`CREATE INDEX IF NOT EXISTS ix_users_id ON users (id)`.execute(db);
    },
  },

  '0002_user_state': {
    async up(db: Kysely<any>) {
      // Rows the app inserts get otp_pending 0: a user with a secret from the
      // app scanned it there, so counts as enrolled.
      const columns: Array<[string, string]> = [
        ['otp_pending', 'INTEGER NOT NULL DEFAULT 0'],
        ['created_at', 'VARCHAR'],
        ['updated_at', 'VARCHAR'],
        ['last_login_at', 'VARCHAR'],
        ['failed_login_count', 'INTEGER NOT NULL DEFAULT 0'],
        ['failed_login_window_start', 'VARCHAR'],
        ['locked_until', 'VARCHAR'],
        ['last_totp_step', 'INTEGER'],
      ];
      for (const [name, type] of columns) {
        await sql.raw(`ALTER TABLE users ADD COLUMN ${name} ${type}`).execute(db);
      }

      // Usernames and emails are unique case-insensitively. The check runs in
      // an IMMEDIATE transaction, so these indexes need not be unique, and a
      // store whose app rows differ only in case still opens.
      await sql`CREATE INDEX ix_users_username_lower ON users (lower(username))`.execute(db);
      await sql`CREATE INDEX ix_users_email_lower ON users (lower(email))`.execute(db);
    },
  },

  '0003_sessions_recovery_audit': {
    async up(db: Kysely<any>) {
      await sql`CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        token_hash VARCHAR NOT NULL,
        created_at VARCHAR NOT NULL,
        last_used_at VARCHAR NOT NULL,
        idle_timeout_seconds INTEGER NOT NULL,
        expires_at VARCHAR NOT NULL,
        revoked_at VARCHAR)`.execute(db);
      await sql`CREATE UNIQUE INDEX ix_sessions_token_hash ON sessions (token_hash)`.execute(db);
      await sql`CREATE INDEX ix_sessions_user_id ON sessions (user_id)`.execute(db);

      await sql`CREATE TABLE recovery_codes (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        code_hash VARCHAR NOT NULL,
        created_at VARCHAR NOT NULL,
        used_at VARCHAR)`.execute(db);
      await sql`CREATE INDEX ix_recovery_codes_user_id ON recovery_codes (user_id)`.execute(db);

      // Events keep the usernames as they were, so they outlive the rows.
      await sql`CREATE TABLE audit_events (
        id INTEGER PRIMARY KEY,
        at VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        actor_id INTEGER,
        actor_username VARCHAR,
        target_id INTEGER,
        target_username VARCHAR,
        detail VARCHAR)`.execute(db);
      await sql`CREATE INDEX ix_audit_events_target_id ON audit_events (target_id, id)`.execute(db);
    },
  },
};

export const latestMigration = Object.keys(migrations).at(-1) as string;
