// The one place that asks people for input. Prompts appear only when standard
// input is a terminal and --no-input was not given; otherwise a missing value
// is an InputError that names the flag which supplies it.

import { CancelledError, InputError } from '../core/errors.js';

export interface Prompter {
  readonly interactive: boolean;
  text(options: { message: string; flag: string; required?: boolean; validate?: (value: string) => string | true }): Promise<string>;
  secret(options: { message: string; flag: string }): Promise<string>;
}

/** Builds the prompter; `allowed` is false with --no-input. */
export function createPrompter(allowed: boolean): Prompter {
  const interactive = allowed && Boolean(process.stdin.isTTY);

  return {
    interactive,

    async text({ message, flag, required = true, validate }) {
      if (!interactive) {
        throw missingValue(flag);
      }
      const { input } = await import('@inquirer/prompts');
      return ask(() =>
        input(
          {
            message,
            required,
            validate: (value: string) => (validate ? validate(value.trim()) : true),
          },
          { output: process.stderr },
        ),
      );
    },

    async secret({ message, flag }) {
      if (!interactive) {
        throw missingValue(flag);
      }
      const { password } = await import('@inquirer/prompts');
      return ask(() =>
        password({ message, mask: '*', validate: (value: string) => (value === '' ? 'a value is required' : true) }, { output: process.stderr }),
      );
    },
  };
}

export function missingValue(flag: string): InputError {
  return new InputError(`missing value: give ${flag}, or run in a terminal to be asked`, 'missing_value');
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
