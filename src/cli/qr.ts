// Draws the enrollment QR code in the terminal with qrcode-terminal's small
// mode (two modules a character), which stays within 80 columns.

const INVERTED: Record<string, string> = { ' ': '█', '█': ' ', '▀': '▄', '▄': '▀' };

/** A wider drawing wraps in an 80-column terminal and no longer scans. */
const MAX_QR_COLUMNS = 80;

/**
 * Returns the QR code as text. The default suits dark themes (light glyphs
 * are light modules); `invert` swaps them for light themes. A URI too long
 * for 80 columns (about 520 bytes, as with an issuer of about 200 characters)
 * gets a one-line notice in place of the drawing.
 */
export async function renderQr(text: string, invert: boolean): Promise<string> {
  const { default: qrcode } = await import('qrcode-terminal');
  const drawn = await new Promise<string>((resolve) => qrcode.generate(text, { small: true }, resolve));
  const lines = drawn.replace(/\n+$/, '').split('\n');
  const width = Math.max(...lines.map((line) => [...line].length));
  if (width > MAX_QR_COLUMNS) {
    return `No QR code: it would need ${width} columns, more than ${MAX_QR_COLUMNS}; type the secret below into the app.`;
  }
  if (!invert) {
    return lines.join('\n');
  }

  // A line of only half blocks is the one-module light border plus the blank
  // half line that pads an odd number of rows. Inverted, it would turn into a
  // dark bar next to the code, so it becomes blank, like the border it is.
  return lines
    .map((line) => (/^[▀▄]+$/.test(line) ? ' '.repeat(line.length) : [...line].map((character) => INVERTED[character] ?? character).join('')))
    .join('\n');
}
