// Defaults and limits of twofa in one place. Units are part of each name.

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
export const TOTP_ALGORITHM = 'SHA1';
/** Steps accepted before and after the current one, for clock drift. */
export const TOTP_WINDOW_STEPS = 1;
export const TOTP_SECRET_BYTES = 20;
/** 16 base32 characters, as the Python app's secrets have. otplib 13 requires 16 bytes unless configured otherwise. */
export const TOTP_MIN_SECRET_BYTES = 10;
export const DEFAULT_ISSUER = 'twofa';

export const DEFAULT_BCRYPT_COST = 12;
export const MIN_BCRYPT_COST = 10;
export const MAX_BCRYPT_COST = 15;
export const MIN_PASSWORD_CHARACTERS = 8;
/** bcrypt ignores every byte past the 72nd. */
export const MAX_PASSWORD_BYTES = 72;
export const RANDOM_PASSWORD_CHARACTERS = 20;

export const MIN_USERNAME_CHARACTERS = 3;
export const MAX_USERNAME_CHARACTERS = 32;
export const MAX_EMAIL_CHARACTERS = 254;
export const MAX_FULL_NAME_CHARACTERS = 200;

export const SESSION_TOKEN_BYTES = 32;
export const DEFAULT_SESSION_IDLE_SECONDS = 30 * 60;
export const DEFAULT_SESSION_TTL_SECONDS = 12 * 60 * 60;
export const MAX_SESSION_TTL_SECONDS = 30 * 24 * 60 * 60;
/** Last-use times are written at most this often, so reads stay reads. */
export const SESSION_TOUCH_INTERVAL_SECONDS = 30;

export const MAX_FAILED_LOGINS = 5;
export const FAILED_LOGIN_WINDOW_SECONDS = 15 * 60;
export const LOCKOUT_SECONDS = 15 * 60;

export const RECOVERY_CODE_COUNT = 10;
/** 10 bytes are 80 random bits, shown as 20 hexadecimal digits. */
export const RECOVERY_CODE_BYTES = 10;

export const STORE_BUSY_TIMEOUT_MS = 5000;
export const DEFAULT_LIST_LIMIT = 100;
export const DEFAULT_AUDIT_LIMIT = 50;
