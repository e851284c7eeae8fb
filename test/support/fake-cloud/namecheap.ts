import type { TestCa } from '../test-ca.ts';
import { type FakeReply, nameKey, type RecordedRequest, startFakeHttpsServer } from './server.ts';

export interface FakeNamecheapHost {
  readonly name: string;
  readonly type: string;
  readonly address: string;
  readonly mxPref: string;
  readonly ttl: string;
}

export interface FakeNamecheapOptions {
  readonly ca: TestCa;
  /** API user → its key, whitelisted IPs and domains (with their records and email type). */
  readonly users: Readonly<
    Record<
      string,
      { readonly key: string; readonly whitelist: readonly string[]; readonly domains: readonly string[] }
    >
  >;
  /** Records a domain starts with. */
  readonly seed?: Readonly<
    Record<string, { readonly emailType?: string; readonly hosts: readonly FakeNamecheapHost[] }>
  >;
  /** Domains on other nameservers (IsUsingOurDNS="false"). */
  readonly foreignDns?: readonly string[];
  /** What GET /getip answers. */
  readonly publicIp: string;
}

export interface FakeNamecheap {
  /** For NAMECHEAP_API_URL: https://127.0.0.1:<port>/xml.response */
  readonly apiUrl: string;
  /** For NAMECHEAP_IP_LOOKUP_URL: https://127.0.0.1:<port>/getip */
  readonly ipLookupUrl: string;
  readonly requests: RecordedRequest[];
  /** The parameters of each API request (query and form together). */
  params(req: RecordedRequest): URLSearchParams;
  hosts(domain: string): FakeNamecheapHost[];
  emailType(domain: string): string | undefined;
  values(fqdn: string): Promise<string[]>;
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

const TYPES = new Set([
  'A',
  'AAAA',
  'ALIAS',
  'CAA',
  'CNAME',
  'MX',
  'MXE',
  'NS',
  'TXT',
  'URL',
  'URL301',
  'FRAME',
]);
const EMAIL_TYPES = new Set(['MXE', 'MX', 'FWD', 'OX', 'GMAIL']);

function esc(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

function envelope(command: string, inner: string, errors: readonly [string, string][] = []): FakeReply {
  const status = errors.length ? 'ERROR' : 'OK';
  const errs = errors.length
    ? `<Errors>${errors.map(([n, t]) => `<Error Number="${n}">${esc(t)}</Error>`).join('')}</Errors>`
    : '<Errors />';
  return {
    status: 200,
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    text:
      '<?xml version="1.0" encoding="utf-8"?>\r\n' +
      `<ApiResponse Status="${status}" xmlns="http://api.namecheap.com/xml.response">${errs}<Warnings />` +
      `<RequestedCommand>${esc(command.toLowerCase())}</RequestedCommand>` +
      (errors.length ? '' : `<CommandResponse Type="${esc(command)}">${inner}</CommandResponse>`) +
      '<Server>FAKE</Server><GMTTimeDifference>--5:00</GMTTimeDifference><ExecutionTime>0.01</ExecutionTime></ApiResponse>',
  };
}

/**
 * A fake of the Namecheap XML API as Namecheap documents it: the global parameters (ApiUser, ApiKey,
 * UserName, ClientIp, Command) in the query (GET) or an urlencoded form (POST), the key checked and the
 * ClientIp on the key's whitelist (error 1011102 / 1011150), HTTP 200 with <ApiResponse Status="ERROR">
 * for every failure. getHosts (SLD, TLD) lists <host> elements with the domain's EmailType; setHosts
 * replaces every record with the numbered HostName/RecordType/Address/MXPref/TTL given (a gap in the
 * numbering, an unknown type, a TTL outside 60–60000 or MX records without EmailType=MX are refused and
 * change nothing). GET /getip answers the public IP as text.
 */
export async function startFakeNamecheap(o: FakeNamecheapOptions): Promise<FakeNamecheap> {
  const domains = new Map<string, { emailType: string | undefined; hosts: FakeNamecheapHost[] }>();
  for (const u of Object.values(o.users))
    for (const d of u.domains) domains.set(nameKey(d), { emailType: undefined, hosts: [] });
  for (const [d, s] of Object.entries(o.seed ?? {}))
    domains.set(nameKey(d), { emailType: s.emailType, hosts: [...s.hosts] });
  let nextId = 100;

  const params = (req: RecordedRequest): URLSearchParams => {
    const all = new URLSearchParams(req.query);
    if (
      req.method === 'POST' &&
      String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
    )
      for (const [k, v] of new URLSearchParams(req.body)) all.append(k, v);
    return all;
  };

  function handle(req: RecordedRequest): FakeReply {
    if (req.path === '/getip' && req.method === 'GET') return { status: 200, text: `${o.publicIp}\n` };
    if (req.path !== '/xml.response' || (req.method !== 'GET' && req.method !== 'POST'))
      return { status: 404, text: 'Not Found' };
    const p = params(req);
    const command = p.get('Command') ?? '';
    const user = o.users[p.get('ApiUser') ?? ''];
    if (!p.get('ApiUser')) return envelope(command, '', [['1010101', 'Parameter APIUser is missing']]);
    if (!p.get('ApiKey')) return envelope(command, '', [['1010102', 'Parameter APIKey is missing']]);
    if (!user || user.key !== p.get('ApiKey'))
      return envelope(command, '', [['1011102', 'API Key is invalid or API access has not been enabled']]);
    if (p.get('UserName') !== p.get('ApiUser'))
      return envelope(command, '', [['1011104', 'Parameter UserName is invalid']]);
    if (!user.whitelist.includes(p.get('ClientIp') ?? ''))
      return envelope(command, '', [['1011150', `Invalid request IP: ${p.get('ClientIp') ?? ''}`]]);
    const domain = `${p.get('SLD') ?? ''}.${p.get('TLD') ?? ''}`.toLowerCase();
    if (!p.get('SLD') || !p.get('TLD'))
      return envelope(command, '', [['2010324', 'SLD and TLD are required']]);
    const stored = domains.get(domain);
    if (!stored || !user.domains.map(nameKey).includes(domain))
      return envelope(command, '', [['2019166', 'Domain not found']]);
    const ours = !(o.foreignDns ?? []).map(nameKey).includes(domain);

    if (command === 'namecheap.domains.dns.getHosts') {
      const hosts = stored.hosts
        .map(
          (h) =>
            `<host HostId="${nextId++}" Name="${esc(h.name)}" Type="${esc(h.type)}" Address="${esc(h.address)}" ` +
            `MXPref="${esc(h.mxPref || '10')}" TTL="${esc(h.ttl || '1800')}" AssociatedAppTitle="" FriendlyName="" IsActive="true" IsDDNSEnabled="false" />`,
        )
        .join('');
      return envelope(
        command,
        `<DomainDNSGetHostsResult Domain="${esc(domain)}"${stored.emailType ? ` EmailType="${esc(stored.emailType)}"` : ''} IsUsingOurDNS="${ours}">${hosts}</DomainDNSGetHostsResult>`,
      );
    }
    if (command === 'namecheap.domains.dns.setHosts') {
      if (!ours)
        return envelope(command, '', [
          ['2030288', 'Cannot complete this command as this domain is not using proper DNS servers'],
        ]);
      const next: FakeNamecheapHost[] = [];
      for (let n = 1; p.has(`HostName${n}`) || p.has(`RecordType${n}`) || p.has(`Address${n}`); n++) {
        const name = p.get(`HostName${n}`) ?? '';
        const type = p.get(`RecordType${n}`) ?? '';
        const address = p.get(`Address${n}`) ?? '';
        const ttl = p.get(`TTL${n}`) ?? '1800';
        if (!name || !TYPES.has(type) || !address)
          return envelope(command, '', [
            ['2050900', `Host record ${n} needs HostName, a known RecordType and Address`],
          ]);
        if (!/^\d+$/.test(ttl) || Number(ttl) < 60 || Number(ttl) > 60000)
          return envelope(command, '', [['2050900', `TTL${n} must be between 60 and 60000`]]);
        next.push({ name: name.toLowerCase(), type, address, mxPref: p.get(`MXPref${n}`) ?? '10', ttl });
      }
      const emailType = p.get('EmailType') ?? undefined;
      if (emailType !== undefined && !EMAIL_TYPES.has(emailType))
        return envelope(command, '', [['2050900', 'EmailType is invalid']]);
      if (next.some((h) => h.type === 'MX') && emailType !== 'MX')
        return envelope(command, '', [['2050900', 'MX records need EmailType=MX']]);
      stored.hosts = next;
      stored.emailType = emailType;
      return envelope(
        command,
        `<DomainDNSSetHostsResult Domain="${esc(domain)}" IsSuccess="true"><Warnings /></DomainDNSSetHostsResult>`,
      );
    }
    return envelope(command, '', [['1010601', `Unknown command ${command}`]]);
  }

  const server = await startFakeHttpsServer(o.ca, handle);
  return {
    apiUrl: `${server.origin}/xml.response`,
    ipLookupUrl: `${server.origin}/getip`,
    requests: server.requests,
    params,
    hosts: (d) => [...(domains.get(nameKey(d))?.hosts ?? [])],
    emailType: (d) => domains.get(nameKey(d))?.emailType,
    values: async (fqdn) => {
      const key = nameKey(fqdn);
      const out: string[] = [];
      for (const [d, s] of domains)
        for (const h of s.hosts)
          if (h.type === 'TXT' && (h.name === '@' ? d : `${h.name}.${d}`) === key) out.push(h.address);
      return out;
    },
    failNext: server.failNext,
    close: server.close,
  };
}
