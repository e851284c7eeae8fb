/** Exponential backoff with full jitter, capped: delay for the n-th retry (n starts at 1). */
export function backoffDelay(
  attempt: number,
  opts: { baseMs: number; maxMs: number; random?: () => number },
): number {
  const random = opts.random ?? Math.random;
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  // Half fixed, half random: never zero (so loops always yield), never in lockstep with other clients.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
