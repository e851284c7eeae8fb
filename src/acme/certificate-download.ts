import type { KeyObject } from 'node:crypto';
import type { Identifier } from '../crypto/identifier.ts';
import { BadServerResponseError } from '../errors/base.ts';
import type { AccountSession } from './session.ts';

/** A downloaded certificate: the chosen chain plus every alternate the CA offered, as PEM. */
export interface CertificateChain {
  /** Leaf first, then intermediates, PEM. */
  readonly pem: string;
  /** The leaf alone, PEM. */
  readonly certificate: string;
  /** The intermediates alone, PEM (lego's .issuer.crt). */
  readonly issuer: string;
  /** Other chains the CA offered, PEM each. */
  readonly alternates: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serial: string;
  /** Issuer common name of the top certificate in the chosen chain. */
  readonly topIssuer: string | undefined;
}

const PEM_CHAIN_TYPE = 'application/pem-certificate-chain';

async function fetchChain(account: AccountSession, url: string, signal?: AbortSignal) {
  const res = await account.request(url, undefined, signal, { accept: PEM_CHAIN_TYPE });
  const type = String(res.headers['content-type'] ?? '');
  if (type && !type.toLowerCase().startsWith(PEM_CHAIN_TYPE)) {
    throw new BadServerResponseError(`certificate download returned ${type}, expected ${PEM_CHAIN_TYPE}`, {
      url,
    });
  }
  return { pem: res.body.toString('utf8'), alternates: res.links.alternate ?? [] };
}

/** Downloads, parses and checks the chain(s) of a valid order (RFC 8555 §7.4.2). */
export async function downloadChains(
  account: AccountSession,
  url: string,
  opts: { identifiers: Identifier[]; preferredChain?: string; key?: KeyObject; signal?: AbortSignal },
): Promise<CertificateChain> {
  const { parseCertificateChain, verifyChainMatches, chainIssuerNames } = await import(
    '../crypto/certificate.ts'
  );
  const main = await fetchChain(account, url, opts.signal);
  const parsed = [await parseCertificateChain(main.pem)];
  // The certificate is issued and the main chain is enough: an alternate that cannot be fetched or
  // parsed (a URL outside TLS, a broken body) is left out with a warning, not a failed issuance.
  for (const alt of main.alternates) {
    try {
      parsed.push(await parseCertificateChain((await fetchChain(account, alt, opts.signal)).pem));
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      account.client.logger.warn(
        { url: alt, error: (err as Error).message },
        'alternate chain left out: it could not be downloaded or parsed',
      );
    }
  }
  let chosen = 0;
  if (opts.preferredChain) {
    const want = opts.preferredChain.toLowerCase();
    const match = parsed.findIndex((c) => chainIssuerNames(c).some((n) => n.toLowerCase() === want));
    if (match >= 0) chosen = match;
  }
  const chain = parsed[chosen]!;
  verifyChainMatches({
    chain,
    ...(opts.key ? (opts.key.type === 'private' ? { privateKey: opts.key } : { publicKey: opts.key }) : {}),
    identifiers: opts.identifiers,
    now: account.client.clock.now(),
  });
  const leaf = chain[0]!;
  return {
    pem: chain.map((c) => c.pem).join(''),
    certificate: leaf.pem,
    issuer: chain
      .slice(1)
      .map((c) => c.pem)
      .join(''),
    alternates: parsed.filter((_, i) => i !== chosen).map((c) => c.map((x) => x.pem).join('')),
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    serial: leaf.serialHex,
    topIssuer: chain[chain.length - 1]?.issuerCommonName,
  };
}
