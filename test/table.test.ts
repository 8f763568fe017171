// The list tables: columns as wide as their widest cell on screen, colour
// codes not counted, and values from the store made safe for a terminal.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { displayWidth, renderTable } from '../src/cli/table.js';
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

describe('fitted to a terminal', () => {
  const headings = ['id', 'name', 'email'];
  const rows = [['1', 'Alexandra Longname', 'alexandra@example.com']];

  test('cuts the widest shrinkable columns first', () => {
    const table = renderTable(headings, rows, { maxWidth: 40, shrinkable: [1, 2] });

    assert.equal(
      table,
      [
        '┌────┬────────────────┬────────────────┐',
        '│ id │ name           │ email          │',
        '├────┼────────────────┼────────────────┤',
        '│ 1  │ Alexandra Lon… │ alexandra@exa… │',
        '└────┴────────────────┴────────────────┘',
      ].join('\n'),
    );
    for (const line of table.split('\n')) {
      assert.equal(displayWidth(line), 40, line);
    }
  });

  test('stops at eight columns', () => {
    const table = renderTable(headings, rows, { maxWidth: 10, shrinkable: [1, 2] });

    assert.equal(table.split('\n')[3], '│ 1  │ Alexand… │ alexand… │');
  });

  test('keeps other columns whole', () => {
    const table = renderTable(headings, rows, { maxWidth: 30, shrinkable: [1] });

    assert.equal(table.split('\n')[3], '│ 1  │ Alexand… │ alexandra@example.com │');
  });

  test('cuts letters of any script to width', () => {
    const names = ['İstanbul Istanbulian', 'Łukasz Kowalski-Nowak', 'Дмитрий Ivanovich Petrov', 'Zoë Ångström-Öberg', '山田太郎山田太郎', '👩‍💻👩‍💻👩‍💻👩‍💻👩‍💻👩‍💻'];
    // The widest name takes 24 columns, so each of these widths cuts some.
    for (const maxWidth of [14, 20, 25]) {
      const table = renderTable(['name'], names.map((name) => [name]), { maxWidth, shrinkable: [0] });
      for (const line of table.split('\n')) {
        assert.equal(displayWidth(line), maxWidth, `at ${maxWidth}: ${line}`);
      }
    }
    assert.equal(renderTable(['name'], [['İstanbul Istanbulian']], { maxWidth: 14, shrinkable: [0] }).split('\n')[3], '│ İstanbul … │');
  });

  test('leaves a table that fits alone', () => {
    assert.equal(renderTable(headings, rows, { maxWidth: 80, shrinkable: [1, 2] }), renderTable(headings, rows));
  });
});

describe('displayWidth', () => {
  test('counts zero-width characters as nothing', () => {
    const cases: Array<[string, number]> = [
      ['a\u200Bb', 2],
      ['a\u200Cb', 2],
      ['x\u200Dy', 2],
      ['soft\u00ADhyphen', 10],
      ['\uFEFFbom', 3],
      ['\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645', 7],
    ];
    for (const [text, width] of cases) {
      assert.equal(displayWidth(text), width, JSON.stringify(text));
    }
  });

  test('keeps emoji sequences at two columns', () => {
    assert.equal(displayWidth('👩‍💻'), 2);
    assert.equal(displayWidth('👍🏽'), 2);
    assert.equal(displayWidth('山田'), 4);
  });

  test('pads rows with zero-width characters', () => {
    const table = renderTable(['name'], [['a\u200Bb'], ['ab']]);

    assert.equal(table.split('\n')[3], '│ a\u200Bb   │');
    assert.equal(table.split('\n')[4], '│ ab   │');
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
