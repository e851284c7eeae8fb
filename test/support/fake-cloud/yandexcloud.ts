// A fake of Yandex Cloud IAM (POST /iam/v1/tokens) and the DNS API v1 zone endpoints acmekit uses. IAM
// takes only a JWT that it checks on its own (it does not import the provider's signer): PS256 header
// with the kid of a known authorized key, iss the key's service account, aud the IAM tokens URL, iat and
// exp within an hour of now, and an RSASSA-PSS/SHA-256 signature that verifies with the key's public half.
// DNS calls need a live bearer IAM token of a service account allowed in the folder. updateRecordSets
// refuses deletions that do not match the stored set exactly and additions over an existing set, applying
// nothing then; errors are {code, message, details} with gRPC codes.
import { constants, createPublicKey, type KeyObject, randomBytes, verify } from 'node:crypto';
import type { TestCa } from '../test-ca.ts';
import { type FakeReply, jsonBody, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeYandexOptions {
  readonly ca: TestCa;
  /** Authorized key id → its service account and public key (PEM). */
  readonly keys: Readonly<
    Record<string, { readonly serviceAccountId: string; readonly publicKeyPem: string }>
  >;
  /** Folder id → service accounts with dns.editor there, and its zones ("example.test"). */
  readonly folders: Readonly<
    Record<string, { readonly editors: readonly string[]; readonly zones: readonly string[] }>
  >;
  /** Zones per page of the zone list (default 1000). */
  readonly pageSize?: number;
}

export interface FakeYandexRecordSet {
  readonly zoneId: string;
  /** Absolute, with the trailing dot. */
  readonly name: string;
  ttl: string;
  data: string[];
}

export interface FakeYandex {
  /** For YANDEX_CLOUD_API_URL and YANDEX_CLOUD_IAM_URL: https://127.0.0.1:<port> */
  readonly url: string;
  readonly requests: RecordedRequest[];
  tokensIssued(): number;
  recordSets(): FakeYandexRecordSet[];
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

const AUDIENCE = 'https://iam.api.cloud.yandex.net/iam/v1/tokens';
const grpcError = (status: number, code: number, message: string): FakeReply => ({
  status,
  json: { code, message, details: [] },
});

export async function startFakeYandex(o: FakeYandexOptions): Promise<FakeYandex> {
  const publicKeys = new Map<string, KeyObject>(
    Object.entries(o.keys).map(([id, k]) => [id, createPublicKey(k.publicKeyPem)]),
  );
  const tokens = new Map<string, { serviceAccountId: string; expiresAt: number }>();
  let issued = 0;
  const zones = new Map<string, { zone: string; folderId: string }>();
  let n = 0;
  for (const [folderId, f] of Object.entries(o.folders))
    for (const z of f.zones)
      zones.set(`dns${(n++).toString().padStart(17, '0')}`, { zone: `${nameKey(z)}.`, folderId });
  const sets: FakeYandexRecordSet[] = [];

  function iamTokens(req: RecordedRequest): FakeReply {
    if (req.method !== 'POST') return grpcError(405, 12, 'method not allowed');
    const jwt = jsonBody(req)?.jwt;
    if (typeof jwt !== 'string') return grpcError(400, 3, 'jwt is required');
    const [h, p, s] = jwt.split('.');
    if (!h || !p || !s) return grpcError(400, 3, 'malformed JWT');
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    } catch {
      return grpcError(400, 3, 'malformed JWT');
    }
    if (header.alg !== 'PS256') return grpcError(400, 3, 'unsupported JWT algorithm, PS256 expected');
    const key = publicKeys.get(String(header.kid));
    if (!key) return grpcError(401, 16, 'Authorized key not found');
    if (claims.iss !== o.keys[String(header.kid)]!.serviceAccountId || claims.aud !== AUDIENCE)
      return grpcError(401, 16, 'JWT iss or aud is wrong');
    const now = Date.now() / 1000;
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (!(iat <= now + 60 && exp > now && exp - iat <= 3600))
      return grpcError(401, 16, 'JWT expired or lifetime too long');
    const ok = verify(
      'sha256',
      Buffer.from(`${h}.${p}`),
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
      Buffer.from(s, 'base64url'),
    );
    if (!ok) return grpcError(401, 16, 'JWT signature is invalid');
    const token = `t1.${randomBytes(30).toString('base64url')}`;
    const expiresAt = Date.now() + 12 * 3_600_000;
    tokens.set(token, { serviceAccountId: o.keys[String(header.kid)]!.serviceAccountId, expiresAt });
    issued++;
    return { status: 200, json: { iamToken: token, expiresAt: new Date(expiresAt).toISOString() } };
  }

  const absolute = (name: string, zone: string) => {
    const lower = name.toLowerCase();
    if (lower === '@' || lower === zone) return zone;
    return lower.endsWith('.') ? lower : `${lower}.${zone}`;
  };
  const show = (s: FakeYandexRecordSet) => ({ name: s.name, type: 'TXT', ttl: s.ttl, data: s.data });

  function dns(req: RecordedRequest): FakeReply {
    const m = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''));
    const token = m ? tokens.get(m[1]!) : undefined;
    if (!token || token.expiresAt < Date.now()) return grpcError(401, 16, 'The token is invalid');
    const allowed = (folderId: string) =>
      o.folders[folderId]?.editors.includes(token.serviceAccountId) === true;

    if (req.method === 'GET' && req.path === '/dns/v1/zones') {
      const folderId = req.query.get('folderId') ?? '';
      if (!allowed(folderId)) return grpcError(403, 7, `Permission denied to folder ${folderId}`);
      const all = [...zones]
        .filter(([, z]) => z.folderId === folderId)
        .map(([id, z]) => ({
          id,
          folderId,
          zone: z.zone,
          name: z.zone.replace(/\.$/, '').replace(/\./g, '-'),
        }));
      const size = Math.min(Number(req.query.get('pageSize') ?? 100), o.pageSize ?? 1000);
      const start = Number(req.query.get('pageToken') || 0);
      const next = start + size < all.length ? String(start + size) : '';
      return {
        status: 200,
        json: { dnsZones: all.slice(start, start + size), ...(next ? { nextPageToken: next } : {}) },
      };
    }
    const zm = /^\/dns\/v1\/zones\/([a-z0-9]+):(getRecordSet|updateRecordSets)$/.exec(req.path);
    const zone = zm ? zones.get(zm[1]!) : undefined;
    if (!zm || !zone) return grpcError(404, 5, 'DnsZone not found');
    if (!allowed(zone.folderId)) return grpcError(403, 7, 'Permission denied');
    const zoneId = zm[1]!;

    if (zm[2] === 'getRecordSet' && req.method === 'GET') {
      const name = req.query.get('name');
      if (!name || req.query.get('type') !== 'TXT') return grpcError(400, 3, 'name and type are required');
      const found = sets.find((s) => s.zoneId === zoneId && s.name === absolute(name, zone.zone));
      return found ? { status: 200, json: show(found) } : grpcError(404, 5, 'RecordSet not found');
    }
    if (zm[2] === 'updateRecordSets' && req.method === 'POST') {
      const b = jsonBody(req);
      const deletions = (b?.deletions ?? []) as Record<string, unknown>[];
      const additions = (b?.additions ?? []) as Record<string, unknown>[];
      if (!Array.isArray(deletions) || !Array.isArray(additions))
        return grpcError(400, 3, 'deletions and additions must be lists');
      const next = sets.map((s) => ({ ...s, data: [...s.data] }));
      for (const d of deletions) {
        const name = absolute(String(d.name ?? ''), zone.zone);
        const i = next.findIndex((s) => s.zoneId === zoneId && s.name === name);
        const data = Array.isArray(d.data) ? d.data.map(String) : [];
        if (
          i < 0 ||
          d.type !== 'TXT' ||
          String(d.ttl) !== next[i]!.ttl ||
          [...data].sort().join('\n') !== [...next[i]!.data].sort().join('\n')
        )
          return grpcError(
            400,
            9,
            `Failed to delete record set ${name}: it does not match the stored record set`,
          );
        next.splice(i, 1);
      }
      for (const a of additions) {
        const name = absolute(String(a.name ?? ''), zone.zone);
        if (name !== zone.zone && !name.endsWith(`.${zone.zone}`))
          return grpcError(400, 3, `${name} is outside the zone`);
        if (a.type !== 'TXT' || !/^\d+$/.test(String(a.ttl)) || !Array.isArray(a.data) || a.data.length === 0)
          return grpcError(400, 3, 'type, ttl and data are required');
        if (next.some((s) => s.zoneId === zoneId && s.name === name))
          return grpcError(409, 6, `Record set ${name} already exists`);
        next.push({ zoneId, name, ttl: String(a.ttl), data: a.data.map(String) });
      }
      sets.splice(0, sets.length, ...next);
      return {
        status: 200,
        json: {
          id: `dns${randomBytes(8).toString('hex')}`,
          description: 'Update record sets',
          done: true,
          metadata: { '@type': 'type.googleapis.com/yandex.cloud.dns.v1.UpdateRecordSetsMetadata' },
          response: {
            '@type': 'type.googleapis.com/yandex.cloud.dns.v1.RecordSetDiff',
            added: additions,
            deleted: deletions,
          },
        },
      };
    }
    return grpcError(405, 12, 'method not allowed');
  }

  const server = await startFakeHttpsServer(o.ca, (req) =>
    req.path === '/iam/v1/tokens' ? iamTokens(req) : dns(req),
  );
  return {
    url: server.origin,
    requests: server.requests,
    tokensIssued: () => issued,
    recordSets: () => sets.map((s) => ({ ...s })),
    values: async (fqdn) => sets.filter((s) => s.name === `${nameKey(fqdn)}.`).flatMap((s) => s.data),
    failNext: server.failNext,
    close: server.close,
  };
}
