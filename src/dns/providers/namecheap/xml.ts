/**
 * Enough XML for Namecheap's answers: elements with attributes, text, the five predefined entities and
 * numeric character references. Namespaces are dropped (the local name is kept); a DOCTYPE is refused,
 * so no entity of the server's own is ever expanded.
 */
export interface XmlNode {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlNode[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    const n = ref.startsWith('#x')
      ? Number.parseInt(ref.slice(2), 16)
      : ref.startsWith('#')
        ? Number.parseInt(ref.slice(1), 10)
        : undefined;
    if (n === undefined) return ENTITIES[ref] ?? whole;
    return Number.isInteger(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : whole;
  });
}

const local = (qname: string): string => qname.slice(qname.indexOf(':') + 1);

function attributesOf(inner: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of inner.matchAll(/([^\s=/]+)\s*=\s*("([^"]*)"|'([^']*)')/g))
    out[local(m[1]!)] = decode(m[3] ?? m[4] ?? '');
  return out;
}

/** The root element of a document; throws a plain Error on malformed input. */
export function parseXmlDocument(source: string): XmlNode {
  const root: XmlNode = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlNode[] = [root];
  let i = 0;
  const past = (marker: string, from: number): number => {
    const at = source.indexOf(marker, from);
    if (at === -1) throw new Error(`XML: missing ${marker}`);
    return at + marker.length;
  };
  while (i < source.length) {
    const top = stack[stack.length - 1]!;
    const lt = source.indexOf('<', i);
    if (lt === -1) {
      top.text += decode(source.slice(i));
      break;
    }
    if (lt > i) top.text += decode(source.slice(i, lt));
    if (source.startsWith('<?', lt)) i = past('?>', lt);
    else if (source.startsWith('<!--', lt)) i = past('-->', lt);
    else if (source.startsWith('<![CDATA[', lt)) {
      const end = past(']]>', lt);
      top.text += source.slice(lt + 9, end - 3);
      i = end;
    } else if (source.startsWith('<!', lt))
      throw new Error('XML with a DOCTYPE or declaration is not accepted');
    else if (source.startsWith('</', lt)) {
      const end = past('>', lt);
      const name = local(source.slice(lt + 2, end - 1).trim());
      const open = stack.pop();
      if (!open || open === root || open.name !== name) throw new Error(`XML: unexpected </${name}>`);
      i = end;
    } else {
      let end = -1;
      let quote = '';
      for (let j = lt + 1; j < source.length; j++) {
        const c = source[j]!;
        if (quote) {
          if (c === quote) quote = '';
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '>') {
          end = j + 1;
          break;
        }
      }
      if (end === -1) throw new Error('XML: unterminated tag');
      const inner = source.slice(lt + 1, end - 1);
      const tag = (/^[^\s/>]+/.exec(inner) ?? [''])[0];
      const name = local(tag);
      if (name === '') throw new Error('XML: empty tag name');
      const node: XmlNode = {
        name,
        attributes: attributesOf(inner.slice(tag.length)),
        children: [],
        text: '',
      };
      top.children.push(node);
      if (!inner.endsWith('/')) stack.push(node);
      i = end;
    }
  }
  if (stack.length !== 1) throw new Error(`XML: <${stack[stack.length - 1]!.name}> is not closed`);
  const first = root.children[0];
  if (!first) throw new Error('XML: no root element');
  return first;
}

/** The first descendant (depth first) with this local name. */
export function find(node: XmlNode | undefined, name: string): XmlNode | undefined {
  if (!node) return undefined;
  for (const c of node.children) {
    if (c.name === name) return c;
    const deeper = find(c, name);
    if (deeper) return deeper;
  }
  return undefined;
}

export function childrenNamed(node: XmlNode | undefined, name: string): XmlNode[] {
  return node ? node.children.filter((c) => c.name === name) : [];
}
