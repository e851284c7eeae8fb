import { createInterface } from 'node:readline';
import type { DnsProviderDefinition } from '../definition.ts';
import type { DnsProvider, TxtRecord } from '../provider.ts';

export interface ManualStreams {
  readonly input: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly output: NodeJS.WritableStream;
}

/** Records asked for within this window after the first one are shown together, under one prompt. */
const GATHER_MS = 50;

/**
 * Asks a person to create the records: all of an order's records are printed at once, then one
 * Enter continues. Without a terminal nobody can press Enter, so it only prints and the dns-01
 * solver's propagation check waits for the records to appear (up to MANUAL_PROPAGATION_TIMEOUT).
 * Removal is the same list, printed once; it does not wait.
 */
export class ManualProvider implements DnsProvider {
  /** Writes by the full name: no zone lookup needed. */
  readonly zoneless = true;
  readonly #streams: ManualStreams;
  readonly #timeoutMin: number;
  #present: Batch | undefined;
  #cleanup: Batch | undefined;

  constructor(streams: ManualStreams, propagationTimeoutMs: number) {
    this.#streams = streams;
    this.#timeoutMin = Math.round(propagationTimeoutMs / 60_000);
  }

  present(record: TxtRecord, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (!this.#present) {
      this.#present = new Batch(async (records) => {
        this.#present = undefined;
        await this.#askToCreate(records, signal);
      });
    }
    return this.#present.add(record, signal);
  }

  cleanup(record: TxtRecord, signal: AbortSignal): Promise<void> {
    if (!this.#cleanup) {
      this.#cleanup = new Batch(async (records) => {
        this.#cleanup = undefined;
        this.#write([
          'acmekit: the challenge is over; you can remove these TXT records now:',
          ...table(records),
          '',
        ]);
      });
    }
    return this.#cleanup.add(record, signal);
  }

  async #askToCreate(records: TxtRecord[], signal: AbortSignal): Promise<void> {
    const lines = [
      `acmekit: create ${records.length === 1 ? 'this TXT record' : `these ${records.length} TXT records`} ` +
        '(values at the same name are separate records; keep both):',
      ...table(records),
    ];
    if (!this.#streams.input.isTTY) {
      this.#write([
        ...lines,
        `acmekit: no terminal to confirm on; waiting up to ${this.#timeoutMin} min for the records to appear ` +
          '(MANUAL_PROPAGATION_TIMEOUT)',
        '',
      ]);
      return;
    }
    this.#write([...lines, 'Press Enter when they are in place...']);
    await waitForEnter(this.#streams, signal);
  }

  #write(lines: string[]): void {
    this.#streams.output.write(`${lines.join('\n')}\n`);
  }
}

function table(records: TxtRecord[]): string[] {
  const width = Math.max(...records.map((r) => r.fqdn.length));
  return records.map((r) => `  ${r.fqdn.padEnd(width)}  ${r.ttl}  IN  TXT  "${r.value}"`);
}

function waitForEnter(streams: ManualStreams, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: streams.input, terminal: false });
    let settled = false;
    const done = (err?: unknown): void => {
      if (settled) return;
      settled = true; // before close(): it emits 'close' at once, which must not win
      signal.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
      rl.close();
    };
    const onAbort = (): void => done(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    rl.once('line', () => done());
    rl.once('close', () => done(new Error('manual: the terminal closed before Enter was pressed')));
  });
}

/** Collects the records asked for in one short window and settles all their promises together. */
class Batch {
  readonly #records: TxtRecord[] = [];
  readonly #waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(run: (records: TxtRecord[]) => Promise<void>) {
    setTimeout(() => {
      run(this.#records).then(
        () => {
          for (const w of this.#waiters) w.resolve();
        },
        (err: unknown) => {
          for (const w of this.#waiters) w.reject(err);
        },
      );
    }, GATHER_MS);
  }

  add(record: TxtRecord, signal: AbortSignal): Promise<void> {
    this.#records.push(record);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
}

export const definition = {
  code: 'manual',
  title: 'Manual (you create the records)',
  description:
    'Prints every TXT record of the order at once and waits for Enter; without a terminal it waits until ' +
    'the records are visible on the authoritative nameservers. Prints the records to remove afterwards.',
  example:
    "acmekit --dns manual --domains example.com --domains '*.example.com' --email you@example.com --accept-tos run",
  envPrefix: 'MANUAL',
  // A person editing a zone by hand needs minutes, not seconds.
  defaults: { propagationTimeoutMs: 30 * 60_000, pollingIntervalMs: 10_000 },
  env: [],
  configure() {
    return {};
  },
  create(_config, deps) {
    return new ManualProvider(
      { input: process.stdin, output: process.stderr },
      deps.settings.propagationTimeoutMs,
    );
  },
} satisfies DnsProviderDefinition<Record<string, never>>;
