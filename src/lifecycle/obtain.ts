import type { KeyObject } from 'node:crypto';
import type { Account } from '../acme/account.ts';
import type { Authorization } from '../acme/authorization.ts';
import { checkChallengeTypes, identifiersEqual, normalizeIdentifiers } from '../acme/identifiers.ts';
import type { Order } from '../acme/order.ts';
import type { Identifier } from '../crypto/identifier.ts';
import { jwkThumbprint } from '../crypto/jwk.ts';
import { type CertificateKeyType, generateKeyType } from '../crypto/keys.ts';
import { PrivateKeyPem } from '../crypto/private-key-pem.ts';
import { AuthorizationFailedError } from '../errors/authorization.ts';
import { BadServerResponseError, InvalidInputError } from '../errors/base.ts';
import { anySignal } from '../internal/abort.ts';
import { loggedWait } from '../internal/logger.ts';
import { caQuirks } from '../protocol/ca-presets.ts';
import { type ChallengeContext, challengeFits, type Solver } from '../solvers/solver.ts';

export interface ObtainOptions {
  /** Names and IPs for the certificate. May be left out when a CSR is given (its names are used). */
  names?: readonly (string | Identifier)[];
  /** Tried in order for each authorization: the first whose type the CA offers and that fits the name wins. */
  solvers: readonly Solver[];
  /** Certificate key, or the type of key to generate (default ec256). Not used with `csr`. */
  key?: KeyObject | CertificateKeyType;
  /** The user's own CSR (PEM or DER); its names must equal `names` when both are given. */
  csr?: string | Uint8Array;
  profile?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** ARI certificate id of the certificate being renewed (RFC 9773 §5). */
  replaces?: string;
  /** Issuer common name of the preferred chain's top certificate. */
  preferredChain?: string;
  mustStaple?: boolean;
  /** false: the CSR acmekit builds has no common name, only the SAN (lego's --disable-cn). Default true. */
  commonName?: boolean;
  signal?: AbortSignal;
  /** Deadline for the whole flow; when it passes, the flow is aborted (cleanup still runs). */
  timeoutMs?: number;
  /**
   * An order an earlier, interrupted run created: it is continued when it is still usable (same
   * identifiers; pending, ready, processing or valid), else a new order is made. Pass the same key too.
   */
  resumeOrderUrl?: string;
  /** Called right after a new order exists, before any challenge: persist the URL to resume later. */
  onOrderCreated?: (orderUrl: string) => Promise<void>;
}

