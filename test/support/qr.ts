// Reads a QR code drawn with block characters back into modules, paints it
// into a PGM image and decodes that with zbarimg, a decoder independent of
// the drawing code.
//
// Each character is one module wide and two modules tall: "█" fills both
// halves, "▀" the top, "▄" the bottom and a space neither. Whether a filled
// half is a light or a dark module depends on the terminal theme the drawing
// is meant for.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Theme = 'dark' | 'light';

export const BLOCK_CHARACTERS = /[█▀▄]/;

/**
 * Returns the lines of the QR code in twofa's enrollment output: those
 * between the "Scan this" line and the "Secret:" line, without the empty
 * lines around the drawing. Returns [] when no QR code is drawn.
 */
export function extractQrLines(output: string): string[] {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line.includes('Scan this with an authenticator app'));
  const end = lines.findIndex((line, index) => index > start && /^\s*Secret:/.test(line));
  if (start < 0 || end < 0) {
    throw new Error(`no enrollment ("Scan this" ... "Secret:") in the output:\n${output}`);
  }
  const block = lines.slice(start + 1, end);
  while (block.length > 0 && block[0] === '') {
    block.shift();
  }
  while (block.length > 0 && block.at(-1) === '') {
    block.pop();
  }
  return block;
}

/**
 * Turns drawn lines into rows of modules, true for dark. For the dark theme
 * a filled half is a light module; for the light theme it is dark. A short
 * line is padded with blank halves, as a terminal shows missing cells.
 */
export function linesToModules(lines: string[], theme: Theme): boolean[][] {
  const width = Math.max(0, ...lines.map((line) => [...line].length));
  const filledIsDark = theme === 'light';
  const rows: boolean[][] = [];
  for (const line of lines) {
    const characters = [...line];
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    for (let column = 0; column < width; column += 1) {
      const character = characters[column] ?? ' ';
      if (!/^[█▀▄ ]$/.test(character)) {
        throw new Error(`unexpected character ${JSON.stringify(character)} in QR line ${JSON.stringify(line)}`);
      }
      const topFilled = character === '█' || character === '▀';
      const bottomFilled = character === '█' || character === '▄';
      top.push(topFilled === filledIsDark);
      bottom.push(bottomFilled === filledIsDark);
    }
    rows.push(top, bottom);
  }
  return rows;
}

/**
 * Writes modules as a binary PGM image: `scale` pixels a module and a light
 * margin of `margin` modules on every side, wider than the 4 modules of quiet
 * zone that QR codes need.
 */
export function writePgm(path: string, modules: boolean[][], scale = 8, margin = 8): void {
  const moduleWidth = Math.max(0, ...modules.map((row) => row.length));
  const width = (moduleWidth + 2 * margin) * scale;
  const height = (modules.length + 2 * margin) * scale;
  const pixels = Buffer.alloc(width * height, 255);
  for (let y = 0; y < modules.length; y += 1) {
    const row = modules[y] ?? [];
    for (let x = 0; x < row.length; x += 1) {
      if (!row[x]) {
        continue;
      }
      for (let dy = 0; dy < scale; dy += 1) {
        const offset = ((y + margin) * scale + dy) * width + (x + margin) * scale;
        pixels.fill(0, offset, offset + scale);
      }
    }
  }
  writeFileSync(path, Buffer.concat([Buffer.from(`P5\n${width} ${height}\n255\n`, 'ascii'), pixels]));
}

/**
 * Decodes drawn QR lines with zbarimg, reading them for the given theme.
 * Returns the decoded text, or null when zbarimg finds no code.
 */
export function decodeQr(lines: string[], theme: Theme): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'twofa-qr-'));
  try {
    const image = join(dir, 'qr.pgm');
    writePgm(image, linesToModules(lines, theme));
    const result = spawnSync('zbarimg', ['--raw', '-q', image], { encoding: 'utf8' });
    if (result.error) {
      throw result.error;
    }
    // zbarimg exits 4 when it finds no code in the image.
    if (result.status === 4) {
      return null;
    }
    if (result.status !== 0) {
      throw new Error(`zbarimg failed (exit ${result.status}): ${result.stderr}`);
    }
    return result.stdout.replace(/\n$/, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Counts columns as code points; every QR glyph is one column wide. */
export function columns(line: string): number {
  return [...line].length;
}

/** Returns the otpauth URI printed on the "URI:" line of an enrollment. */
export function printedUri(output: string): string {
  const match = /^\s*URI:\s+(otpauth:\/\/\S+)\s*$/m.exec(output);
  if (!match?.[1]) {
    throw new Error(`no "URI: otpauth://..." line in the output:\n${output}`);
  }
  return match[1];
}

/** Returns the base32 secret printed on the "Secret:" line, without the spaces between groups. */
export function printedSecret(output: string): string {
  const match = /^\s*Secret:\s+([A-Z2-7 ]+?)\s*$/m.exec(output);
  if (!match?.[1]) {
    throw new Error(`no "Secret: ..." line in the output:\n${output}`);
  }
  return match[1].replace(/ /g, '');
}
