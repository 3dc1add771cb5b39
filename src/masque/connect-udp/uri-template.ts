/**
 * The connect-udp URI Template (RFC 9298 §2): parsing, validation and client-side expansion.
 * Expansion (client side) is in `template-expand.ts`, matching (proxy side) in `template-match.ts`.
 *
 * A template is parsed once into literals and expressions (RFC 6570 §2). The scheme and
 * authority are split off first: RFC 9298 §2 puts every variable "within the path or query
 * components", so the text before the path is plain. A literal fragment (`#...`) is allowed and
 * kept for expansion, but a request's `:path` never carries it.
 */
import { ConnectUdpError, ConnectUdpErrorCode } from './errors.js';

/** An RFC 6570 operator; `''` is simple string expansion. */
export type TemplateOperator = '' | '+' | '#' | '.' | '/' | ';' | '?' | '&';

/** Literal text of a template, copied to the expansion unchanged. */
export interface TemplateLiteral {
  /** Discriminant. */
  readonly kind: 'literal';
  /** The text, ASCII 0x21-0x7E, percent-encodings kept as written. */
  readonly text: string;
}

/** One `{...}` expression (RFC 6570 §2.2), level 3 or lower: no prefix or explode modifiers. */
export interface TemplateExpression {
  /** Discriminant. */
  readonly kind: 'expression';
  /** The operator character, or `''` for simple expansion. */
  readonly operator: TemplateOperator;
  /** Variable names in order. */
  readonly variables: readonly string[];
  /** The expression as written, braces included. */
  readonly text: string;
}

/** A literal or an expression. */
export type TemplatePart = TemplateLiteral | TemplateExpression;

/** A parsed, validated template. */
export interface UriTemplate {
  /** The template text as configured. */
  readonly raw: string;
  /** The scheme, lowercased (always `https`). */
  readonly scheme: string;
  /** The authority as written (host and optional port; IPv6 hosts in brackets). */
  readonly authority: string;
  /** The path and query, from the leading `/` up to (not including) any fragment. */
  readonly parts: readonly TemplatePart[];
  /** The literal fragment without `#`, when the template has one. */
  readonly fragment: string | undefined;
  /** Every variable name, each once, in order of first use. */
  readonly variables: readonly string[];
}

/** Options of {@link parseTemplate}. */
export interface ParseTemplateOptions {
  /**
   * Accept the `+`, `.`, `/` and `;` operators RFC 9298 §2 forbids. Off by default; meant for
   * tests of the matcher and for interoperating with non-conforming configurations.
   */
  lenientOperators?: boolean;
}

/** The variable names RFC 9298 §2 requires. */
export const TARGET_HOST_VAR = 'target_host';
export const TARGET_PORT_VAR = 'target_port';

const OPERATORS = new Set(['+', '#', '.', '/', ';', '?', '&']);
const RESERVED_OPERATORS = new Set(['=', ',', '!', '@', '|']);
// RFC 9298 §2: "MUST NOT use Reserved Expansion ("+" operator), Fragment Expansion ("#"
// operator), Label Expansion with Dot-Prefix, Path Segment Expansion with Slash-Prefix, nor
// Path-Style Parameter Expansion with Semicolon-Prefix."
const FORBIDDEN_OPERATORS: Record<string, string> = {
  '+': 'Reserved Expansion ("+" operator)',
  '.': 'Label Expansion with Dot-Prefix ("." operator)',
  '/': 'Path Segment Expansion with Slash-Prefix ("/" operator)',
  ';': 'Path-Style Parameter Expansion with Semicolon-Prefix (";" operator)',
};
// RFC 6570 §2.1: characters that may not appear in literals (besides CTL, SP and braces).
const LITERAL_FORBIDDEN = new Set(['"', "'", '<', '>', '\\', '^', '`', '|']);
// RFC 6570 §2.3: varname = varchar *( ["."] varchar ); varchar = ALPHA / DIGIT / "_" / pct-encoded
const VARNAME = /^(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*$/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
// RFC 3986 §3.2.2 host: IP-literal or reg-name / IPv4address; then an optional port.
const AUTHORITY =
  /^(\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)(?::([0-9]+))?$/;

function invalid(raw: string, why: string): ConnectUdpError {
  return new ConnectUdpError(ConnectUdpErrorCode.TEMPLATE_INVALID, `URI template "${raw}": ${why}`);
}

function parseExpression(raw: string, body: string, lenient: boolean): TemplateExpression {
  const text = `{${body}}`;
  if (body.length === 0) throw invalid(raw, 'empty expression "{}"');
  let operator: TemplateOperator = '';
  let list = body;
  if (OPERATORS.has(body[0])) {
    operator = body[0] as TemplateOperator;
    list = body.slice(1);
  } else if (RESERVED_OPERATORS.has(body[0])) {
    throw invalid(raw, `operator "${body[0]}" in ${text} is reserved (RFC 6570 §2.2)`);
  }
  if (operator === '#') {
    // RFC 9298 §2: no Fragment Expansion, and all variables within the path or query.
    throw invalid(raw, `Fragment Expansion ("#" operator) in ${text} is not allowed (RFC 9298 §2)`);
  }
  if (!lenient && operator in FORBIDDEN_OPERATORS) {
    throw invalid(
      raw,
      `${text} uses ${FORBIDDEN_OPERATORS[operator]}, which RFC 9298 §2 forbids; use {name}, {?a,b} or {&a}`,
    );
  }
  const variables = list.split(',');
  for (const v of variables) {
    if (/[:*]/.test(v)) {
      throw invalid(
        raw,
        `"${v}" in ${text} uses a level 4 modifier; RFC 9298 §2 requires a level 3 template or lower`,
      );
    }
    if (!VARNAME.test(v)) throw invalid(raw, `invalid variable name "${v}" in ${text}`);
  }
  return { kind: 'expression', operator, variables, text };
}

function checkLiteral(raw: string, text: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (LITERAL_FORBIDDEN.has(c))
      throw invalid(raw, `character '${c}' is not allowed in a literal`);
    if (c === '}') throw invalid(raw, `unmatched "}" at offset ${i}`);
    if (c === '%' && !/^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      throw invalid(raw, `"%" not followed by two hex digits in "${text}"`);
    }
  }
}

