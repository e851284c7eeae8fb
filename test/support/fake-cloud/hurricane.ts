import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeHurricaneOptions {
  readonly ca: TestCa;
  /**
   * The dynamic TXT records set up at dns.he.net ("_acme-challenge.example.test") → the key generated for
   * each. A record starts with `initial` (dns.he.net asks for a value when the record is created).
   */
  readonly records: Readonly<Record<string, string>>;
  readonly initial?: string;
  /** Called after a record's value changed, e.g. to publish it for Pebble. */
  onChange?(hostname: string, value: string): Promise<void>;
}

/** One accepted change, in order, for tests about sequencing. */
export interface HurricaneChange {
  readonly at: number;
  readonly hostname: string;
  readonly value: string;
}

export interface FakeHurricane {
  /** For HURRICANE_API_URL: https://127.0.0.1:<port> */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  readonly changes: HurricaneChange[];
  /** Sets up one more dynamic TXT record with its key, as a user does at dns.he.net. */
  addRecord(hostname: string, key: string): void;
  /** The one value the record holds ([] when there is no such record). */
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

const code = (text: string, status = 200): FakeReply => ({ status, text });

/**
 * A fake of Hurricane Electric's dynamic DNS endpoint (https://dns.he.net/docs.html) for TXT records:
 * /nic/update by POST (an application/x-www-form-urlencoded body) or GET (the query), with `hostname`,
 * `txt` and the record's key either as `password` or as HTTP Basic authentication whose user name is the
 * hostname. Only records set up beforehand with a key can be written, each holding one value. Answers are
 * dyndns2 codes in a text body: `good "<txt>"`, `nochg "<txt>"`, badauth (HTTP 401), nohost, notfqdn,
 * badagent (no User-Agent).
 */
export async function startFakeHurricane(o: FakeHurricaneOptions): Promise<FakeHurricane> {
  const keys = new Map(Object.entries(o.records).map(([h, k]) => [nameKey(h), k]));
  const held = new Map([...keys.keys()].map((h) => [h, o.initial ?? 'placeholder']));
  const changes: HurricaneChange[] = [];

  async function handle(req: RecordedRequest): Promise<FakeReply> {
    if (req.path !== '/nic/update') return { status: 404, text: 'Not Found' };
    if (!req.headers['user-agent']) return code('badagent');
    let form: URLSearchParams;
    if (req.method === 'POST') {
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
        return code('badagent');
      form = new URLSearchParams(req.body);
    } else if (req.method === 'GET') form = req.query;
    else return code('badagent');

    const hostname = nameKey(form.get('hostname') ?? '');
    let key = form.get('password');
    const basic = /^Basic (\S+)$/.exec(req.headers.authorization ?? '');
    if (key === null && basic) {
      const [user, ...rest] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      if (nameKey(user ?? '') === hostname) key = rest.join(':');
    }
    if (!hostname.includes('.')) return code('notfqdn');
    const expected = keys.get(hostname);
    if (expected === undefined) return code('nohost');
    if (key !== expected) return code('badauth', 401);
    const txt = form.get('txt');
    // A TXT record is written with `txt`; without it the request is an address update, which it is not.
    if (txt === null || txt === '') return code('nohost');
    if (held.get(hostname) === txt) return code(`nochg "${txt}"`);
    held.set(hostname, txt);
    changes.push({ at: Date.now(), hostname, value: txt });
    await o.onChange?.(hostname, txt);
    return code(`good "${txt}"`);
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: server.origin,
    requests: server.requests,
    changes,
    addRecord(hostname, key) {
      keys.set(nameKey(hostname), key);
      held.set(nameKey(hostname), o.initial ?? 'placeholder');
    },
    values: async (fqdn) => {
      const value = held.get(nameKey(fqdn));
      return value === undefined ? [] : [value];
    },
    failNext: server.failNext,
    close: server.close,
  };
}
