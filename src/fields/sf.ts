/**
 * Thin, non-throwing adapters over the `structured-headers` package (RFC 9651 Structured Field
 * Values) shared by the header modules: field-line combination, parsing that reports instead of
 * throwing, bare-item type checks, and serialization that throws {@link HeaderFormatError}.
 */
import {
  type BareItem,
  type Item,
  isValidTokenStr,
  type List,
  type Parameters,
  parseItem,
  parseList,
  serializeItem,
  serializeList,
  Token,
} from 'structured-headers';
import { type FieldValue, fail, HeaderFormatError, type HeaderResult, ok } from './result.js';

/**
 * RFC 9651 §4.2: several field lines with the same name are combined into one value, joined
 * with a comma and a space, before parsing. An absent field or an empty array is `undefined`.
 */
export function combineFieldLines(value: FieldValue): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value.length === 0) return undefined;
  return value.join(', ');
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Parses an Item field; the library's ParseError (or anything else) becomes `{ ok: false }`. */
export function parseItemField(text: string): HeaderResult<Item> {
  try {
    return ok(parseItem(text));
  } catch (e) {
    return fail(`not a structured Item: ${reason(e)}`);
  }
}

/** Parses a List field; see {@link parseItemField}. */
export function parseListField(text: string): HeaderResult<List> {
  try {
    return ok(parseList(text));
  } catch (e) {
    return fail(`not a structured List: ${reason(e)}`);
  }
}

/**
 * An Item field whose value MUST be a Boolean, parameters ignored (RFC 9297 §3.4 and the fields
 * modelled on it). Absent means false. Any other type, including the List that several field lines
 * produce, is an error the caller handles "as if the field were not present".
 */
export function parseBooleanItemField(value: FieldValue): HeaderResult<boolean> {
  const text = combineFieldLines(value);
  if (text === undefined) return ok(false);
  const item = parseItemField(text);
  if (!item.ok) return item;
  if (typeof item.value[0] !== 'boolean') return fail('value is not a Boolean');
  return ok(item.value[0]);
}

/** A String bare item (not a Token). */
export function asString(v: BareItem): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A Token bare item, as its text. */
export function asToken(v: BareItem): string | undefined {
  return v instanceof Token ? v.toString() : undefined;
}

/** A String or Token bare item, as its text. */
export function asStringOrToken(v: BareItem): string | undefined {
  return typeof v === 'string' ? v : asToken(v);
}

/**
 * An Integer bare item. The library reads `5` and `5.0` both as the number 5, so a Decimal with
 * a zero fraction is accepted too; that leniency cannot be avoided with this parser.
 */
export function asInteger(v: BareItem): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

/** A Byte Sequence bare item, as bytes. */
export function asBytes(v: BareItem): Uint8Array | undefined {
  return v instanceof ArrayBuffer ? new Uint8Array(v) : undefined;
}

/** A Token when `text` is a valid one, else a String (which must be printable ASCII). */
export function tokenOrString(text: string): Token | string {
  return isValidTokenStr(text) ? new Token(text) : checkedString(text);
}

/** `text` as a Token; throws HeaderFormatError if it is not a valid one. */
export function token(text: string, what: string): Token {
  if (!isValidTokenStr(text)) throw new HeaderFormatError(`${what} "${text}" is not a valid Token`);
  return new Token(text);
}

/** `text` as a String; throws HeaderFormatError unless it is printable ASCII (RFC 9651 §3.3.3). */
export function checkedString(text: string): string {
  if (!/^[\x20-\x7e]*$/.test(text)) {
    throw new HeaderFormatError(`"${text}" has characters a String cannot carry`);
  }
  return text;
}

/** An Integer for serialization; throws outside RFC 9651 §3.3.1's 15-digit range. */
export function checkedInteger(n: number, what: string): number {
  if (!Number.isInteger(n) || Math.abs(n) > 999_999_999_999_999) {
    throw new HeaderFormatError(`${what} ${n} is not a structured Integer`);
  }
  return n;
}

/** Serializes an Item; library failures become HeaderFormatError. */
export function serializeItemField(value: BareItem, params: Parameters = new Map()): string {
  try {
    return serializeItem(value, params);
  } catch (e) {
    throw new HeaderFormatError(reason(e));
  }
}

/** Serializes a List; library failures become HeaderFormatError. */
export function serializeListField(list: List): string {
  try {
    return serializeList(list);
  } catch (e) {
    throw new HeaderFormatError(reason(e));
  }
}
