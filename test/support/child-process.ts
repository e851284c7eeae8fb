import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Socket } from 'node:net';

// Children and temp dirs not yet cleaned up: removed synchronously if the test process exits first.
const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const cleanUp = () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanUp);
// A signal's default action skips 'exit' handlers: clean up, then let the signal act as it would have.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    cleanUp();
    process.kill(process.pid, signal);
  });
}

/** Registers a temp dir to remove if the test process exits before the server's stop(). */
export function removeOnExit(dir: string): () => void {
  tempDirs.add(dir);
  return () => tempDirs.delete(dir);
}

export interface Tracked {
  exited: () => boolean;
  logs: () => string;
  stop: () => Promise<void>;
}

/** Captures output, and registers the child so it is killed if the test process exits first. */
export function track(child: ChildProcess): Tracked {
  running.add(child);
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8').on('data', (s: string) => output.push(s));
  }
  // A forgotten stop() must not keep the test process alive; the 'exit' handler then kills the child.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as Socket | null)?.unref();
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    const done = (err?: Error) => {
      if (err) output.push(`${err}\n`);
      exited = true;
      running.delete(child);
      resolve();
    };
    child.once('close', () => done()); // after 'exit', once the output is fully read
    child.once('error', done); // e.g. ENOENT: the binary is not installed
  });
  let stopping: Promise<void> | undefined;
  return {
    exited: () => exited,
    logs: () => output.join(''),
    stop: () => {
      stopping ??= (async () => {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exit;
        clearTimeout(force);
      })();
      return stopping;
    },
  };
}
