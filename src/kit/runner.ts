/**
 * Runs interop cases one after the other (each with its own connection to the proxy, so a case
 * that breaks one cannot spoil the next) and formats the matrix: a terminal table, Markdown for an
 * interop sheet, or JSON lines.
 */
import { performance } from 'node:perf_hooks';
import { MasqueError } from '../client/errors.js';
import { bindCases } from './cases-bind.js';
import { quicCases } from './cases-quic.js';
import { udpCases } from './cases-udp.js';
import type { CaseResult, InteropCase, InteropContext } from './types.js';

/** Every case, in the order they run. */
export const ALL_CASES: readonly InteropCase[] = [...udpCases, ...bindCases, ...quicCases];

/** The cases named (or all); an unknown name throws RangeError listing the known ones. */
export function selectCases(names: readonly string[] | undefined): InteropCase[] {
  if (names === undefined || names.length === 0) return [...ALL_CASES];
  const out: InteropCase[] = [];
  for (const n of names) {
    const matching = ALL_CASES.filter((c) => c.name === n || c.group === n);
    if (matching.length === 0) {
      throw new RangeError(
        `unknown case "${n}"; cases: ${ALL_CASES.map((c) => c.name).join(', ')}`,
      );
    }
    for (const c of matching) if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** Runs `cases` against the proxy; `onResult` sees each as it finishes. */
export async function runCases(
  ctx: InteropContext,
  cases: readonly InteropCase[],
  onResult?: (r: CaseResult) => void,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of cases) {
    const t0 = performance.now();
    let r: CaseResult;
    try {
      const outcome = await withDeadline(
        c.run({ ...ctx, caseName: c.name }),
        ctx.timeoutMs * 4,
        c.name,
      );
      r = { ...outcome, name: c.name, group: c.group, ms: Math.round(performance.now() - t0) };
    } catch (err) {
      const detail =
        err instanceof MasqueError
          ? `${err.code}${err.status === undefined ? '' : ` ${err.status}`}: ${err.message}`
          : (err as Error).message;
      r = {
        status: 'fail',
        detail,
        name: c.name,
        group: c.group,
        ms: Math.round(performance.now() - t0),
      };
    }
    results.push(r);
    onResult?.(r);
  }
  return results;
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no outcome within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** True when no selected case failed (unsupported is not a failure). */
export function allPassed(results: readonly CaseResult[]): boolean {
  return results.every((r) => r.status !== 'fail');
}

/** A terminal table. */
export function formatTable(results: readonly CaseResult[]): string {
  const w = Math.max(...results.map((r) => r.name.length), 4);
  const lines = results.map(
    (r) =>
      `${r.name.padEnd(w)}  ${r.status.padEnd(11)}  ${String(r.ms).padStart(6)} ms  ${r.detail}`,
  );
  const n = (s: string) => results.filter((r) => r.status === s).length;
  lines.push(`${n('pass')} passed, ${n('fail')} failed, ${n('unsupported')} unsupported`);
  return `${lines.join('\n')}\n`;
}

/** Markdown, for an interop sheet. */
export function formatMarkdown(results: readonly CaseResult[], proxy: string): string {
  const mark = { pass: '✅', fail: '❌', unsupported: '➖' } as const;
  const rows = results.map(
    (r) => `| ${r.name} | ${mark[r.status]} ${r.status} | ${r.detail.replace(/\|/g, '\\|')} |`,
  );
  return [
    `Proxy: \`${proxy}\``,
    '',
    '| case | result | detail |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

/** One JSON object per line. */
export function formatJsonLines(results: readonly CaseResult[]): string {
  return results.map((r) => JSON.stringify(r)).join('\n') + (results.length > 0 ? '\n' : '');
}