export interface ObtainResult {
  /** Leaf and intermediates, PEM: what a TLS server loads. */
  readonly chain: string;
  /** The leaf alone, PEM. */
  readonly certificate: string;
  /** Intermediates alone, PEM. */
  readonly issuer: string;
  /**
   * The certificate key; undefined when a CSR was given (the key stayed with its owner). It prints as
   * "[redacted private key]" (console.log, JSON.stringify, String); `privateKey.pem()` returns the PKCS#8 PEM.
   */
  readonly privateKey: PrivateKeyPem | undefined;
  readonly alternates: readonly string[];
  readonly identifiers: readonly Identifier[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serial: string;
  readonly orderUrl: string;
  /** Where the certificate was downloaded from (lego keeps it as certUrl). */
  readonly certificateUrl: string;
}

interface Plan {
  solver: Solver;
  ctx: ChallengeContext;
}

const CLEANUP_TIMEOUT_MS = 60_000;

/** Checks everything that can be checked before the first request. */
async function prepare(account: Account, opts: ObtainOptions) {
  if (opts.solvers.length === 0)
    throw new InvalidInputError(
      'no challenge solver given; pass at least one (http-01, dns-01 or tls-alpn-01)',
    );
  let identifiers = opts.names ? normalizeIdentifiers(opts.names) : undefined;
  let csr: { der: Buffer; publicKey: KeyObject } | undefined;
  if (opts.csr !== undefined) {
    const { parseCsr } = await import('../crypto/csr.ts');
    const parsed = await parseCsr(opts.csr);
    const csrIds = normalizeIdentifiers(parsed.identifiers);
    if (identifiers && !identifiersEqual(identifiers, csrIds)) {
      throw new InvalidInputError(
        `the CSR names (${csrIds.map((i) => i.value).join(', ')}) differ from the requested names (${identifiers.map((i) => i.value).join(', ')})`,
      );
    }
    identifiers = identifiers ?? csrIds;
    csr = { der: parsed.der, publicKey: parsed.publicKey };
  }
  if (!identifiers)
    throw new InvalidInputError('give the names for the certificate, or a CSR that names them');
  // RFC 8555 §11.1: the CA must refuse it (badCSR); saying so here costs no order.
  const certKey = csr?.publicKey ?? (typeof opts.key === 'object' ? opts.key : undefined);
  if (certKey && jwkThumbprint(certKey) === account.thumbprint) {
    throw new InvalidInputError(
      `the certificate key ${csr ? 'in the CSR ' : ''}is the account key; use a separate key for the certificate`,
    );
  }
  checkChallengeTypes(
    identifiers,
    opts.solvers.map((s) => s.type),
  );
  const keyType = typeof opts.key === 'string' ? opts.key : undefined;
  if (keyType === 'ed25519' && caQuirks[account.client.directoryUrl]?.refusesEd25519CertKeys) {
    throw new InvalidInputError(
      'this CA does not issue certificates for Ed25519 keys; use ec256, ec384 or an RSA type',
    );
  }
  return { identifiers, csr };
}

/** Picks a solver and challenge for every pending authorization, or says which name cannot be solved. */
function plan(authzs: Authorization[], solvers: readonly Solver[]): Plan[] {
  const plans: Plan[] = [];
  for (const authorization of authzs) {
    if (authorization.status === 'valid') continue;
    if (authorization.status !== 'pending') {
      throw new BadServerResponseError(
        `authorization for ${authorization.identifier.value} is ${authorization.status}; start a new order`,
        { url: authorization.url },
      );
    }
    const identifier = authorization.identifier;
    const offered = authorization.challenges;
    let chosen: Plan | undefined;
    for (const solver of solvers) {
      if (!challengeFits(solver.type, identifier) || (solver.handles && !solver.handles(identifier)))
        continue;
      const challenge = offered.find((c) => c.type === solver.type);
      if (challenge) {
        chosen = { solver, ctx: { identifier, challenge, authorization } };
        break;
      }
    }
    if (!chosen) {
      throw new InvalidInputError(
        `no solver fits ${identifier.value}: the CA offers ${offered.map((c) => c.type).join(', ') || 'no challenges'}, solvers given: ${solvers.map((s) => s.type).join(', ')}`,
        identifier.value,
      );
    }
    plans.push(chosen);
  }
  return plans;
}

/** Finds the authorization that failed and the CA's reason, for a clear error. */
async function explainFailure(order: Order, signal?: AbortSignal): Promise<Error> {
  const authzs = await order.authorizations(signal);
  for (const a of authzs) {
    if (a.status === 'invalid') {
      const failed = a.challenges.find((c) => c.status === 'invalid');
      return new AuthorizationFailedError(a.identifier.value, failed?.type, failed?.error);
    }
  }
  return (
    order.error ??
    new BadServerResponseError(`the order became ${order.status} without a reason`, { url: order.url })
  );
}

function namesOf(identifiers: readonly Identifier[]): string {
  return identifiers.map((i) => i.value).join(', ');
}

/** Runs solver callbacks for all plans at once; waits for all, then rethrows the first failure. */
async function forAll(plans: Plan[], fn: (p: Plan) => Promise<unknown>): Promise<void> {
  const results = await Promise.allSettled(plans.map(fn));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

async function solve(
  account: Account,
  order: Order,
  signal: AbortSignal | undefined,
  solvers: readonly Solver[],
) {
  const plans = plan(await order.authorizations(signal), solvers);
  const live = signal ?? new AbortController().signal;
  // One proof at a time for solvers that hold one per name, before the others are published. Their
  // cleanup is solveAlone's, whatever happens; one never reached was never published.
  const oneByOne = plans.filter((p) => p.solver.sequential);
  try {
    for (const [i, p] of oneByOne.entries()) {
      if (i > 0) await account.client.clock.sleep(p.solver.sequential!.intervalMs, live);
      await solveAlone(account, order, p, live, signal);
    }
    const together = plans.filter((p) => !p.solver.sequential);
    await forAll(together, (p) => p.solver.present(p.ctx, live));
    await forAll(together, async (p) => p.solver.wait?.(p.ctx, live));
    await forAll(together, (p) => p.ctx.challenge.respond(signal));
    const validated = plans.length > 0 ? plans.map((p) => p.ctx.identifier) : order.identifiers;
    await loggedWait(
      account.client.logger,
      { kind: 'validation', waitFor: namesOf(validated), fields: { order: order.url } },
      { start: 'waiting for the CA to validate', done: 'done waiting for the CA to validate' },
      () => order.waitWhile(['pending'], signal),
      () => account.client.clock.now(),
    );
    if (order.status !== 'ready' && order.status !== 'valid' && order.status !== 'processing') {
      throw await explainFailure(order, signal);
    }
  } catch (err) {
    // Leave nothing pending at the CA: pending authorizations count against its limits (RFC 8555 §7.5.2).
    // Look again first: one validated meanwhile stays valid, so the next attempt can reuse it.
    await Promise.allSettled(
      plans.map(async ({ ctx: { authorization } }) => {
        if (authorization.status !== 'pending') return;
        await authorization.refresh();
        if (authorization.status === 'pending') await authorization.deactivate();
      }),
    );
    throw err;
  } finally {
    const cleanupSignal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
    await Promise.all(
      plans
        .filter((p) => !oneByOne.includes(p))
        .map((p) =>
          p.solver.cleanup(p.ctx, cleanupSignal).catch((err: unknown) => {
            account.client.logger.warn(
              { identifier: p.ctx.identifier.value, type: p.solver.type, error: String(err) },
              'challenge cleanup failed',
            );
          }),
        ),
    );
  }
}

/**
 * One challenge on its own, for a solver that holds one proof per name: published, visible, answered,
 * validated by the CA (its authorization leaves "pending"), then removed before the next one.
 */
async function solveAlone(
  account: Account,
  order: Order,
  p: Plan,
  live: AbortSignal,
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    await p.solver.present(p.ctx, live);
    await p.solver.wait?.(p.ctx, live);
    await p.ctx.challenge.respond(signal);
    await loggedWait(
      account.client.logger,
      {
        kind: 'validation',
        waitFor: p.ctx.identifier.value,
        fields: { authorization: p.ctx.authorization.url },
      },
      { start: 'waiting for the CA to validate', done: 'done waiting for the CA to validate' },
      () => p.ctx.authorization.wait(signal),
      () => account.client.clock.now(),
    );
  } finally {
    await p.solver.cleanup(p.ctx, AbortSignal.timeout(CLEANUP_TIMEOUT_MS)).catch((err: unknown) => {
      account.client.logger.warn(
        { identifier: p.ctx.identifier.value, type: p.solver.type, error: String(err) },
        'challenge cleanup failed',
      );
    });
  }
  // The order says why, as for challenges answered together (the challenge's error, per identifier).
  if (p.ctx.authorization.status !== 'valid') throw await explainFailure(await order.refresh(signal), signal);
}

/** The earlier order, when it can still lead to a certificate for exactly these identifiers. */
async function resumeOrder(
  account: Account,
  url: string,
  identifiers: readonly Identifier[],
  signal: AbortSignal | undefined,
): Promise<Order | undefined> {
  try {
    const order = await account.order(url, signal);
    const usable = ['pending', 'ready', 'processing', 'valid'].includes(order.status);
    const expired =
      order.state.expires !== undefined && Date.parse(order.state.expires) <= account.client.clock.now();
    if (usable && !expired && identifiersEqual(order.identifiers, [...identifiers])) {
      account.client.logger.info({ order: url, status: order.status }, 'resuming an earlier order');
      return order;
    }
  } catch (err) {
    account.client.logger.info(
      { order: url, error: String(err) },
      'earlier order is gone; starting a new one',
    );
  }
  return undefined;
}

/**
 * The whole flow for one certificate as `account`: order (or resume one), solve every challenge,
 * finalize, download, cleaning up every challenge whatever happens. See ObtainOptions.
 */
export async function obtainCertificate(account: Account, opts: ObtainOptions): Promise<ObtainResult> {
  if (opts.timeoutMs === undefined) return obtainWithin(account, opts, opts.signal);
  // A ref'd timer, unlike AbortSignal.timeout: a stuck flow must not let the process exit silently.
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new DOMException(`obtain ran past ${opts.timeoutMs} ms`, 'TimeoutError')),
    opts.timeoutMs,
  );
  try {
    return await obtainWithin(account, opts, anySignal(opts.signal, deadline.signal));
  } finally {
    clearTimeout(timer);
  }
}

