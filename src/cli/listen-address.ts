import { UsageError } from '../errors/usage.ts';

/** "[iface]:port" (lego v4 --http.port) or "host:port" (v5 --http.address) → listen host and port. */
export function parseAddress(value: string, flag: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port < 1 || port > 65535)
    throw new UsageError(`${flag} ${value}: expected [interface]:port, e.g. :80 or 127.0.0.1:5002`);
  const host = m[1] ?? m[2];
  return { host: host ? host : undefined, port };
}
