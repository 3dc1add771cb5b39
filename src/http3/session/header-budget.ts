/**
 * A byte budget shared by the sessions of one server: the bytes of request header sections
 * (HEADERS frames) received but not complete, summed over every connection, with the tally of
 * what was refused or timed out. Sans-IO: a plain counter the sessions take from and give back
 * to. A session's own cap is `H3SessionOptions.maxIncompleteHeaderBytes`; this one bounds them
 * all together (issue 10: a slowloris of half-sent HEADERS must not grow memory with the number
 * of connections).
 */
export class HeaderBudget {
  /** Most bytes all sessions together may hold. */
  readonly limit: number;
  #used = 0;
  /** Streams reset with H3_EXCESSIVE_LOAD because a cap on incomplete header bytes was reached. */
  refused = 0;
  /** Streams reset with H3_REQUEST_INCOMPLETE because the header section took too long. */
  timedOut = 0;

  constructor(limit: number) {
    if (!(limit >= 0)) throw new RangeError(`header budget ${limit}`);
    this.limit = limit;
  }

  /** Bytes held now. */
  get used(): number {
    return this.#used;
  }

  /** Takes `n` bytes if they fit; false (and nothing taken) otherwise. */
  take(n: number): boolean {
    if (this.#used + n > this.limit) return false;
    this.#used += n;
    return true;
  }

  /** Gives back `n` bytes taken before. */
  release(n: number): void {
    this.#used = Math.max(0, this.#used - n);
  }
}
