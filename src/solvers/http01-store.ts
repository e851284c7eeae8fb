import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from '../storage/store.ts';
import {
  httpChallengeKey,
  isWellFormedToken,
  SharedLookup,
  type SharedLookupOptions,
} from './shared-challenges.ts';
import type { ChallengeContext, Solver } from './solver.ts';

const PREFIX = '/.well-known/acme-challenge/';
// A Host header we are willing to put into a redirect: a DNS name or IPv4, optional port, or [IPv6].
const HOST_RE =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,62})?(?:\.[a-z0-9](?:[a-z0-9-]{0,62})?)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

export interface HttpChallengeOptions {
  /**
   * Share key authorizations through this store (a cluster): `present` writes them there, `cleanup`
   * deletes them, and a token not in memory is looked up in it, so any process behind the load
   * balancer answers the CA.
   */
  store?: Store;
  /** Bounds on those lookups: miss cache, lookups in flight. */
  lookup?: SharedLookupOptions;
}

/**
 * http-01 answered by the application's own HTTP server (RFC 8555 §8.3): `present` puts the key
 * authorization in memory (and in the shared store when given), the handler serves exactly those
 * tokens. A token it did not hand out is never reflected back (§8.3 warns about XSS through the token):
 * the answer always comes from memory or the store, and must be `<token>.<thumbprint>`.
 */
export class HttpChallengeSolver implements Solver {
  readonly type = 'http-01' as const;
  readonly #answers = new Map<string, string>();
  readonly #store: Store | undefined;
  readonly #shared: SharedLookup<string> | undefined;

  constructor(options: HttpChallengeOptions = {}) {
    this.#store = options.store;
    this.#shared = options.store
      ? new SharedLookup(options.store, decodeKeyAuthorization, options.lookup)
      : undefined;
  }

  async present(ctx: ChallengeContext, signal?: AbortSignal): Promise<void> {
    const { token, keyAuthorization } = ctx.challenge;
    this.#answers.set(token, keyAuthorization);
    this.#shared?.forget(token);
    // Before the CA is told to look: another process may be the one it reaches. A token other
    // processes would never look up stays in memory only.
    if (this.#store && isWellFormedToken(token)) {
      await this.#store.put(httpChallengeKey(token), keyAuthorization, signal ? { signal } : {});
    }
  }

  async cleanup(ctx: ChallengeContext, signal?: AbortSignal): Promise<void> {
    let token: string;
    try {
      token = ctx.challenge.token;
    } catch {
      return; // an unusable token was refused by present(): nothing was published
    }
    this.#answers.delete(token);
    if (this.#store && isWellFormedToken(token)) await this.#store.delete(httpChallengeKey(token), signal);
  }

  /** Store lookups made for tokens not in memory (status and tests). */
  get sharedLookups(): number {
    return this.#shared?.reads ?? 0;
  }

  /** How many tokens are published now (status and tests). */
  get pending(): number {
    return this.#answers.size;
  }

  /**
   * Answers the request when it is a challenge this process presented (memory only, synchronous);
   * returns false otherwise. `handler()` and `middleware()` also ask the shared store.
   */
  answer(req: IncomingMessage, res: ServerResponse): boolean {
    const token = challengeToken(req);
    const answer = token === undefined ? undefined : this.#answers.get(token);
    if (answer === undefined) return false;
    send(req, res, answer);
    return true;
  }

  /** The token to look up in the shared store: a well-formed one, when the store is shared at all. */
  #sharedToken(req: IncomingMessage): string | undefined {
    const token = this.#shared ? challengeToken(req) : undefined;
    return token !== undefined && isWellFormedToken(token) ? token : undefined;
  }

  /** A challenge another process presented, from the shared store; 'busy' when too many lookups are in flight. */
  async #answerShared(
    token: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<'answered' | 'missing' | 'busy'> {
    const result = await this.#shared!.lookup(token, httpChallengeKey(token));
    if ('busy' in result) return 'busy';
    if ('missing' in result) return 'missing';
    if (!res.writableEnded && !res.destroyed) send(req, res, result.found);
    return 'answered';
  }

  /**
   * For port 80: challenge answers, everything else redirected to https on the same host
   * (301 for GET/HEAD, 308 otherwise so the method and body survive). `httpsPort` other than 443
   * is written into the redirect.
   */
  handler(opts: { httpsPort?: number } = {}): RequestHandler {
    const port = opts.httpsPort && opts.httpsPort !== 443 ? `:${opts.httpsPort}` : '';
    const notFound = (res: ServerResponse): void => {
      if (!res.headersSent) res.writeHead(404, { 'content-type': 'text/plain' }).end('no such challenge\n');
    };
    return (req, res) => {
      if (this.answer(req, res)) return;
      const shared = this.#sharedToken(req);
      if (shared !== undefined) {
        void this.#answerShared(shared, req, res).then((outcome) => {
          if (outcome === 'missing') notFound(res);
          else if (outcome === 'busy' && !res.headersSent) {
            res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('busy\n');
          }
        });
        return;
      }
      if ((req.url ?? '').startsWith(PREFIX)) {
        notFound(res);
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
      if (this.answer(req, res)) return;
      const shared = this.#sharedToken(req);
      if (shared === undefined) return next();
      void this.#answerShared(shared, req, res).then((outcome) => {
        if (outcome !== 'answered') next();
      });
    };
  }
}

/** The token of a GET or HEAD for /.well-known/acme-challenge/<token> (query ignored); undefined otherwise. */
function challengeToken(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const path = (req.url ?? '').split('?')[0] ?? '';
  return path.startsWith(PREFIX) ? path.slice(PREFIX.length) : undefined;
}

function send(req: IncomingMessage, res: ServerResponse, answer: string): void {
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': Buffer.byteLength(answer),
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : answer);
}

// RFC 8555 §8.1: keyAuthorization = token || '.' || base64url(JWK thumbprint). Anything else in the
// store under this token is not served.
function decodeKeyAuthorization(bytes: Uint8Array, token: string): string | undefined {
  const text = Buffer.from(bytes).toString('utf8');
  const prefix = `${token}.`;
  return text.startsWith(prefix) && /^[A-Za-z0-9_-]{16,128}$/.test(text.slice(prefix.length))
    ? text
    : undefined;
}
