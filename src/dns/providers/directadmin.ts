import type { Secret } from '../../internal/secret.ts';
import type { DnsProviderDefinition } from '../definition.ts';
import { type TxtRecord, unFqdn } from '../provider.ts';
import {
  type ListedTxt,
  type RestApi,
  type RestCallContext,
  RestDnsProvider,
  unquoteTxt,
} from '../rest-provider.ts';
import { apiUrlSetting } from '../settings.ts';

// DirectAdmin API, CMD_API_DNS_CONTROL, as DirectAdmin documents it (https://docs.directadmin.com/developer/api
// for Basic authentication with the user name and a password or login key; the DNS calls in
// https://docs.directadmin.com/changelog/version-1.24.2.html): GET ?domain=<zone> returns the zone file;
// action=add with type, name, value (and ttl) adds a record; action=select with txtrecs0=<the url-encoded
// "name=…&value=…" of a record as the zone file has it> deletes it. Changes answer url-encoded
// "error=0&text=…&details=…" (error=1 and the reason when refused). A TXT value is written quoted.

const CODE = 'directadmin';
const PATH = '/CMD_API_DNS_CONTROL';

interface DirectAdminConfig {
  readonly baseUrl: string;
  readonly username: string;
  readonly password: Secret;
  /** DIRECTADMIN_ZONE_NAME: the zone to write in, instead of the one found by the SOA walk. */
  readonly zoneName: string | undefined;
}

const api: RestApi<DirectAdminConfig> = {
  code: CODE,
  apiName: 'DirectAdmin',
  urlVariable: 'DIRECTADMIN_API_URL',
  credentialVariables: 'DIRECTADMIN_USERNAME and DIRECTADMIN_PASSWORD',
  oneWriterPerName: true,
  baseUrl: (c) => c.baseUrl,
  secrets: (c) => [c.password],
  authorize: (c, req) => ({
    ...req,
    headers: {
      ...req.headers,
      authorization: `Basic ${Buffer.from(`${c.username}:${c.password.reveal()}`).toString('base64')}`,
    },
  }),
  async zoneRef(c, zone) {
    return c.zoneName ?? zone;
  },
  async list(_c, record, zone, ctx) {
    const res = await ctx.send({
      method: 'GET',
      path: `${PATH}?${new URLSearchParams({ domain: zone })}`,
      headers: { accept: 'text/plain' },
    });
    const what = `read the DNS zone ${zone}`;
    if (res.status < 200 || res.status >= 300) throw ctx.refused(res, what);
    const text = res.body.toString('utf8');
    // A refusal comes url-encoded instead of the zone file.
    if (/^error=/.test(text.trim())) throw refusal(ctx, new URLSearchParams(text.trim()), what, zone);
    const want = unFqdn(record.fqdn).toLowerCase();
    return txtLines(text, zone)
      .filter((l) => l.fqdn === want)
      .map(
        (l): ListedTxt => ({
          id: new URLSearchParams({ name: l.name, value: l.value }).toString(),
          value: unquoteTxt(l.value),
        }),
      );
  },
  async create(_c, record, zone, ctx) {
    const fqdn = unFqdn(record.fqdn).toLowerCase();
    if (fqdn !== zone && !fqdn.endsWith(`.${zone}`))
      throw ctx.fail(`${record.fqdn} is not in the zone ${zone}; check DIRECTADMIN_ZONE_NAME`);
    await change(
      ctx,
      zone,
      {
        action: 'add',
        type: 'TXT',
        name: relative(record, zone),
        value: `"${record.value}"`,
        ttl: String(record.ttl),
      },
      `add the TXT record ${record.fqdn}`,
    );
    // No id: cleanup reads the record back as the zone file writes it, which is what a delete names.
    return undefined;
  },
  async remove(_c, record, zone, id, ctx) {
    await change(ctx, zone, { action: 'select', txtrecs0: id }, `delete the TXT record ${record.fqdn}`);
  },
  errorDetail(body) {
    const text = body.toString('utf8').trim();
    if (/^error=/.test(text)) {
      const p = new URLSearchParams(text);
      return [p.get('text'), p.get('details')].filter(Boolean).join(': ') || undefined;
    }
    const plain = text
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    return plain !== '' ? plain.slice(0, 200) : undefined;
  },
};

/** A change through CMD_API_DNS_CONTROL (a form POST); throws unless DirectAdmin says error=0. */
async function change(
  ctx: RestCallContext,
  zone: string,
  params: Record<string, string>,
  what: string,
): Promise<void> {
  const res = await ctx.send({
    method: 'POST',
    path: PATH,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/plain' },
    rawBody: new URLSearchParams({ domain: zone, ...params }).toString(),
  });
  if (res.status < 200 || res.status >= 300) throw ctx.refused(res, what);
  const answer = new URLSearchParams(res.body.toString('utf8').trim());
  if (answer.get('error') !== '0') throw refusal(ctx, answer, what, zone);
}

