// The list tables: columns as wide as their widest cell on screen, colour
// codes not counted, and values from the store made safe for a terminal.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderTable } from '../src/cli/table.js';
import { printable } from '../src/cli/terminal-text.js';

describe('renderTable', () => {
  test('pads every column to its widest cell', () => {
    const table = renderTable(['id', 'name'], [['1', 'ann'], ['12', 'bartholomew']]);

    assert.equal(
      table,
      [
        '┌────┬─────────────┐',
        '│ id │ name        │',
        '├────┼─────────────┤',
        '│ 1  │ ann         │',
        '│ 12 │ bartholomew │',
        '└────┴─────────────┘',
      ].join('\n'),
    );
  });

  test('counts wide characters as two columns', () => {
    // 山田 and the emoji each take two columns on a terminal; é takes one.
    const table = renderTable(['name'], [['山田'], ['José'], ['👩‍💻 x']]);

    assert.equal(
      table,
      ['┌──────┐', '│ name │', '├──────┤', '│ 山田 │', '│ José │', '│ 👩‍💻 x │', '└──────┘'].join('\n'),
    );
  });

  test('ignores colour codes when measuring', () => {
    const yellow = (text: string) => `\u001b[33m${text}\u001b[39m`;
    const plain = renderTable(['2FA'], [['pending'], ['enrolled']]);
    const coloured = renderTable(['2FA'], [[yellow('pending')], ['enrolled']]);

    assert.equal(coloured.replaceAll(/\u001b\[\d+m/g, ''), plain);
    assert.ok(coloured.includes(yellow('pending')), 'the colour codes were dropped');
  });

  test('draws only headings for no rows', () => {
    assert.equal(renderTable(['a', 'bb'], []), ['┌───┬────┐', '│ a │ bb │', '├───┼────┤', '└───┴────┘'].join('\n'));
  });
});

describe('printable', () => {
  test('replaces control and bidirectional characters', () => {
    const cases: Array<[string, string]> = [
      ['Ann\u001b[31mRed', 'Ann\uFFFD[31mRed'],
      ['two\nlines\r', 'two\uFFFDlines\uFFFD'],
      ['tab\there', 'tab\uFFFDhere'],
      ['c1\u009bcontrol', 'c1\uFFFDcontrol'],
      ['del\u007f', 'del\uFFFD'],
      ['evil\u202Etxt.exe', 'evil\uFFFDtxt.exe'],
      ['isolate\u2066x\u2069', 'isolate\uFFFDx\uFFFD'],
    ];
    for (const [input, expected] of cases) {
      assert.equal(printable(input), expected, JSON.stringify(input));
    }
  });

  test('keeps letters, accents and emoji sequences', () => {
    for (const text of ['Zoë Ångström', '山田太郎', '👩‍💻 dev', 'o\u0301 combining', 'plain@example.com']) {
      assert.equal(printable(text), text);
    }
  });
});
