// The one place that prompts people for input. Prompts appear only when
// standard input is a terminal and --no-input was not given. Otherwise a
// missing value is an InputError that names the flag which supplies it.

import { CancelledError, InputError } from '../core/errors.js';

export interface Prompter {
  readonly interactive: boolean;
  text(options: {
    message: string;
    flag: string;
    required?: boolean;
    validate?: (value: string) => string | true | Promise<string | true>;
  }): Promise<string>;
  /** Writes a line for the person at the prompts, on standard error. */
  notice(text: string): void;
  /** Masked prompt; when `validate` returns a message, it is shown and the prompt asked again, empty. */
  secret(options: { message: string; flag: string; validate?: (value: string) => Promise<string | true> }): Promise<string>;
}

/**
 * Unstyled prompt theme. Inquirer styles prompts with node:util styleText,
 * which (in Node 20.20) decides from standard output and the environment
 * (NO_COLOR, TERM), so it misses --no-color and a redirected standard error.
 */
const plainStyle = {
  answer: (text: string) => text,
  message: (text: string) => text,
  error: (text: string) => `> ${text}`,
  defaultAnswer: (text: string) => `(${text})`,
  help: (text: string) => text,
  highlight: (text: string) => text,
  key: (text: string) => `<${text}>`,
};
const plainTheme = {
  prefix: { idle: '?', done: '✔' },
  spinner: { frames: ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] },
  style: plainStyle,
};
const plainPasswordTheme = {
  ...plainTheme,
  style: {
    ...plainStyle,
    keysHelpTip: (keys: Array<[key: string, action: string]>) => keys.map(([key, action]) => `${key} ${action}`).join(' • '),
  },
};

/**
 * Builds the prompter; `allowed` is false with --no-input and `color` is
 * false with --no-color. Prompts go to standard error, so they are coloured
 * only when it is a terminal, and never with NO_COLOR or TERM=dumb.
 */
export function createPrompter(allowed: boolean, color = true): Prompter {
  // Both are checked on first use, because opening process.stdin takes about
  // a millisecond (measured on Node 20) that commands given every flag skip.
  let interactive: boolean | undefined;
  const isInteractive = () => (interactive ??= allowed && Boolean(process.stdin.isTTY));
  const isPlain = () => !color || Boolean(process.env.NO_COLOR) || process.env.TERM === 'dumb' || !process.stderr.isTTY;

  return {
    get interactive() {
      return isInteractive();
    },

    notice(text) {
      process.stderr.write(`${text}\n`);
    },

    async text({ message, flag, required = true, validate }) {
      if (!isInteractive()) {
        throw missingValue(flag);
      }
      const { input } = await import('@inquirer/prompts');
      return ask(() =>
        input(
          {
            message,
            required,
            validate: async (value: string) => (validate ? validate(value.trim()) : true),
            ...(isPlain() ? { theme: plainTheme } : {}),
          },
          { output: process.stderr },
        ),
      );
    },

    async secret({ message, flag, validate }) {
      if (!isInteractive()) {
        throw missingValue(flag);
      }
      const { password } = await import('@inquirer/prompts');
      // Inquirer keeps a rejected entry in the masked field, where typing
      // again would add to it unseen. So the check runs here, and a rejected
      // entry gets a new, empty prompt.
      for (;;) {
        const value = await ask(() =>
          password(
            {
              message,
              mask: '*',
              validate: (entered: string) => (entered === '' ? 'a value is required' : true),
              ...(isPlain() ? { theme: plainPasswordTheme } : {}),
            },
            { output: process.stderr },
          ),
        );
        const verdict = validate ? await validate(value) : true;
        if (verdict === true) {
          return value;
        }
        process.stderr.write(`> ${verdict}\n`);
      }
    },
  };
}

export function missingValue(flag: string): InputError {
  return new InputError(`missing value: give ${flag}, ${promptHint()}`, 'missing_value');
}

/** Returns how to get a prompt instead: a terminal, and no --no-input. */
export function promptHint(): string {
  return process.stdin.isTTY ? 'or leave out --no-input to be asked' : 'or run in a terminal to be asked';
}

async function ask<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') {
      throw new CancelledError();
    }
    throw error;
  }
}