/** Splits `rest` (from the leading "/") into parts and a literal fragment. */
function parseParts(
  raw: string,
  rest: string,
  lenient: boolean,
): { parts: TemplatePart[]; fragment: string | undefined } {
  const parts: TemplatePart[] = [];
  let i = 0;
  while (i < rest.length) {
    if (rest[i] === '{') {
      const end = rest.indexOf('}', i);
      if (end < 0) throw invalid(raw, `unterminated expression starting at "${rest.slice(i)}"`);
      const body = rest.slice(i + 1, end);
      if (body.includes('{')) throw invalid(raw, `nested "{" in "${rest.slice(i, end + 1)}"`);
      parts.push(parseExpression(raw, body, lenient));
      i = end + 1;
      continue;
    }
    let end = rest.indexOf('{', i);
    if (end < 0) end = rest.length;
    const text = rest.slice(i, end);
    const hash = text.indexOf('#');
    if (hash >= 0) {
      const fragment = rest.slice(i + hash + 1);
      if (fragment.includes('{')) {
        throw invalid(raw, 'template variables MUST be within the path or query (RFC 9298 §2)');
      }
      if (fragment.includes('#')) throw invalid(raw, 'a second "#" in the fragment');
      checkLiteral(raw, text.slice(0, hash));
      checkLiteral(raw, fragment);
      if (hash > 0) parts.push({ kind: 'literal', text: text.slice(0, hash) });
      return { parts, fragment };
    }
    checkLiteral(raw, text);
    parts.push({ kind: 'literal', text });
    i = end;
  }
  return { parts, fragment: undefined };
}

const UNRESERVED_OR_PCT = /^[A-Za-z0-9\-._~%]$/;
const RESERVED = /^[:/?#[\]@!$&'()*+,;=]$/;

/** Whether the expansion of `e` can contain the character `c` (RFC 6570 §3.2.1 encoding). */
function canContain(e: TemplateExpression, c: string): boolean {
  if (UNRESERVED_OR_PCT.test(c)) return true;
  switch (e.operator) {
    case '':
      return c === ',' && e.variables.length > 1;
    case '+':
    case '#':
      return RESERVED.test(c);
    case '.':
      return false;
    case '/':
      return c === '/';
    case ';':
      return c === ';' || c === '=';
    case '?':
    case '&':
      return c === '&' || c === '=' || c === '?';
  }
}

/**
 * The characters the text after part `i` may start with, or 'any' when an expression without a
 * prefix character may come first. An expression with a prefix (`.`, `/`, `;`, `?`, `&`) may
 * also expand to nothing, so what follows it counts too; the end of the template adds nothing.
 */
function followChars(parts: readonly TemplatePart[], i: number): Set<string> | 'any' {
  const out = new Set<string>();
  for (let j = i; j < parts.length; j++) {
    const p = parts[j];
    if (p.kind === 'literal') {
      out.add(p.text[0]);
      return out;
    }
    if (p.operator === '' || p.operator === '+') return 'any';
    out.add(p.operator);
  }
  return out;
}

/**
 * Expressions whose end cannot be told from the text: followed by text that may start with a
 * character the expression itself can produce (`{a}{b}`, `{a}.x` with a dotted value). Each
 * such boundary makes matching search over split points; allowing only one keeps matching a
 * request at most quadratic in its (bounded) length.
 */
function ambiguousBoundaries(parts: readonly TemplatePart[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.kind !== 'expression') continue;
    const follow = followChars(parts, i + 1);
    if (follow === 'any' || [...follow].some((c) => canContain(p, c))) {
      out.push(i + 1 < parts.length ? `${p.text}${parts[i + 1].text}` : p.text);
    }
  }
  return out;
}

