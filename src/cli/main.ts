// twofa's command-line entry: declares every command and flag, loads each
// command's code only when it runs, and maps errors to exit codes. This is
// the one place that calls process.exit.

import { Command, CommanderError, Option } from 'commander';
import type { Runtime, GlobalFlags } from './runtime.js';

declare const TWOFA_VERSION: string;
const VERSION = typeof TWOFA_VERSION === 'string' ? TWOFA_VERSION : '0.0.0-dev';

/** Exit codes; the README lists them for users. */
const EXIT_SUCCESS = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

// Commander hands each action its operands and a flags object typed by the
// command module that reads it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Action = (rt: Runtime, ...args: any[]) => Promise<void>;

const program = buildProgram();
let exitCode = EXIT_SUCCESS;
// No top-level await: the bundle is CommonJS, so that the launcher can give
// V8 a code cache for it.
void main();

async function main(): Promise<void> {
  // A reader such as "head" closes the pipe once it has read enough. That is
  // a normal end of the run, not a crash.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      process.exit(EXIT_SUCCESS);
    }
    throw error;
  });

  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    exitCode = await reportError(error, null, program.opts<GlobalFlags>());
  }
  process.exit(exitCode);
}

function buildProgram(): Command {
  const root = new Command('twofa')
    .description('Administer a SQLite user store with roles and two-factor (TOTP) login.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--db <path>', 'SQLite store file (default: $TWOFA_DB, else twofa.db in the data folder)')
    .option('--json', 'print one JSON value on standard output; errors as JSON on standard error')
    .option('--no-input', 'never prompt; a missing value is an error (exit 2)')
    .option('--no-color', 'no colour (also off with NO_COLOR, TERM=dumb, or when not a terminal)')
    .option('--qr', 'draw the QR code even when standard output is not a terminal')
    .option('--qr-invert', 'draw the QR code for light terminal themes')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ outputError: () => undefined, writeOut: writeVersionOrHelp, writeErr: writeHelpOnError })
    .addHelpText(
      'after',
      `
Examples:
  twofa init-admin                          create the first admin, in a terminal
  twofa login                               log in with password and code
  printf '%s\\n' "$PW" | twofa login --username ana --password-stdin --otp 123456 --json
  twofa users create --username bob --random-password
  twofa users list --role admin
  twofa users update bob --disable

Exit codes: 0 success, 1 unexpected failure or unusable store, 2 invalid usage
or input, 3 not authenticated, 4 permission denied, 5 not found, 6 conflict,
7 account locked after failed logins, 130 cancelled with Ctrl-C.`,
    );

  root
    .command('init-admin')
    .description('create the first admin of a store and enroll its authenticator app')
    .option('--username <name>', 'username: 3-32 characters, a letter first, then letters, digits, ".", "_" or "-"')
    .option('--email <address>', 'email address (optional)')
    .option('--full-name <name>', 'full name (optional)')
    .addOption(passwordStdinOption())
    .addOption(passwordFileOption())
    .addHelpText('after', '\nExample:\n  TWOFA_PASSWORD=... twofa init-admin --username root --no-input --json')
    .action(command(async (rt, flags) => (await import('./commands/init-admin.js')).runInitAdmin(rt, flags)));

  root
    .command('login')
    .description('log in with password and TOTP code; saves a session for this store')
    .option('--username <name>', 'username to log in as')
    .addOption(passwordStdinOption())
    .addOption(passwordFileOption())
    .option('--otp <code>', 'TOTP code from the authenticator app (or TWOFA_OTP)')
    .option('--recovery-code <code>', 'a recovery code, in place of the TOTP code')
    .option('--ttl <duration>', 'session lifetime: 45s, 30m, 12h or 7d, at most 30d (default 12h)')
    .addHelpText('after', '\nExample:\n  twofa login --username ana --password-file ~/.ana-pw --otp "$(oathtool --totp -b "$SECRET")"')
    .action(command(async (rt, flags) => (await import('./commands/login.js')).runLogin(rt, flags)));

  root
    .command('logout')
    .description('end the session for this store and delete the saved token')
    .action(command(async (rt) => (await import('./commands/login.js')).runLogout(rt)));

  const users = root.command('users').description('show, create, change and list users');

  users
    .command('me')
    .description('show the logged-in user')
    .action(command(async (rt) => (await import('./commands/users.js')).runMe(rt)));

  users
    .command('get')
    .description('show a user (admins, or the user themself)')
    .argument('<user>', 'numeric id or username')
    .action(command(async (rt, user: string) => (await import('./commands/users.js')).runGet(rt, user)));

  users
    .command('create')
    .description('create a user (admins only); TOTP enrollment happens at their first login')
    .option('--username <name>', 'username: 3-32 characters, a letter first, then letters, digits, ".", "_" or "-"')
    .option('--email <address>', 'email address (optional)')
    .option('--full-name <name>', 'full name (optional)')
    .addOption(new Option('--role <role>', 'role').choices(['user', 'admin']).default(undefined, 'user'))
    .addOption(passwordStdinOption())
    .addOption(passwordFileOption())
    .option('--random-password', 'generate a password of 20 characters and print it once')
    .addHelpText('after', '\nExample:\n  twofa users create --username bob --email bob@example.com --random-password')
    .action(command(async (rt, flags) => (await import('./commands/users.js')).runCreate(rt, flags)));

  users
    .command('update')
    .description('change a user; without USER, change yourself')
    .argument('[user]', 'numeric id or username (default: yourself)')
    .option('--email <address>', 'new email address ("" removes it)')
    .option('--full-name <name>', 'new full name ("" removes it)')
    .option('--change-password', 'set a new password (yours: asks for the current one too)')
    .addOption(passwordStdinOption('current password: the first line of standard input'))
    .addOption(passwordFileOption('current password: the first line of FILE'))
    .option('--new-password-stdin', 'new password: the next line of standard input')
    .option('--new-password-file <file>', 'new password: the first line of FILE')
    .option('--new-recovery-codes', 'issue 10 new recovery codes to yourself and void the old ones')
    .addOption(new Option('--role <role>', 'new role (admins only)').choices(['user', 'admin']))
    .option('--disable', 'disable the account and end its sessions (admins only)')
    .option('--enable', 'enable the account (admins only)')
    .option('--reset-otp', 'new TOTP secret; enrollment again at the next login (admins only)')
    .option('--unlock', 'lift a lock after failed logins (admins only)')
    .addHelpText('after', '\nExamples:\n  twofa users update --change-password\n  twofa users update bob --role admin')
    .action(command(async (rt, user: string | undefined, flags) => (await import('./commands/users.js')).runUpdate(rt, user, flags)));

  users
    .command('list')
    .description('list users by id (admins only)')
    .addOption(new Option('--role <role>', 'only this role').choices(['user', 'admin']))
    .option('--disabled', 'only disabled users')
    .option('--enabled', 'only enabled users')
    .option('--search <text>', 'only users whose username, email or full name contains TEXT')
    .option('--limit <count>', 'at most COUNT users; 0 lists all (default 100)')
    .option('--after <id>', 'start after this user id, for the next page')
    .addHelpText('after', '\nExample:\n  twofa users list --limit 50 --after 1200 --json')
    .action(command(async (rt, flags) => (await import('./commands/users.js')).runList(rt, flags)));

  root
    .command('audit')
    .description('show the audit log, newest first (admins only)')
    .option('--user <user>', 'only events where this user acted or was the target')
    .option('--limit <count>', 'at most COUNT events; 0 shows all (default 50)')
    .option('--before <id>', 'only events older than the event with this id, for the next page')
    .addHelpText('after', '\nExample:\n  twofa audit --user bob --limit 20 --before 310 --json')
    .action(command(async (rt, flags) => (await import('./commands/audit.js')).runAudit(rt, flags)));

  return root;
}

