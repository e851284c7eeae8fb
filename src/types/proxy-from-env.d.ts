// proxy-from-env ships no types; this is the one function acmekit calls.
declare module 'proxy-from-env' {
  /** The proxy URL for a request URL from *_PROXY / NO_PROXY, or '' for a direct connection. */
  export function getProxyForUrl(url: string | URL): string;
}
