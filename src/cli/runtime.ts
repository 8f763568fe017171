// The runtime of one command: parsed global flags, output, prompter, and the
// store, context and logged-in user, each made on first use.

import { existsSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import envPaths from 'env-paths';
import type { CoreContext } from '../core/context.js';
import { AuthError, InputError } from '../core/errors.js';
import { parseBcryptCost } from '../core/passwords.js';
import { authenticate, type Actor } from '../core/sessions.js';
import { resolveIssuer } from '../core/totp.js';
import type { Store } from '../store/store.js';
import { Output } from './output.js';
import { createPrompter, type Prompter } from './prompts.js';
import { readSessionToken } from './session-file.js';

export interface GlobalFlags {
  db?: string;
  json?: boolean;
  /** false with --no-input. */
  input?: boolean;
  /** false with --no-color. */
  color?: boolean;
  qr?: boolean;
  qrInvert?: boolean;
}

export class Runtime {
  readonly flags: GlobalFlags;
  readonly output: Output;
  readonly prompter: Prompter;
  readonly storePath: string;
  /** Set by init-admin, the one command that may create a store. */
  createStore = false;
  private store: Store | undefined;
  private context: CoreContext | undefined;

  constructor(flags: GlobalFlags) {
    this.flags = flags;
    this.output = new Output({ json: Boolean(flags.json), color: flags.color !== false });
    this.prompter = createPrompter(flags.input !== false, flags.color !== false);
    if (flags.db !== undefined && flags.db.trim() === '') {
      throw new InputError('invalid --db "": give the path of a store file', 'usage');
    }
    const path = resolve(flags.db ?? (process.env.TWOFA_DB || join(envPaths('twofa', { suffix: '' }).data, 'twofa.db')));
    // Sessions are saved per store path, so a link to a store counts as the store.
    this.storePath = existsSync(path) ? realpathSync(path) : path;
  }

  /** Opens the store (migrating it) and returns the core context. */
  async core(): Promise<CoreContext> {
    if (this.context) {
      return this.context;
    }
    const bcryptCost = parseBcryptCost(process.env.TWOFA_BCRYPT_COST);
    const issuer = resolveIssuer(process.env.TWOFA_ISSUER);
    const { openStore } = await import('../store/store.js');
    this.store = await openStore(this.storePath, { create: this.createStore });
    if (this.store.looseMode !== null) {
      // A warning, not an error: the Python app may have made the file so.
      const mode = this.store.looseMode.toString(8).padStart(4, '0');
      this.output.message(
        this.output.err.yellow(`warning: store ${this.storePath} has mode ${mode}, so other users can read its TOTP secrets; run "chmod 600 ${this.storePath}"`),
      );
    }
    this.context = { store: this.store, bcryptCost, issuer, now: () => new Date() };
    return this.context;
  }

  /** Returns the logged-in user of this store, checked against the store now. */
  async actor(): Promise<Actor> {
    // The store first: a wrong --db is reported as such, not as "not logged in".
    const ctx = await this.core();
    const token = readSessionToken(this.storePath);
    if (token === null) {
      throw new AuthError(`not logged in to ${this.storePath}; run "twofa login"`, 'not_logged_in');
    }
    return authenticate(ctx.store, token, ctx.now());
  }

  /** Tells whether the QR code should be drawn: on a terminal, or with --qr; never in JSON. */
  get drawQr(): boolean {
    return !this.output.json && (Boolean(this.flags.qr) || this.output.stdoutIsTerminal);
  }

  async close(): Promise<void> {
    await this.store?.close();
  }
}
