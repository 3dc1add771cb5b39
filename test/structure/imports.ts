/** Import specifiers of a TypeScript source, and the cycles of a directed graph. */

const STATIC = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g;
const BARE = /(?:^|[\s;])import\s*['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module specifier `text` imports or re-exports, in order of appearance. */
export function importsOf(text: string): string[] {
  const found: Array<[number, string]> = [];
  for (const re of [STATIC, BARE, DYNAMIC]) {
    for (const m of text.matchAll(re)) found.push([m.index ?? 0, m[1]]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, s]) => s);
}

/**
 * The strongly connected components with more than one node (Tarjan), each rotated to start
 * at its smallest name and listed in a path order of the component, sorted.
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, idx.get(w) as number));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(cycleOrder(comp, graph));
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** A walk through a component from its smallest node, following edges inside it. */
function cycleOrder(comp: string[], graph: ReadonlyMap<string, readonly string[]>): string[] {
  const inside = new Set(comp);
  const start = [...comp].sort()[0];
  const path = [start];
  const seen = new Set(path);
  let v = start;
  for (;;) {
    const next = (graph.get(v) ?? []).filter((w) => inside.has(w) && !seen.has(w)).sort()[0];
    if (next === undefined) break;
    path.push(next);
    seen.add(next);
    v = next;
  }
  return path;
}
