/**
 * Proxy side of RFC 9298 §3.1: the proxy "extracts the target_host and target_port variables
 * from the URI it has reconstructed from the request headers, decodes their percent-encoding".
 * No installed library reverses RFC 6570 expansion, so this is a small matcher of our own.
 *
 * How a request `:path` is matched against the template's path and query:
 * - The path is matched exactly, as a regular expression built from the template: literals
 *   byte for byte, each expression by the characters its operator can produce (RFC 6570 §3.2):
 *   `{v}` unreserved and pct-encoded, `{+v}` also reserved, `{/v}` "/"-prefixed segments,
 *   `{.v}` a "."-prefixed label, `{;v}` ";name=value" pairs.
 * - The query is matched by name, in any order, with other parameters allowed: each `{?a,b}` /
 *   `{&a}` variable and each literal `name=...{v}...` pair becomes one parameter. A parameter
 *   that appears twice is a mismatch (no guessing which one counts). Literal pairs are
 *   required; form-style variables may be absent (they are then undefined, as RFC 6570 expands
 *   an undefined variable to nothing). A query that does not split this way is matched exactly.
 * - A template without a query matches only requests without one.
 * - Multi-variable expressions are read left to right: when fewer values are present, the
 *   trailing variables are undefined. Values are percent-decoded byte by byte (Latin-1); target
 *   validation then rejects anything that is not ASCII.
 */
import {
  TARGET_HOST_VAR,
  TARGET_PORT_VAR,
  type TemplateExpression,
  type TemplatePart,
  toTemplate,
  type UriTemplate,
} from './uri-template.js';

/** What a request supplied for the template's variables. */
export interface TemplateMatch {
  /** Percent-decoded target_host; undefined when the request left it out. */
  target_host: string | undefined;
  /** Percent-decoded target_port; undefined when the request left it out. */
  target_port: string | undefined;
  /** Every variable the request defined, percent-decoded. */
  variables: ReadonlyMap<string, string>;
}

/** Requests with a longer `:path` never match (bounds the regular-expression work). */
export const MAX_MATCH_PATH_LENGTH = 2048;

const PCT = '%[0-9A-Fa-f]{2}';
const U = `[A-Za-z0-9\\-._~]|${PCT}`;
const UR = `[A-Za-z0-9\\-._~:/?#\\[\\]@!$&'()*+,;=]|${PCT}`;
const NAME = `(?:[A-Za-z0-9_.]|${PCT})+`;
const VALUE_ONLY = new RegExp(`^(?:${U})*$`);

type QueryParam =
  | { name: string; form: true; variable: string }
  | { name: string; form: false; hasValue: boolean; value: RegExp; variables: string[] };

interface Compiled {
  path: RegExp;
  pathExprs: TemplateExpression[];
  /** undefined: the template has no query. */
  query: { params: QueryParam[] } | { exact: RegExp; exprs: TemplateExpression[] } | undefined;
}

const cache = new WeakMap<UriTemplate, Compiled>();

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

function expressionRegex(e: TemplateExpression): string {
  const n = e.variables.length;
  switch (e.operator) {
    case '':
      return n === 1 ? `((?:${U})*)` : `((?:${U}|,)*)`;
    case '+':
    case '#':
      return `((?:${UR})*)`;
    case '.':
      return `(?:\\.((?:${U})*))?`;
    case '/':
      return `((?:/(?:${U})*){0,${n}})`;
    case ';':
      return `((?:;${NAME}(?:=(?:${U})*)?){0,${n}})`;
    case '?':
    case '&':
      return `((?:[?&]${NAME}=(?:${U})*){0,${n}})`;
  }
}

function compileRegex(parts: readonly TemplatePart[]): { re: RegExp; exprs: TemplateExpression[] } {
  let src = '';
  const exprs: TemplateExpression[] = [];
  for (const p of parts) {
    if (p.kind === 'literal') {
      src += escapeRegex(p.text);
    } else {
      src += expressionRegex(p);
      exprs.push(p);
    }
  }
  return { re: new RegExp(`^${src}$`), exprs };
}

