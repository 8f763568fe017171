// Output routing: data to standard output, messages and prompts to standard
// error, colour only on a terminal that allows it, and JSON on request.

export interface Styles {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
}

export interface OutputOptions {
  json: boolean;
  /** false when --no-color was given. */
  color: boolean;
}

const plainStyles: Styles = {
  bold: (text) => text,
  dim: (text) => text,
  green: (text) => text,
  yellow: (text) => text,
  red: (text) => text,
};

export class Output {
  readonly json: boolean;
  /** Styles for standard output and for standard error; plain when colour is off. */
  out: Styles = plainStyles;
  err: Styles = plainStyles;
  private readonly colorAllowed: boolean;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.colorAllowed = options.color && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  }

  // Node opens process.stdout and process.stderr on first use, so a command
  // that never writes to standard error does not pay for opening it.
  private get stdout(): NodeJS.WriteStream {
    return process.stdout;
  }

  private get stderr(): NodeJS.WriteStream {
    return process.stderr;
  }

  /** Loads chalk only when a stream will show colour. */
  async enableColor(): Promise<void> {
    const outColor = this.colorAllowed && Boolean(this.stdout.isTTY);
    const errColor = this.colorAllowed && Boolean(this.stderr.isTTY);
    if (!outColor && !errColor) {
      return;
    }
    const { Chalk } = await import('chalk');
    const chalk = new Chalk({ level: 1 });
    const styles: Styles = {
      bold: (text) => chalk.bold(text),
      dim: (text) => chalk.dim(text),
      green: (text) => chalk.green(text),
      yellow: (text) => chalk.yellow(text),
      red: (text) => chalk.red(text),
    };
    this.out = outColor ? styles : plainStyles;
    this.err = errColor ? styles : plainStyles;
  }

  /** The width of the terminal on standard output, or undefined when it is not one. */
  get terminalColumns(): number | undefined {
    return this.stdout.isTTY ? this.stdout.columns : undefined;
  }

  get stdoutIsTerminal(): boolean {
    return Boolean(this.stdout.isTTY);
  }

  /** Writes data (a line) to standard output; ignored in JSON mode. */
  data(text: string): void {
    if (!this.json) {
      this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
  }

  /** Writes the one JSON value of a --json run to standard output. */
  result(value: unknown): void {
    if (this.json) {
      this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    }
  }

  /** Writes a message for people to standard error. */
  message(text: string): void {
    this.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  error(code: string, message: string, details: Record<string, unknown> = {}): void {
    if (this.json) {
      this.stderr.write(`${JSON.stringify({ error: { code, message, ...details } })}\n`);
      return;
    }
    this.stderr.write(`${this.err.red('error:')} ${message}\n`);
  }
}
