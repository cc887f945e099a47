// Source-app and source-type codes across Unicode: the form they are compared in (a table of literal inputs and
// keys), and what the schema refuses, naming the code point.
import { describe, expect, it } from 'vitest';
import { caseKey, sourceAppKey, sourceAppSchema } from '../../src/model/text';

describe('caseKey', () => {
  const cases: Array<[string, string, string]> = [
    ['ASCII, upper-cased', 'bcCronusUs', 'BCCRONUSUS'],
    ['composed and decomposed é are one', 'cafe\u0301', 'CAFÉ'],
    ['an accented capital', 'Café', 'CAFÉ'],
    ['ß stays ß (its upper case is two letters)', 'straße', 'STRAßE'],
    ['dotless ı stays ı (its upper case I folds back to i)', 'ıx', 'ıX'],
    ['dotted İ stays İ', 'İx', 'İX'],
    ['the ﬀ ligature stays', 'ﬀx', 'ﬀX'],
    ['long s stays', 'ſx', 'ſX'],
    ['Greek', 'αθήνα', 'ΑΘΉΝΑ'],
    ['final sigma stays apart from sigma', 'ας', 'Ας'],
  ];
  it.each(cases)('%s', (_name, input, key) => {
    expect(caseKey(input)).toBe(key);
    expect([...caseKey(input)].length).toBe([...input.normalize('NFC')].length);
  });

  it('keeps apart what a full case mapping merges, and joins what only normalisation separates', () => {
    expect(sourceAppKey('STRAßE')).not.toBe(sourceAppKey('STRASSE'));
    expect(sourceAppKey('ıX')).not.toBe(sourceAppKey('IX'));
    expect(sourceAppKey('ﬀX')).not.toBe(sourceAppKey('FFX'));
    expect(sourceAppKey('CAFE\u0301')).toBe(sourceAppKey('café'));
    expect(sourceAppKey('BCCRONUSUS')).toBe('BCCRONUSUS'); // existing ASCII keys are unchanged
  });
});

describe('sourceAppSchema', () => {
  const refused: Array<[string, string, string]> = [
    ['a zero-width space', 'AB\u200BC', 'must not contain U+200B (a format character, invisible)'],
    ['a left-to-right mark', '\u200EABC', 'must not contain U+200E (a format character, invisible)'],
    ['a right-to-left override', 'ABC\u202E', 'must not contain U+202E (a format character, invisible)'],
    [
      'a byte order mark (zero-width no-break space)',
      'AB\uFEFFC',
      'must not contain U+FEFF (a format character, invisible)',
    ],
    ['a soft hyphen', 'AB\u00ADC', 'must not contain U+00AD (a format character, invisible)'],
    ['a tab', 'A\tB', 'must not contain U+0009 (a control character)'],
    ['31 letters', 'A'.repeat(31), 'must be at most 30 characters (has 31)'],
    ['nothing', '', 'must not be empty'],
    ['edge spaces', ' ABC', 'must not start or end with spaces'],
  ];
  it.each(refused)('refuses %s, saying why', (_name, input, message) => {
    const result = sourceAppSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toEqual([message]);
  });

  it('counts the length after normalising: 30 decomposed É are 30 characters', () => {
    expect(sourceAppSchema.parse('E\u0301'.repeat(30))).toBe('É'.repeat(30));
  });
});