function refusal(ctx: RestCallContext, answer: URLSearchParams, what: string, zone: string) {
  const reason = [answer.get('text'), answer.get('details')].filter(Boolean).join(': ') || 'no reason given';
  return ctx.fail(
    `DirectAdmin refused to ${what} (${reason}): check that ${zone} is a domain of DIRECTADMIN_USERNAME ` +
      '(or set DIRECTADMIN_ZONE_NAME), and that a login key allows CMD_API_DNS_CONTROL',
  );
}

/** The name to add the record under: relative to the zone, or the zone itself with its dot at the apex. */
function relative(record: TxtRecord, zone: string): string {
  const fqdn = unFqdn(record.fqdn).toLowerCase();
  return fqdn === zone ? `${zone}.` : fqdn.slice(0, -(zone.length + 1));
}

/** The TXT lines of a zone file: the name and value as written, and the full name they stand for. */
function txtLines(zoneFile: string, zone: string): { name: string; value: string; fqdn: string }[] {
  const found: { name: string; value: string; fqdn: string }[] = [];
  let origin = zone;
  let last = zone;
  for (const raw of zoneFile.split(/\r?\n/)) {
    const line = stripComment(raw).trimEnd();
    if (line.trim() === '') continue;
    const directive = /^\$ORIGIN\s+(\S+)/i.exec(line);
    if (directive) {
      origin = unFqdn(directive[1]!).toLowerCase();
      continue;
    }
    if (line.startsWith('$')) continue;
    const m = /^(\S*)\s+(?:(\d+)\s+)?(?:IN\s+)?(?:(\d+)\s+)?TXT\s+(.+)$/i.exec(line);
    // A line starting with blanks continues the previous owner.
    const owner = line.startsWith(' ') || line.startsWith('\t') ? '' : (line.split(/\s/)[0] ?? '');
    if (owner !== '') last = owner;
    if (!m) continue;
    const name = m[1] === '' ? last : m[1]!;
    const n = name.toLowerCase();
    const fqdn = n === '@' ? origin : n.endsWith('.') ? n.slice(0, -1) : `${n}.${origin}`;
    found.push({ name, value: m[4]!.trim(), fqdn });
  }
  return found;
}

/** The line without a ";" comment (a ";" inside double quotes belongs to the value). */
function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ';' && !quoted) return line.slice(0, i);
  }
  return line;
}

export const definition = {
  code: CODE,
  title: 'DirectAdmin',
  description:
    "Adds the TXT records through DirectAdmin's CMD_API_DNS_CONTROL (the zone file read back, records added " +
    'and deleted as DirectAdmin writes them), with the user name and a password or login key.',
  docsUrl: 'https://docs.directadmin.com/developer/api',
  permissions:
    'DIRECTADMIN_USERNAME and DIRECTADMIN_PASSWORD: the user owning the domain, with a password or (better) a ' +
    'login key limited to CMD_API_DNS_CONTROL.',
  example: [
    'DIRECTADMIN_API_URL=https://host.example.com:2222 DIRECTADMIN_USERNAME=alice DIRECTADMIN_PASSWORD=loginkey \\',
    "  acmekit --dns directadmin --domains example.com --domains '*.example.com' --email you@example.com run",
  ].join('\n'),
  envPrefix: 'DIRECTADMIN',
  // lego's directadmin defaults.
  defaults: { ttl: 30, propagationTimeoutMs: 60_000, pollingIntervalMs: 5_000, httpTimeoutMs: 30_000 },
  env: [
    {
      name: 'DIRECTADMIN_API_URL',
      description: 'URL of DirectAdmin, e.g. https://host.example.com:2222',
      required: true,
    },
    { name: 'DIRECTADMIN_USERNAME', description: 'DirectAdmin user name', required: true },
    {
      name: 'DIRECTADMIN_PASSWORD',
      description: 'its password or a login key',
      required: true,
      secret: true,
    },
    {
      name: 'DIRECTADMIN_ZONE_NAME',
      description: 'the DirectAdmin domain (zone) to write in, when not the one found by the SOA lookup',
    },
  ],
  configure(env) {
    const zone = env.string('DIRECTADMIN_ZONE_NAME');
    return {
      baseUrl: apiUrlSetting(env, CODE, 'DIRECTADMIN_API_URL', env.required('DIRECTADMIN_API_URL')),
      username: env.required('DIRECTADMIN_USERNAME'),
      password: env.requiredSecret('DIRECTADMIN_PASSWORD'),
      zoneName: zone === undefined ? undefined : unFqdn(zone).toLowerCase(),
    };
  },
  create(config, deps) {
    return new RestDnsProvider(api, config, deps);
  },
} satisfies DnsProviderDefinition<DirectAdminConfig>;
