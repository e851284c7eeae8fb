/**
 * Phase marks for bench/cli.ts: with ACMEKIT_TIMING=1 the CLI prints two lines to stderr at exit,
 * `acmekit-timing {"main":41.2,...,"exit":190.3}` (ms since the process started, from process.uptime():
 * performance.now() would load node:perf_hooks' `performance`, ~1.3 ms that a run without the variable
 * does not pay) and `acmekit-rss {"main":40.1,...}` (resident set size in MiB at each mark).
 * Without the variable, mark() does nothing. The marks live on globalThis so the launcher and the
 * main bundle (two files, two copies of this module) share them.
 */
const KEY = Symbol.for('acmekit.timing');

interface Marks {
  ms: Record<string, number>;
  rssMb: Record<string, number>;
}

function marks(): Marks | undefined {
  const g = globalThis as { [KEY]?: Marks | null };
  if (g[KEY] === undefined) {
    const m: Marks | null = process.env.ACMEKIT_TIMING === '1' ? { ms: {}, rssMb: {} } : null;
    g[KEY] = m;
    if (m) {
      process.once('exit', () => {
        mark('exit');
        process.stderr.write(
          `acmekit-timing ${JSON.stringify(m.ms)}\nacmekit-rss ${JSON.stringify(m.rssMb)}\n`,
        );
      });
    }
  }
  return g[KEY] ?? undefined;
}

/** Records when `label` first happened (later calls with the same label are ignored). */
export function mark(label: string): void {
  const m = marks();
  if (!m || m.ms[label] !== undefined) return;
  m.ms[label] = Math.round(process.uptime() * 10_000) / 10;
  m.rssMb[label] = Math.round(process.memoryUsage.rss() / 104857.6) / 10;
}
