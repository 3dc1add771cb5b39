/**
 * A small table of named deadlines (milliseconds on the caller's clock). A sans-IO state machine
 * sets and clears named timers; its driver asks only for the earliest deadline, and on expiry the
 * machine asks which named timers are due. No clock and no `setTimeout` here.
 */
export class TimerTable<Name extends string> {
  readonly #deadlines = new Map<Name, number>();

  set(name: Name, at: number): void {
    this.#deadlines.set(name, at);
  }

  clear(name: Name): void {
    this.#deadlines.delete(name);
  }

  get(name: Name): number | undefined {
    return this.#deadlines.get(name);
  }

  /** The earliest deadline, or undefined when no timer is armed. */
  next(): number | undefined {
    let min: number | undefined;
    for (const at of this.#deadlines.values()) if (min === undefined || at < min) min = at;
    return min;
  }

  /** Names of timers due at `now`, earliest first; they are cleared. */
  expire(now: number): Name[] {
    const due: Array<[Name, number]> = [];
    for (const [name, at] of this.#deadlines) if (at <= now) due.push([name, at]);
    due.sort((a, b) => a[1] - b[1]);
    for (const [name] of due) this.#deadlines.delete(name);
    return due.map(([name]) => name);
  }

  clearAll(): void {
    this.#deadlines.clear();
  }
}
