import { readFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCa } from '../test-ca.ts';

/** One request as a fake API saw it, with the status it answered. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query exactly as sent (for signatures computed over the URL). */
  readonly url: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Status sent back; set once the answer is chosen. */
  status: number;
}

/** An answer: a JSON value (objects, arrays) or a ready string, with headers. */
export interface FakeReply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  readonly text?: string;
}

export type FakeHandler = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface FakeHttpsServer {
  /** https://127.0.0.1:<port> (no trailing slash). */
  readonly origin: string;
  /** Every request so far, in arrival order. */
  readonly requests: RecordedRequest[];
  /**
   * Answers the next `times` requests (those `match` accepts, when given) with `reply` instead of the
   * handler: rate limits, outages, races.
   */
  failNext(reply: FakeReply, times?: number, match?: (req: RecordedRequest) => boolean): void;
  close(): Promise<void>;
}

/**
 * An HTTPS server on 127.0.0.1 with a certificate from the test CA, for fakes of cloud DNS APIs: it
 * records each request, lets a test inject failures, and hands everything else to the fake's handler.
 * Port 0 lets the kernel pick a free port, so there is no race with other tests.
 */
export async function startFakeHttpsServer(ca: TestCa, handler: FakeHandler): Promise<FakeHttpsServer> {
  const [cert, key] = await Promise.all([readFile(ca.certPath), readFile(ca.keyPath)]);
  const requests: RecordedRequest[] = [];
  const faults: { reply: FakeReply; match: ((req: RecordedRequest) => boolean) | undefined }[] = [];

  const server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://fake.invalid');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        status: 0,
      };
      requests.push(recorded);
      const i = faults.findIndex((f) => f.match === undefined || f.match(recorded));
      const fault = i >= 0 ? faults.splice(i, 1)[0]!.reply : undefined;
      Promise.resolve(fault ?? handler(recorded))
        .catch((err: unknown): FakeReply => ({ status: 500, text: `fake failed: ${String(err)}` }))
        .then((reply) => {
          recorded.status = reply.status;
          const body =
            reply.text ??
            (reply.json === undefined || reply.status === 204 ? '' : JSON.stringify(reply.json));
          const type = reply.text !== undefined ? 'text/plain; charset=utf-8' : 'application/json';
          res.writeHead(reply.status, { 'content-type': type, ...reply.headers });
          res.end(body);
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    origin: `https://127.0.0.1:${port}`,
    requests,
    failNext(reply, times = 1, match) {
      for (let i = 0; i < times; i++) faults.push({ reply, match });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The JSON body of a request, or undefined when it is not JSON. */
export function jsonBody(req: RecordedRequest): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(req.body);
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** "_acme-challenge.Example.com." and "_acme-challenge.example.com" are one key. */
export function nameKey(fqdn: string): string {
  return fqdn.toLowerCase().replace(/\.$/, '');
}