/** Writes commander's output; with --json, the version as one JSON value. */
function writeVersionOrHelp(text: string): void {
  const asJson = process.argv.includes('--json') && text === `${VERSION}\n`;
  process.stdout.write(asJson ? `${JSON.stringify({ version: VERSION })}\n` : text);
}

function passwordStdinOption(description = 'read the password from the first line of standard input'): Option {
  return new Option('--password-stdin', description);
}

function passwordFileOption(description = 'read the password from the first line of FILE'): Option {
  return new Option('--password-file <file>', description);
}

/**
 * Wraps a command's action: builds the runtime from the global flags, runs
 * the action, and records the exit code of any error.
 */
function command(action: Action): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const invoked = args.at(-1) as Command;
    const operands = args.slice(0, -2);
    const localFlags = args.at(-2) as Record<string, unknown>;
    const globalFlags = invoked.optsWithGlobals<GlobalFlags>();

    const { Runtime } = await import('./runtime.js');
    let rt: Runtime | null = null;
    try {
      rt = new Runtime(globalFlags);
      await rt.output.enableColor();
      await action(rt, ...operands, localFlags);
    } catch (error) {
      exitCode = await reportError(error, rt, globalFlags);
    } finally {
      await rt?.close().catch(() => undefined);
    }
  };
}

