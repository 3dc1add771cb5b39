/** fast-check generators shared by the header tests. */
import fc from 'fast-check';

/** Printable ASCII: what an sf-string can carry. */
export const printable = (maxLength = 24) =>
  fc
    .array(fc.integer({ min: 0x20, max: 0x7e }), { maxLength })
    .map((codes) => String.fromCharCode(...codes));

/** A valid sf-token. */
export const tokenText = fc.stringMatching(/^[a-zA-Z*][!#$%&'*+\-.^_`|~0-9a-zA-Z:/]{0,12}$/);

/**
 * Text that looks like structured fields (booleans, strings, tokens, byte sequences, separators)
 * mixed with anything at all, to hunt for throws in the parsers.
 */
export const fieldNoise = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc
    .array(
      fc.constantFrom(
        '?1',
        '?0',
        ';',
        ',',
        ' ',
        '=',
        '"',
        ':',
        '(',
        ')',
        '\\',
        'a',
        'error',
        'accept-transform',
        'scramble-key',
        ':AAAA:',
        '[::1]:443',
        '1.2.3.4:5',
        '12',
        '-',
        '.5',
        '@1',
        '%"',
        'é',
        '\t',
      ),
      { maxLength: 16 },
    )
    .map((parts) => parts.join('')),
);

/** A field value as an HTTP layer may hand it over. */
export const fieldValue = fc.oneof(
  fieldNoise,
  fc.array(fieldNoise, { maxLength: 3 }),
  fc.constant(undefined),
);
