// Draws the enrollment QR code in the terminal with qrcode-terminal's small
// mode (two modules a character), which stays within 80 columns.

const INVERTED: Record<string, string> = { ' ': '█', '█': ' ', '▀': '▄', '▄': '▀' };

/**
 * Returns the QR code as text. The default suits dark themes (light glyphs
 * are light modules); `invert` swaps them for light themes.
 */
export async function renderQr(text: string, invert: boolean): Promise<string> {
  const { default: qrcode } = await import('qrcode-terminal');
  const drawn = await new Promise<string>((resolve) => qrcode.generate(text, { small: true }, resolve));
  const lines = drawn.replace(/\n+$/, '').split('\n');
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
