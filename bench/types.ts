import type { BenchRow } from './harness.js';

/** What a bench module exports as its default. */
export interface BenchModule {
  title: string;
  /** Row name every other row is compared against. */
  baseline?: string;
  run(): Promise<BenchRow[]> | BenchRow[];
}