function checkAuthority(raw: string, authority: string): void {
  if (authority.length === 0) throw invalid(raw, 'the authority is empty (RFC 9298 §2)');
  if (authority.includes('{') || authority.includes('}')) {
    throw invalid(raw, 'template variables MUST be within the path or query (RFC 9298 §2)');
  }
  if (authority.includes('@')) {
    // RFC 9110 §4.2.4: a sender MUST NOT generate userinfo in an "https" URI.
    throw invalid(raw, 'the authority must not contain userinfo ("@")');
  }
  const m = AUTHORITY.exec(authority);
  if (m === null) throw invalid(raw, `"${authority}" is not a valid authority (host[:port])`);
  if (m[2] !== undefined) {
    const port = Number(m[2]);
    if (m[2].length > 5 || port < 1 || port > 65535) {
      throw invalid(raw, `port "${m[2]}" in the authority is not in 1..65535`);
    }
  }
}

/**
 * Parses and validates a connect-udp URI Template against RFC 9298 §2: ASCII 0x21-0x7E only,
 * absolute `https` URI with a non-empty authority and a path starting with "/", level 3 or lower,
 * no `+ # . / ;` operators (unless `lenientOperators`), variables only in the path or query, and
 * both `target_host` and `target_port` present. Other variables are allowed ("MAY contain other
 * variables"). Throws {@link ConnectUdpError} TEMPLATE_INVALID with a message naming the problem.
 */
export function parseTemplate(raw: string, options: ParseTemplateOptions = {}): UriTemplate {
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) {
      const hex = code.toString(16).padStart(4, '0').toUpperCase();
      throw invalid(
        raw,
        `character U+${hex} at offset ${i}: RFC 9298 §2 allows only ASCII 0x21-0x7E (percent-encode others)`,
      );
    }
  }
  const scheme = SCHEME.exec(raw);
  if (scheme === null) throw invalid(raw, 'not in absolute form: missing scheme (RFC 9298 §2)');
  if (scheme[1].toLowerCase() !== 'https') {
    throw invalid(raw, `scheme must be "https", not "${scheme[1]}"`);
  }
  const afterScheme = raw.slice(scheme[0].length);
  if (!afterScheme.startsWith('//')) {
    throw invalid(raw, 'missing authority ("//" after the scheme, RFC 9298 §2)');
  }
  const hier = afterScheme.slice(2);
  const authEnd = hier.search(/[/?#]/);
  const authority = authEnd < 0 ? hier : hier.slice(0, authEnd);
  checkAuthority(raw, authority);
  const rest = authEnd < 0 ? '' : hier.slice(authEnd);
  if (!rest.startsWith('/')) {
    throw invalid(raw, 'the path component MUST be non-empty and start with "/" (RFC 9298 §2)');
  }
  const { parts, fragment } = parseParts(raw, rest, options.lenientOperators === true);
  const variables: string[] = [];
  for (const p of parts) {
    if (p.kind !== 'expression') continue;
    for (const v of p.variables) if (!variables.includes(v)) variables.push(v);
  }
  const ambiguous = ambiguousBoundaries(parts);
  if (ambiguous.length > 1) {
    throw invalid(
      raw,
      `ambiguous expression boundaries ${ambiguous.join(' and ')}: separate expressions with a literal they cannot produce, such as "/" (at most one such boundary)`,
    );
  }
  for (const required of [TARGET_HOST_VAR, TARGET_PORT_VAR]) {
    if (!variables.includes(required)) {
      throw invalid(raw, `the variable "${required}" is missing (RFC 9298 §2 requires it)`);
    }
  }
  return Object.freeze({
    raw,
    scheme: 'https',
    authority,
    parts: Object.freeze(parts),
    fragment,
    variables: Object.freeze(variables),
  });
}

/** Accepts a parsed template or parses a string with the default (strict) options. */
export function toTemplate(t: UriTemplate | string): UriTemplate {
  return typeof t === 'string' ? parseTemplate(t) : t;
}
