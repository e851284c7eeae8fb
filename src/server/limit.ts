/**
 * Runs `fn` over `items` with at most `limit` calls in flight. A server that manages 10,000 stored
 * certificates must not open 20,000 files at once at start (EMFILE) or parse them all in one burst.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