/** Splits the parts at the start of the query: the first literal "?" or `{?...}` expression. */
function splitQuery(parts: readonly TemplatePart[]): [TemplatePart[], TemplatePart[] | undefined] {
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.kind === 'expression' && p.operator === '?') return [parts.slice(0, i), parts.slice(i)];
    if (p.kind === 'literal') {
      const q = p.text.indexOf('?');
      if (q < 0) continue;
      const before: TemplatePart[] = parts.slice(0, i);
      if (q > 0) before.push({ kind: 'literal', text: p.text.slice(0, q) });
      return [before, [{ kind: 'literal', text: p.text.slice(q) }, ...parts.slice(i + 1)]];
    }
  }
  return [[...parts], undefined];
}

interface Building {
  name: string;
  hasValue: boolean;
  value: string;
  variables: string[];
}

/** Decomposes the query parts into named parameters; undefined when they do not split so. */
function decomposeQuery(parts: readonly TemplatePart[]): QueryParam[] | undefined {
  const params: QueryParam[] = [];
  let cur: Building | null = null;
  const finish = (): boolean => {
    if (cur === null) return true;
    const b: Building = cur;
    cur = null;
    if (b.name === '' && !b.hasValue) return true;
    if (b.name === '') return false;
    const value = new RegExp(`^${b.value}$`);
    params.push({ name: b.name, form: false, hasValue: b.hasValue, value, variables: b.variables });
    return true;
  };
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.kind === 'literal') {
      let text = p.text;
      if (i === 0) {
        text = text.slice(1); // the leading "?"
        cur = { name: '', hasValue: false, value: '', variables: [] };
      }
      for (const c of text) {
        if (c === '&') {
          if (!finish()) return undefined;
          cur = { name: '', hasValue: false, value: '', variables: [] };
        } else if (cur === null) {
          return undefined; // text glued to a form-style expression
        } else if (!cur.hasValue) {
          if (c === '=') cur.hasValue = true;
          else cur.name += c;
        } else {
          cur.value += escapeRegex(c);
        }
      }
      continue;
    }
    if ((p.operator === '?' && i === 0) || p.operator === '&') {
      if (!finish()) return undefined;
      for (const v of p.variables) params.push({ name: v, form: true, variable: v });
      continue;
    }
    const c: Building | null = cur;
    if (p.operator !== '' || p.variables.length !== 1 || c === null || !c.hasValue) {
      return undefined;
    }
    c.value += `((?:${U})*)`;
    c.variables.push(p.variables[0]);
  }
  return finish() ? params : undefined;
}

function compile(t: UriTemplate): Compiled {
  const hit = cache.get(t);
  if (hit !== undefined) return hit;
  const [pathParts, queryParts] = splitQuery(t.parts);
  const path = compileRegex(pathParts);
  let query: Compiled['query'];
  if (queryParts !== undefined) {
    const params = decomposeQuery(queryParts);
    if (params !== undefined) {
      query = { params };
    } else {
      const exact = compileRegex(queryParts);
      query = { exact: exact.re, exprs: exact.exprs };
    }
  }
  const compiled: Compiled = { path: path.re, pathExprs: path.exprs, query };
  cache.set(t, compiled);
  return compiled;
}

