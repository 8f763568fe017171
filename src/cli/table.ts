// Boxed tables for lists (users list, audit), in the look of cli-table3's
// default style. This renderer measures each cell once. cli-table3 took 20
// to 30 ms to lay out 100 users, as it measures each cell several times.

import stringWidth from 'fast-string-width';

const VERTICAL = '│';
const RULES = {
  top: ['┌', '┬', '┐'],
  middle: ['├', '┼', '┤'],
  bottom: ['└', '┴', '┘'],
} as const;
const ELLIPSIS = '…';
// Made on first use: creating a segmenter loads ICU data, about 7 ms.
let graphemes: Intl.Segmenter | undefined;
/** The narrowest a column gets when the table is fitted to a terminal. */
const MIN_FITTED_WIDTH = 8;

// Characters that terminals draw with no width but fast-string-width counts
// as one column: the soft hyphen, zero-width spaces and joiners, direction
// marks, the word joiner and the byte order mark. A zero-width joiner
// between two emoji is left alone, because it is part of an emoji sequence
// that fast-string-width measures whole.
const ZERO_WIDTH =
  /[\u00AD\u200B\u200C\u200E\u200F\u2060-\u2064\uFEFF]|(?<!\p{Extended_Pictographic}[\u{1F3FB}-\u{1F3FF}\uFE0F]?)\u200D|\u200D(?!\p{Extended_Pictographic})/gu;
const MAYBE_ZERO_WIDTH = /[\u00AD\u200B-\u200F\u2060-\u2064\uFEFF]/;

export interface TableOptions {
  /** The terminal width to fit the table into, or undefined for no limit. */
  maxWidth?: number | undefined;
  /**
   * The columns that may be cut to fit; of two equally wide, the one listed
   * first is cut first. Their cells must be plain text, without colour codes.
   */
  shrinkable?: readonly number[];
}

/** Returns how many columns a terminal uses to draw text. */
export function displayWidth(text: string): number {
  return stringWidth(MAYBE_ZERO_WIDTH.test(text) ? text.replace(ZERO_WIDTH, '') : text);
}

/**
 * Draws headings and rows as one table string, without a final newline.
 * Each column is as wide on screen as its widest cell, so ANSI colour codes
 * count as nothing and wide characters as two columns. With maxWidth, the
 * shrinkable columns are narrowed (the widest first) and their cells cut
 * with "…" until the table fits or each is MIN_FITTED_WIDTH wide. Cells must
 * not contain line breaks, so pass values from the store through
 * printable() (terminal-text.ts).
 */
export function renderTable(headings: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const headingWidths = headings.map((heading) => displayWidth(heading));
  const widths = [...headingWidths];
  const cellWidths = rows.map((row) =>
    row.map((cell, column) => {
      const width = displayWidth(cell);
      if (width > (widths[column] ?? 0)) {
        widths[column] = width;
      }
      return width;
    }),
  );

  if (options.maxWidth !== undefined) {
    fitColumns(widths, headingWidths, options.maxWidth, options.shrinkable ?? []);
  }
  // Only cells of narrowed columns can be wider than their column.
  const cells = rows.map((row, index) => {
    const measured = cellWidths[index] as number[];
    return row.map((cell, column) => {
      const width = widths[column] as number;
      if ((measured[column] as number) <= width) {
        return cell;
      }
      const cut = cutToWidth(cell, width);
      measured[column] = cut.width;
      return cut.text;
    });
  });

  const rule = ([left, join, right]: readonly [string, string, string]) =>
    `${left}${widths.map((width) => '─'.repeat(width + 2)).join(join)}${right}`;
  const line = (texts: readonly string[], measured: readonly number[]) =>
    `${VERTICAL}${widths.map((width, column) => ` ${texts[column] ?? ''}${' '.repeat(Math.max(0, width - (measured[column] ?? 0)))} `).join(VERTICAL)}${VERTICAL}`;

  const lines = [rule(RULES.top), line(headings, headingWidths), rule(RULES.middle)];
  cells.forEach((row, index) => lines.push(line(row, cellWidths[index] as number[])));
  lines.push(rule(RULES.bottom));
  return lines.join('\n');
}

/**
 * Narrows the shrinkable columns in place until the table fits maxWidth, one
 * column at a time, the widest first, and none below its heading or
 * MIN_FITTED_WIDTH.
 */
function fitColumns(widths: number[], headingWidths: readonly number[], maxWidth: number, shrinkable: readonly number[]): void {
  // Each column takes a space on either side and the border on its right. The 1 is the left edge.
  let excess = widths.reduce((sum, width) => sum + width + 3, 1) - maxWidth;
  while (excess > 0) {
    let widest: number | null = null;
    for (const column of shrinkable) {
      const width = widths[column] as number;
      const narrowest = Math.max(MIN_FITTED_WIDTH, headingWidths[column] ?? 0);
      if (width > narrowest && (widest === null || width > (widths[widest] as number))) {
        widest = column;
      }
    }
    if (widest === null) {
      break;
    }
    widths[widest] = (widths[widest] as number) - 1;
    excess -= 1;
  }
}

/**
 * Cuts plain text that is wider than width columns to fit them, ending it
 * with "…". Returns the cut text and its width.
 */
function cutToWidth(text: string, width: number): { text: string; width: number } {
  // Whole grapheme clusters only, so an accent or an emoji sequence is never split.
  let prefix = '';
  let prefixWidth = 0;
  graphemes ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  for (const { segment } of graphemes.segment(text)) {
    const segmentWidth = displayWidth(segment);
    if (prefixWidth + segmentWidth > width - 1) {
      break;
    }
    prefix += segment;
    prefixWidth += segmentWidth;
  }
  return { text: `${prefix}${ELLIPSIS}`, width: prefixWidth + 1 };
}
