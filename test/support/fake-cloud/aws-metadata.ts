import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeAwsKey } from './aws-sigv4-check.ts';

export interface MetadataCall {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/**
 * EC2 instance metadata (IMDSv2 only: a PUT for a session token, then GETs carrying it) and a container
 * credentials endpoint (ECS / EKS Pod Identity, at /container/creds), over plain HTTP on 127.0.0.1 as
 * the real ones are on link-local addresses. Credentials come from `issue`, so the fake Route 53 accepts them.
 */
export class FakeAwsMetadata {
  readonly url: string;
  readonly calls: MetadataCall[] = [];
  /** The instance's role; undefined = no role attached (the credentials listing answers 404). */
  role: string | undefined = 'acmekit-test-role';
  /** Authorization value the container endpoint requires; undefined = none. */
  containerToken: string | undefined;
  readonly #server: Server;
  readonly #issue: () => Required<FakeAwsKey>;
  readonly #tokens = new Set<string>();

  private constructor(server: Server, issue: () => Required<FakeAwsKey>) {
    this.#server = server;
    this.#issue = issue;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(issue: () => Required<FakeAwsKey>): Promise<FakeAwsMetadata> {
    let fake: FakeAwsMetadata | undefined;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => fake!.#handle(req, res));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    fake = new FakeAwsMetadata(server, issue);
    return fake;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? '';
    const reply = (status: number, body: string, type = 'text/plain'): void => {
      this.calls.push({ method, path, status });
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const creds = (): string => {
      const key = this.#issue();
      return JSON.stringify({
        Code: 'Success',
        LastUpdated: new Date().toISOString(),
        Type: 'AWS-HMAC',
        AccessKeyId: key.accessKeyId,
        SecretAccessKey: key.secretAccessKey,
        Token: key.sessionToken,
        Expiration: new Date(key.expiresAt).toISOString(),
        RoleArn: 'arn:aws:iam::123456789012:role/acmekit-test-role',
      });
    };

    if (path === '/container/creds' && method === 'GET') {
      if (this.containerToken !== undefined && req.headers.authorization !== this.containerToken) {
        reply(401, 'unauthorized');
        return;
      }
      reply(200, creds(), 'application/json');
      return;
    }
    if (path === '/latest/api/token') {
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (method !== 'PUT') reply(405, 'method not allowed');
      else if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) reply(400, 'missing or invalid ttl');
      else {
        const token = randomBytes(24).toString('base64');
        this.#tokens.add(token);
        reply(200, token);
      }
      return;
    }
    const prefix = '/latest/meta-data/iam/security-credentials/';
    if (method === 'GET' && path.startsWith(prefix)) {
      const token = req.headers['x-aws-ec2-metadata-token'];
      if (typeof token !== 'string' || !this.#tokens.has(token)) {
        reply(401, 'unauthorized');
        return;
      }
      const rest = decodeURIComponent(path.slice(prefix.length));
      if (this.role === undefined || (rest !== '' && rest !== this.role)) reply(404, 'not found');
      else if (rest === '') reply(200, this.role);
      else reply(200, creds(), 'text/plain');
      return;
    }
    reply(404, 'not found');
  }
}