/** Percent-decodes byte by byte into Latin-1 code units; never throws. */
export function percentDecode(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

function setVar(out: Map<string, string>, name: string, raw: string): boolean {
  const value = percentDecode(raw);
  const prev = out.get(name);
  if (prev !== undefined && prev !== value) return false;
  out.set(name, value);
  return true;
}

function assignNamed(e: TemplateExpression, captured: string, out: Map<string, string>): boolean {
  const seen = new Set<string>();
  const pieces = captured.slice(1).split(e.operator === ';' ? ';' : '&');
  if (e.operator === '?' && captured[0] !== '?') return false;
  if (e.operator === '&' && captured[0] !== '&') return false;
  for (const piece of pieces) {
    const eq = piece.indexOf('=');
    const name = eq < 0 ? piece : piece.slice(0, eq);
    if (!e.variables.includes(name) || seen.has(name)) return false;
    seen.add(name);
    if (!setVar(out, name, eq < 0 ? '' : piece.slice(eq + 1))) return false;
  }
  return true;
}

/** Assigns one expression's captured text to its variables (see the module comment). */
function assign(e: TemplateExpression, captured: string | undefined, out: Map<string, string>) {
  if (captured === undefined) return true;
  const n = e.variables.length;
  let pieces: string[];
  switch (e.operator) {
    case '':
    case '+':
    case '#':
      pieces = n === 1 ? [captured] : captured.split(',');
      break;
    case '.':
      pieces = captured.split('.');
      if (pieces.length > n) pieces = [...pieces.slice(0, n - 1), pieces.slice(n - 1).join('.')];
      break;
    case '/':
      if (captured === '') return true;
      pieces = captured.slice(1).split('/');
      break;
    default:
      return captured === '' || assignNamed(e, captured, out);
  }
  if (pieces.length > n) return false;
  for (let i = 0; i < pieces.length; i++) {
    if (!setVar(out, e.variables[i], pieces[i])) return false;
  }
  return true;
}

function matchRegex(
  re: RegExp,
  exprs: TemplateExpression[],
  text: string,
  out: Map<string, string>,
): boolean {
  const m = re.exec(text);
  if (m === null) return false;
  for (let i = 0; i < exprs.length; i++) if (!assign(exprs[i], m[i + 1], out)) return false;
  return true;
}

function matchParams(params: QueryParam[], query: string, out: Map<string, string>): boolean {
  const given = new Map<string, Array<string | undefined>>();
  if (query.length > 0) {
    for (const pair of query.split('&')) {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      const list = given.get(name) ?? [];
      list.push(eq < 0 ? undefined : pair.slice(eq + 1));
      given.set(name, list);
    }
  }
  for (const p of params) {
    const values = given.get(p.name) ?? [];
    if (values.length > 1) return false;
    const value = values[0];
    if (p.form) {
      if (values.length === 0) continue;
      if (value === undefined || !VALUE_ONLY.test(value)) return false;
      if (!setVar(out, p.variable, value)) return false;
      continue;
    }
    if (values.length === 0 || p.hasValue !== (value !== undefined)) return false;
    if (value === undefined) continue;
    const m = p.value.exec(value);
    if (m === null) return false;
    for (let i = 0; i < p.variables.length; i++) {
      if (!setVar(out, p.variables[i], m[i + 1])) return false;
    }
  }
  return true;
}

/**
 * Matches a request's `:path` (path and query) against the template. Returns null when the
 * request does not address this template's resource; otherwise the decoded variables, where
 * target_host / target_port may still be undefined (a query parameter left out) or invalid —
 * the caller validates them.
 */
export function matchTemplate(
  template: UriTemplate | string,
  pathAndQuery: string,
): TemplateMatch | null {
  if (pathAndQuery.length > MAX_MATCH_PATH_LENGTH || pathAndQuery.includes('#')) return null;
  const c = compile(toTemplate(template));
  const q = pathAndQuery.indexOf('?');
  const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const out = new Map<string, string>();
  if (!matchRegex(c.path, c.pathExprs, path, out)) return null;
  if (c.query === undefined) {
    if (q >= 0) return null;
  } else if ('params' in c.query) {
    if (!matchParams(c.query.params, q < 0 ? '' : pathAndQuery.slice(q + 1), out)) return null;
  } else if (!matchRegex(c.query.exact, c.query.exprs, q < 0 ? '' : pathAndQuery.slice(q), out)) {
    return null;
  }
  return {
    target_host: out.get(TARGET_HOST_VAR),
    target_port: out.get(TARGET_PORT_VAR),
    variables: out,
  };
}
