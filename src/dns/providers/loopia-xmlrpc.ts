// XML-RPC (https://xmlrpc.com/spec.md), as far as the Loopia API needs it: a methodCall of strings,
// integers and structs, and a methodResponse holding one value (string, int/i4, boolean, double, struct,
// array, nil) or a fault {faultCode, faultString}. The XML itself is read by the small parser the Route 53
// provider uses (no DOCTYPE, no external entities).
import { child, childrenNamed, escapeXml, parseXml, type XmlElement } from './route53/xml.ts';

export type XmlRpcValue = string | number | boolean | null | XmlRpcValue[] | { [name: string]: XmlRpcValue };

function encodeValue(v: XmlRpcValue): string {
  if (v === null) return '<value><nil/></value>';
  if (typeof v === 'string') return `<value><string>${escapeXml(v)}</string></value>`;
  if (typeof v === 'boolean') return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === 'number')
    return Number.isInteger(v) ? `<value><int>${v}</int></value>` : `<value><double>${v}</double></value>`;
  if (Array.isArray(v)) return `<value><array><data>${v.map(encodeValue).join('')}</data></array></value>`;
  const members = Object.entries(v)
    .map(([name, m]) => `<member><name>${escapeXml(name)}</name>${encodeValue(m)}</member>`)
    .join('');
  return `<value><struct>${members}</struct></value>`;
}

/** The body of a call. */
export function xmlRpcCall(method: string, params: readonly XmlRpcValue[]): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<methodCall><methodName>${escapeXml(method)}</methodName><params>` +
    params.map((p) => `<param>${encodeValue(p)}</param>`).join('') +
    '</params></methodCall>'
  );
}

function decodeValue(value: XmlElement): XmlRpcValue {
  const typed = value.children[0];
  // No type element: a string.
  if (!typed) return value.text;
  switch (typed.name) {
    case 'string':
      return typed.text;
    case 'int':
    case 'i4':
    case 'i8':
    case 'double': {
      const n = Number(typed.text.trim());
      if (Number.isNaN(n)) throw new Error(`XML-RPC: bad ${typed.name} ${typed.text}`);
      return n;
    }
    case 'boolean':
      return typed.text.trim() === '1';
    case 'nil':
      return null;
    case 'array':
      return childrenNamed(child(typed, 'data'), 'value').map(decodeValue);
    case 'struct': {
      const out: { [name: string]: XmlRpcValue } = {};
      for (const m of childrenNamed(typed, 'member')) {
        const v = child(m, 'value');
        const name = child(m, 'name')?.text;
        if (name !== undefined && v) out[name] = decodeValue(v);
      }
      return out;
    }
    default:
      // dateTime.iso8601, base64: kept as their text.
      return typed.text;
  }
}

export type XmlRpcResult =
  | { readonly value: XmlRpcValue }
  | { readonly fault: { readonly code: number; readonly message: string } };

/** Reads a methodResponse; throws a plain Error when it is not one. */
export function parseXmlRpcResponse(text: string): XmlRpcResult {
  const root = parseXml(text);
  if (root.name !== 'methodResponse') throw new Error('XML-RPC: not a methodResponse');
  const fault = child(child(root, 'fault'), 'value');
  if (fault) {
    const f = decodeValue(fault) as { faultCode?: unknown; faultString?: unknown };
    return { fault: { code: Number(f.faultCode), message: String(f.faultString ?? '') } };
  }
  const value = child(child(child(root, 'params'), 'param'), 'value');
  if (!value) throw new Error('XML-RPC: a methodResponse without a value');
  return { value: decodeValue(value) };
}
