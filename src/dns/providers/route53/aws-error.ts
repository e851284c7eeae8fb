import { childrenNamed, parseXml, textAt, type XmlElement } from './xml.ts';

/** What an AWS XML error answer says; `messages` carries Route 53's InvalidChangeBatch list. */
export interface AwsErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly messages: readonly string[];
}

/**
 * Reads `<ErrorResponse><Error><Code>…` (Route 53, STS) or Route 53's `<InvalidChangeBatch><Messages>…`.
 * Anything else (an HTML page from a proxy, an empty body) gives undefined: the caller then reports the
 * HTTP status only, never the body.
 */
export function parseAwsError(body: Buffer | string): AwsErrorInfo | undefined {
  let root: XmlElement;
  try {
    root = parseXml(body.toString());
  } catch {
    return undefined;
  }
  if (root.name === 'InvalidChangeBatch') {
    const messages = childrenNamed(
      root.children.find((c) => c.name === 'Messages'),
      'Message',
    ).map((m) => m.text.trim());
    const message = textAt(root, 'Message') ?? messages.join('; ');
    return { code: 'InvalidChangeBatch', message: tidy(message), messages: messages.map(tidy) };
  }
  const error = root.name === 'Error' ? root : root.children.find((c) => c.name === 'Error');
  const code = textAt(error, 'Code');
  if (!error || !code) return undefined;
  return { code, message: tidy(textAt(error, 'Message') ?? ''), messages: [] };
}

/** One line, bounded: a server message goes into an error text. */
function tidy(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 400 ? `${line.slice(0, 400)}…` : line;
}

/** Codes AWS documents as "slow down and retry". */
export const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'PriorRequestNotComplete',
  'RequestLimitExceeded',
  'SlowDown',
]);

export function isRetryableAnswer(status: number, code: string | undefined): boolean {
  if (status >= 500 || status === 429) return true;
  return code !== undefined && THROTTLING_CODES.has(code);
}
