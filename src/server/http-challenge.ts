import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChallengeContext, Solver } from '../acme/solver.ts';

const PREFIX = '/.well-known/acme-challenge/';
// A Host header we are willing to put into a redirect: a DNS name or IPv4, optional port, or [IPv6].
const HOST_RE =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,62})?(?:\.[a-z0-9](?:[a-z0-9-]{0,62})?)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * http-01 answered by the application's own HTTP server (RFC 8555 §8.3): `present` puts the key
 * authorization in memory, the handler serves exactly those tokens. A token it did not hand out is
 * never reflected back (§8.3 warns about XSS through the token).
 */
export class HttpChallengeSolver implements Solver {
  readonly type = 'http-01' as const;
  readonly #answers = new Map<string, string>();

  async present(ctx: ChallengeContext): Promise<void> {
    this.#answers.set(ctx.challenge.token, ctx.challenge.keyAuthorization);
  }

  async cleanup(ctx: ChallengeContext): Promise<void> {
    try {
      this.#answers.delete(ctx.challenge.token);
    } catch {
      // an unusable token was never presented
    }
  }

  /** How many tokens are published now (status and tests). */
  get pending(): number {
    return this.#answers.size;
  }

  /** Answers the request when it is a pending challenge; returns false when it is not one of ours. */
  answer(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!path.startsWith(PREFIX)) return false;
    const answer = this.#answers.get(path.slice(PREFIX.length));
    if (answer === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': Buffer.byteLength(answer),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : answer);
    return true;
  }

  /**
   * For port 80: challenge answers, everything else redirected to https on the same host
   * (301 for GET/HEAD, 308 otherwise so the method and body survive). `httpsPort` other than 443
   * is written into the redirect.
   */
  handler(opts: { httpsPort?: number } = {}): RequestHandler {
    const port = opts.httpsPort && opts.httpsPort !== 443 ? `:${opts.httpsPort}` : '';
    return (req, res) => {
      if (this.answer(req, res)) return;
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (path.startsWith(PREFIX)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such challenge\n');
        return;
      }
      const host = req.headers.host;
      if (!host || !HOST_RE.test(host)) {
        res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end('bad Host header\n');
        return;
      }
      const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
      const target = `https://${hostname}${port}${req.url?.startsWith('/') ? req.url : '/'}`;
      const status = req.method === 'GET' || req.method === 'HEAD' ? 301 : 308;
      res.writeHead(status, { location: target, 'content-type': 'text/plain', connection: 'close' });
      res.end();
    };
  }

  /** For apps that own port 80 (express/connect style): challenge answers, everything else to `next()`. */
  middleware(): Middleware {
    return (req, res, next) => {
      if (!this.answer(req, res)) next();
    };
  }
}