async function obtainWithin(
  account: Account,
  opts: ObtainOptions,
  signal: AbortSignal | undefined,
): Promise<ObtainResult> {
  const { identifiers, csr } = await prepare(account, opts);
  // Start loading the CSR code now; it is needed at finalize, after several round trips. It is built
  // with der.ts, so no ASN.1 library is loaded on this path (a user's own CSR was read in prepare()).
  const csrModule = import('../crypto/csr.ts');
  csrModule.catch(() => {});
  const keyPromise = csr
    ? undefined
    : typeof opts.key === 'object'
      ? Promise.resolve(opts.key)
      : generateKeyType(opts.key ?? 'ec256');
  keyPromise?.catch(() => {});
  // Built as soon as the key exists, so its CPU time fills the waits for the CA (order, validation)
  // instead of coming after them; awaited at finalize.
  const csrDerPromise = csr
    ? Promise.resolve(csr.der)
    : Promise.all([keyPromise, csrModule]).then(([key, { buildCsr }]) =>
        buildCsr({
          key: key!,
          identifiers,
          mustStaple: opts.mustStaple === true,
          ...(opts.commonName === false ? { commonName: false } : {}),
        }),
      );
  csrDerPromise.catch(() => {});

  const resumed = opts.resumeOrderUrl
    ? await resumeOrder(account, opts.resumeOrderUrl, identifiers, signal)
    : undefined;
  const order =
    resumed ??
    (await account.newOrder({
      identifiers,
      ...(opts.notBefore ? { notBefore: opts.notBefore } : {}),
      ...(opts.notAfter ? { notAfter: opts.notAfter } : {}),
      ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
      ...(opts.replaces !== undefined ? { replaces: opts.replaces } : {}),
      ...(signal ? { signal } : {}),
    }));
  if (!resumed) await opts.onOrderCreated?.(order.url);
  account.client.logger.info({ order: order.url, status: order.status }, 'order created');
  if (order.status === 'pending') await solve(account, order, signal, opts.solvers);
  if (order.status === 'invalid') throw await explainFailure(order, signal);

  const key = await keyPromise;
  const csrDer = await csrDerPromise;
  if (order.status === 'ready') await order.finalize(csrDer, signal);
  if (order.status === 'processing') {
    await loggedWait(
      account.client.logger,
      { kind: 'issuance', waitFor: namesOf(identifiers), fields: { order: order.url } },
      { start: 'waiting for the CA to issue the certificate', done: 'done waiting for the CA to issue' },
      () => order.waitWhile(['processing'], signal),
      () => account.client.clock.now(),
    );
  }
  if (order.status !== 'valid') throw order.error ?? (await explainFailure(order, signal));

  const chain = await order.certificate({
    ...(opts.preferredChain ? { preferredChain: opts.preferredChain } : {}),
    key: csr ? csr.publicKey : key!,
    ...(signal ? { signal } : {}),
  });
  account.client.logger.info(
    { order: order.url, serial: chain.serial, notAfter: chain.notAfter },
    'certificate issued',
  );
  return {
    chain: chain.pem,
    certificate: chain.certificate,
    issuer: chain.issuer,
    privateKey: key ? new PrivateKeyPem(key) : undefined,
    alternates: chain.alternates,
    identifiers,
    notBefore: chain.notBefore,
    notAfter: chain.notAfter,
    serial: chain.serial,
    orderUrl: order.url,
    certificateUrl: order.state.certificate ?? '',
  };
}
