// Boxed tables for lists (users list, audit), in the look of cli-table3's
// default style. cli-table3 took 20 to 30 ms to lay out one page of 100
// users, because it merges options and measures each cell several times.
// This renderer measures each cell once (docs/benchmarks.md has the times).

import stringWidth from 'fast-string-width';

const VERTICAL = '│';
const RULES = {
  top: ['┌', '┬', '┐'],
  middle: ['├', '┼', '┤'],
  bottom: ['└', '┴', '┘'],
} as const;

/**
 * Draws headings and rows as one table string, without a final newline.
 * Each column is as wide on screen as its widest cell, so ANSI colour codes
 * count as nothing and wide characters as two columns. Cells must not
 * contain line breaks, so pass values from the store through printable()
 * (terminal-text.ts).
 */
export function renderTable(headings: readonly string[], rows: readonly (readonly string[])[]): string {
  const headingWidths = headings.map((heading) => stringWidth(heading));
  const widths = [...headingWidths];
  const cellWidths = rows.map((row) =>
    row.map((cell, column) => {
      const width = stringWidth(cell);
      if (width > (widths[column] ?? 0)) {
        widths[column] = width;
      }
      return width;
    }),
  );

  const rule = ([left, join, right]: readonly [string, string, string]) =>
    `${left}${widths.map((width) => '─'.repeat(width + 2)).join(join)}${right}`;
  const line = (cells: readonly string[], measured: readonly number[]) =>
    `${VERTICAL}${widths.map((width, column) => ` ${cells[column] ?? ''}${' '.repeat(width - (measured[column] ?? 0))} `).join(VERTICAL)}${VERTICAL}`;

  const lines = [rule(RULES.top), line(headings, headingWidths), rule(RULES.middle)];
  rows.forEach((row, index) => lines.push(line(row, cellWidths[index] as number[])));
  lines.push(rule(RULES.bottom));
  return lines.join('\n');
}