/** Tells whether --json was given, before commander has parsed it. */
function wantsJson(): boolean {
  return process.argv.slice(2).includes('--json');
}

/** Writes the help that commander prints for a missing command, unless the output is JSON. */
function writeHelpOnError(text: string): void {
  if (!wantsJson()) {
    process.stderr.write(text);
  }
}

/** Returns the help command of the deepest command that the arguments name, such as "twofa users create --help". */
function helpCommandFor(args: string[]): string {
  const names: string[] = [];
  let current: Command = program;
  for (const argument of args) {
    const next = argument.startsWith('-') ? undefined : current.commands.find((command) => command.name() === argument);
    if (next === undefined) {
      continue;
    }
    names.push(next.name());
    current = next;
  }
  return ['twofa', ...names, '--help'].join(' ');
}

/** Prints an error as one line (or one JSON object) and returns its exit code. */
async function reportError(error: unknown, rt: Runtime | null, flags: GlobalFlags): Promise<number> {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
      return EXIT_SUCCESS;
    }
    if (error.code === 'commander.help') {
      // Help printed for a missing command ("twofa", "twofa users") is a usage
      // error. With --json, the error object takes the place of the help.
      if (error.exitCode === 0) {
        return EXIT_SUCCESS;
      }
      if (wantsJson()) {
        printPlainError(flags, 'usage', `missing command; see "${helpCommandFor(process.argv.slice(2))}"`);
      }
      return EXIT_USAGE;
    }
    // Commander puts its "Did you mean" hint on a second line.
    const detail = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').replace(/\.$/, '');
    const message = `${detail}; see "${helpCommandFor(process.argv.slice(2))}"`;
    printPlainError(flags, 'usage', message);
    return EXIT_USAGE;
  }

  const { TwofaError } = await import('../core/errors.js');
  const { translateStoreError } = await import('../store/errors.js');
  const translated = rt ? translateStoreError(error, rt.storePath) : error;

  if (translated instanceof TwofaError) {
    if (rt) {
      rt.output.error(translated.code, translated.message, translated.details);
    } else {
      printPlainError(flags, translated.code, translated.message);
    }
    return translated.exitCode;
  }

  const message = translated instanceof Error ? translated.message : String(translated);
  printPlainError(flags, 'internal', `unexpected failure: ${message}`);
  if (translated instanceof Error && translated.stack && !flags.json) {
    process.stderr.write(`${translated.stack}\n`);
  }
  return EXIT_FAILURE;
}

function printPlainError(flags: GlobalFlags, code: string, message: string): void {
  if (flags.json) {
    process.stderr.write(`${JSON.stringify({ error: { code, message } })}\n`);
  } else {
    process.stderr.write(`error: ${message}\n`);
  }
}
