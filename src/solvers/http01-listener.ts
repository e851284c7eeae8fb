import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { close, listen, SharedListener } from './listener.ts';
import type { ChallengeContext, Solver } from './solver.ts';

export interface Http01ListenerOptions {
  /** Port the CA connects to; 80 in production. */
  port?: number;
  /** Address to bind; all addresses when absent. */
  host?: string;
}

const PREFIX = '/.well-known/acme-challenge/';

/**
 * http-01 with its own listener (RFC 8555 §8.3), like lego's --http. It answers exactly the tokens it
 * was given and 404 for everything else; it never reflects a token it did not hand out (§8.3 warns
 * of XSS). The listener opens on the first present and closes after the last cleanup.
 */
export class Http01ListenerSolver implements Solver {
  readonly type = 'http-01' as const;
  readonly port: number;
  readonly host: string | undefined;
  readonly #answers = new Map<string, string>();
  readonly #server = createServer(
    { maxHeaderSize: 8192, requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 2_000 },
    (req, res) => this.#handle(req, res),
  );
  readonly #listener: SharedListener;

  constructor(opts: Http01ListenerOptions = {}) {
    this.port = opts.port ?? 80;
    this.host = opts.host;
    this.#listener = new SharedListener(
      () => listen(this.#server, this.type, this.port, this.host),
      () => close(this.#server),
    );
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const token = path.startsWith(PREFIX) ? path.slice(PREFIX.length) : undefined;
    const answer = token === undefined ? undefined : this.#answers.get(token);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || answer === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': Buffer.byteLength(answer),
    });
    res.end(req.method === 'HEAD' ? undefined : answer);
  }

  async present(ctx: ChallengeContext, _signal?: AbortSignal): Promise<void> {
    this.#answers.set(ctx.challenge.token, ctx.challenge.keyAuthorization);
    await this.#listener.acquire().catch((err: unknown) => {
      this.#answers.delete(ctx.challenge.token);
      throw err;
    });
  }

  async cleanup(ctx: ChallengeContext, _signal?: AbortSignal): Promise<void> {
    let token: string;
    try {
      token = ctx.challenge.token;
    } catch {
      return; // an unusable token was never presented
    }
    if (!this.#answers.delete(token)) return;
    await this.#listener.release();
  }

  /** Whether the listener is open (for tests and status output). */
  get listening(): boolean {
    return this.#server.listening;
  }
}
