import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeHetznerOptions {
  readonly ca: TestCa;
  /** Zones of the project: "example.test" (primary) or { name, mode: 'secondary' }. */
  readonly zones: readonly (string | { readonly name: string; readonly mode: 'primary' | 'secondary' })[];
  /** API tokens; `write: false` is a Read-only token. */
  readonly tokens: Readonly<Record<string, { readonly write?: boolean }>>;
}

export interface FakeHetzner {
  /** For HETZNER_API_URL: https://127.0.0.1:<port>/v1 */
  readonly apiUrl: string;
  readonly requests: RecordedRequest[];
  /** The TXT values at an absolute name, unquoted. */
  values(fqdn: string): Promise<string[]>;
  /** The TTL of the TXT RRSet at a name, if it exists. */
  ttl(fqdn: string): number | undefined;
  /** The next action started ends in `error` with this message. */
  failNextAction(message: string): void;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

interface Zone {
  readonly id: number;
  readonly name: string;
  readonly mode: 'primary' | 'secondary';
}
interface RRSet {
  readonly zone: number;
  readonly name: string;
  readonly type: string;
  ttl: number | null;
  records: { value: string; comment: string }[];
}
interface Action {
  readonly id: number;
  readonly command: string;
  status: 'running' | 'success' | 'error';
  readonly error: { code: string; message: string } | null;
  readonly zone: number;
}

const error = (status: number, code: string, message: string, details: unknown = {}): FakeReply => ({
  status,
  json: { error: { code, message, details } },
});
const invalidInput = (field: string, message: string): FakeReply =>
  error(422, 'invalid_input', `invalid input in field '${field}'`, {
    fields: [{ name: field, messages: [message] }],
  });

/** One or more quoted character-strings of at most 255 characters each, as the API asks for TXT values. */
const QUOTED_TXT = /^"((?:[^"\\]|\\.){0,255})"(?: "((?:[^"\\]|\\.){0,255})")*$/;

/**
 * A fake of the Hetzner Cloud API's Zones and Zone RRSets as Hetzner documents them: Bearer tokens (Read
 * only tokens may only GET), zones by id or name, RRSets addressed by a lower-case relative name ("@" at
 * the apex, never ending with a dot or the zone name) and type, quoted TXT values, add_records creating
 * the RRSet and remove_records deleting it with its last record, asynchronous actions (running until
 * polled at GET /actions/{id}), changes refused in secondary zones, and `{error: {code, message,
 * details}}` bodies.
 */
export async function startFakeHetzner(o: FakeHetznerOptions): Promise<FakeHetzner> {
  const zones = o.zones.map(
    (z, i): Zone =>
      typeof z === 'string'
        ? { id: 1000 + i, name: nameKey(z), mode: 'primary' }
        : { id: 1000 + i, name: nameKey(z.name), mode: z.mode },
  );
  const rrsets = new Map<string, RRSet>();
  const actions = new Map<number, Action>();
  let nextAction = 7000;
  let failAction: string | undefined;
  const key = (zone: number, name: string, type: string) => `${zone} ${name} ${type}`;

  const zoneOf = (idOrName: string) =>
    zones.find((z) => String(z.id) === idOrName || z.name === idOrName.toLowerCase());

  function actionJson(a: Action) {
    return {
      id: a.id,
      command: a.command,
      status: a.status,
      progress: a.status === 'running' ? 0 : 100,
      started: new Date().toISOString(),
      finished: a.status === 'running' ? null : new Date().toISOString(),
      resources: [{ id: a.zone, type: 'zone' }],
      error: a.error,
    };
  }

  function startAction(command: string, zone: number): FakeReply {
    const message = failAction;
    failAction = undefined;
    const a: Action = {
      id: nextAction++,
      command,
      status: 'running',
      error: message ? { code: 'action_failed', message } : null,
      zone,
    };
    actions.set(a.id, a);
    return { status: 201, json: { action: actionJson(a) } };
  }

  /** Checks the records list of an add/remove body; returns the values or a reply. */
  function recordsOf(req: RecordedRequest, type: string): string[] | FakeReply {
    if (!/^application\/json\b/.test(String(req.headers['content-type'] ?? '')))
      return error(400, 'json_error', 'request body must be JSON');
    const b = jsonBody(req);
    if (!b) return error(400, 'json_error', 'invalid JSON in request body');
    if (!Array.isArray(b.records) || b.records.length === 0)
      return invalidInput('records', 'must contain at least one record');
    const values: string[] = [];
    for (const [i, r] of (b.records as unknown[]).entries()) {
      const value = (r as { value?: unknown } | null)?.value;
      if (typeof value !== 'string') return invalidInput(`records[${i}].value`, 'is required');
      if (type === 'TXT' && !QUOTED_TXT.test(value))
        return invalidInput(
          `records[${i}].value`,
          'TXT values must be quoted strings of at most 255 characters',
        );
      values.push(value);
    }
    return values;
  }

  function handle(req: RecordedRequest): FakeReply {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const token = m ? o.tokens[m[1]!] : undefined;
    if (!token) return error(401, 'unauthorized', 'unable to authenticate');
    if (req.method !== 'GET' && token.write === false)
      return error(403, 'token_readonly', 'The token is only allowed to perform GET requests');

    const actionPath = /^\/v1\/actions\/(\d+)$/.exec(req.path);
    if (actionPath && req.method === 'GET') {
      const a = actions.get(Number(actionPath[1]));
      if (!a) return error(404, 'not_found', 'action not found');
      // An action runs until it is first looked at.
      if (a.status === 'running') a.status = a.error ? 'error' : 'success';
      return { status: 200, json: { action: actionJson(a) } };
    }

    const zonePath = /^\/v1\/zones\/([^/]+)(?:\/rrsets\/([^/]+)\/([^/]+)(\/actions\/([a-z_]+))?)?$/.exec(
      req.path,
    );
    if (!zonePath) return error(404, 'not_found', 'not found');
    const zone = zoneOf(decodeURIComponent(zonePath[1]!));
    if (!zone) return error(404, 'not_found', `zone with ID or name '${zonePath[1]}' not found`);
    if (zonePath[2] === undefined) {
      if (req.method !== 'GET') return error(405, 'method_not_allowed', 'method not allowed');
      return {
        status: 200,
        json: {
          zone: { id: zone.id, name: zone.name, mode: zone.mode, ttl: 3600, status: 'ok', record_count: 2 },
        },
      };
    }

    const name = decodeURIComponent(zonePath[2]);
    const type = decodeURIComponent(zonePath[3]!);
    if (
      name !== name.toLowerCase() ||
      name.endsWith('.') ||
      name === zone.name ||
      name.endsWith(`.${zone.name}`)
    )
      return invalidInput('name', 'must be lower case, relative to the zone, without a trailing dot');
    if (!/^[A-Z]+$/.test(type)) return invalidInput('type', 'unknown record type');
    const k = key(zone.id, name, type);
    const existing = rrsets.get(k);
    const rrsetJson = (r: RRSet) => ({
      id: `${r.name}/${r.type}`,
      name: r.name,
      type: r.type,
      ttl: r.ttl,
      labels: {},
      protection: { change: false },
      records: r.records,
      zone: r.zone,
    });

    if (zonePath[4] === undefined) {
      if (req.method !== 'GET') return error(405, 'method_not_allowed', 'method not allowed');
      if (!existing) return error(404, 'not_found', 'rrset not found');
      return { status: 200, json: { rrset: rrsetJson(existing) } };
    }
    if (req.method !== 'POST') return error(405, 'method_not_allowed', 'method not allowed');
    if (zone.mode !== 'primary')
      return error(422, 'incorrect_zone_mode', "This operation is not supported for this Zone's mode");
    const action = zonePath[5];
    const values = recordsOf(req, type);
    if (!Array.isArray(values)) return values;

    if (action === 'add_records') {
      const ttl = jsonBody(req)?.ttl;
      if (ttl !== undefined && ttl !== null && (!Number.isInteger(ttl) || (ttl as number) < 60))
        return invalidInput('ttl', 'must be at least 60');
      const set = existing ?? { zone: zone.id, name, type, ttl: null, records: [] };
      for (const v of values) {
        if (set.records.some((r) => r.value === v))
          return invalidInput('records', `record ${v} already exists`);
      }
      if (typeof ttl === 'number') set.ttl = ttl;
      set.records.push(...values.map((value) => ({ value, comment: '' })));
      rrsets.set(k, set);
      return startAction('add_rrset_records', zone.id);
    }
    if (action === 'remove_records') {
      if (!existing) return error(404, 'not_found', 'rrset not found');
      for (const v of values) {
        if (!existing.records.some((r) => r.value === v))
          return invalidInput('records', `record ${v} does not exist in the rrset`);
      }
      existing.records = existing.records.filter((r) => !values.includes(r.value));
      if (existing.records.length === 0) rrsets.delete(k);
      return startAction('remove_rrset_records', zone.id);
    }
    return error(404, 'not_found', 'not found');
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  const find = (fqdn: string) => {
    const f = nameKey(fqdn);
    const zone = zones
      .filter((z) => f === z.name || f.endsWith(`.${z.name}`))
      .sort((a, b) => b.name.length - a.name.length)[0];
    if (!zone) return undefined;
    const name = f === zone.name ? '@' : f.slice(0, -(zone.name.length + 1));
    return rrsets.get(key(zone.id, name, 'TXT'));
  };
  return {
    apiUrl: `${server.origin}/v1`,
    requests: server.requests,
    values: async (fqdn) => (find(fqdn)?.records ?? []).map((r) => r.value.replace(/^"|"$/g, '')),
    ttl: (fqdn) => find(fqdn)?.ttl ?? undefined,
    failNextAction: (message) => {
      failAction = message;
    },
    failNext: server.failNext,
    close: server.close,
  };
}
