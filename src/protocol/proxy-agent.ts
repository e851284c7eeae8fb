import type { Agent } from 'node:http';

const PROXY_VARS = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'];

/** True when the environment names a proxy; checked synchronously so the common case loads nothing. */
export function proxyConfiguredInEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return PROXY_VARS.some((name) => (env[name] ?? '') !== '');
}

/**
 * The proxy for a URL: an explicit one wins; otherwise *_PROXY and NO_PROXY decide (proxy-from-env,
 * loaded only when a proxy variable is set). Returns '' for a direct connection.
 */
export async function proxyFor(url: URL, explicit: string | false | undefined): Promise<string> {
  if (explicit === false) return '';
  if (explicit) return explicit;
  if (!proxyConfiguredInEnv()) return '';
  const { getProxyForUrl } = await import('proxy-from-env');
  return getProxyForUrl(url.href);
}

/** A CONNECT-tunnelling agent to the proxy; TLS to the CA inside the tunnel is still verified with `ca`. */
export async function createProxyAgent(proxyUrl: string, ca: string[] | undefined): Promise<Agent> {
  const { HttpsProxyAgent } = await import('https-proxy-agent');
  // rejectUnauthorized explicit: an https:// proxy is verified too, whatever NODE_TLS_REJECT_UNAUTHORIZED says.
  return new HttpsProxyAgent(proxyUrl, { keepAlive: true, rejectUnauthorized: true, ...(ca ? { ca } : {}) });
}
