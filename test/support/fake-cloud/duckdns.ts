import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeDuckDnsOptions {
  readonly ca: TestCa;
  /** Account token → its subdomains ("my" for my.duckdns.org). */
  readonly accounts: Readonly<Record<string, readonly string[]>>;
  /** Called after a subdomain's TXT value changed (undefined: cleared), e.g. to publish it for Pebble. */
  onChange?(subdomain: string, value: string | undefined): Promise<void>;
}

/** One accepted change, in order, for tests about sequencing. */
export interface DuckDnsChange {
  readonly at: number;
  readonly subdomain: string;
  /** undefined: cleared. */
  readonly value: string | undefined;
}

export interface FakeDuckDns {
  /** For DUCKDNS_API_URL: https://127.0.0.1:<port> */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  readonly changes: DuckDnsChange[];
  /** The TXT values served at a name: the subdomain's one value, for it and every name under it. */
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

const OK = (lines: string[]): FakeReply => ({ status: 200, text: lines.join('\n') });
const KO: FakeReply = { status: 200, text: 'KO' };

/**
 * A fake of the Duck DNS TXT record API as its spec (https://www.duckdns.org/spec.jsp) describes it: one
 * GET to /update with `domains` (comma-separated subnames, with or without .duckdns.org), `token`, and
 * `txt` (required unless `clear=true`, which clears the value). Every domain must belong to the token's
 * account. The answer is the text OK or KO with HTTP 200 either way; with `verbose=true` an OK also gives
 * the TXT value now held and UPDATED or NOCHANGE. A subdomain holds ONE TXT value, served for it and for
 * every name under it.
 */
export async function startFakeDuckDns(o: FakeDuckDnsOptions): Promise<FakeDuckDns> {
  const txt = new Map<string, string>();
  const changes: DuckDnsChange[] = [];

  async function handle(req: RecordedRequest): Promise<FakeReply> {
    if (req.path !== '/update') return { status: 404, text: 'Not Found' };
    if (req.method !== 'GET') return { status: 405, text: 'Method Not Allowed' };
    const q = req.query;
    const token = q.get('token');
    const domains = q.get('domains');
    const clear = q.get('clear') === 'true';
    const value = q.get('txt');
    if (!token || !domains || (!clear && (value === null || value === ''))) return KO;
    const owned = o.accounts[token];
    if (!owned) return KO;
    const subs = domains.split(',').map((d) =>
      d
        .trim()
        .toLowerCase()
        .replace(/\.duckdns\.org$/, ''),
    );
    if (subs.some((s) => !owned.includes(s))) return KO;
    const next = clear ? '' : value!;
    let changed = false;
    for (const sub of subs) {
      if ((txt.get(sub) ?? '') === next) continue;
      changed = true;
      if (clear) txt.delete(sub);
      else txt.set(sub, next);
      changes.push({ at: Date.now(), subdomain: sub, value: clear ? undefined : next });
      await o.onChange?.(sub, clear ? undefined : next);
    }
    return q.get('verbose') === 'true' ? OK(['OK', next, changed ? 'UPDATED' : 'NOCHANGE']) : OK(['OK']);
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: server.origin,
    requests: server.requests,
    changes,
    async values(fqdn) {
      const labels = nameKey(fqdn).split('.');
      const n = labels.length;
      if (n < 3 || labels[n - 2] !== 'duckdns' || labels[n - 1] !== 'org') return [];
      const value = txt.get(labels[n - 3]!);
      return value ? [value] : [];
    },
    failNext: server.failNext,
    close: server.close,
  };
}
