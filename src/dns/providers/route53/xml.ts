/**
 * Just enough XML for the small documents Route 53 and STS answer with: elements, text, CDATA,
 * the five predefined entities and numeric character references. Namespaces are dropped (the local
 * name is kept); a DOCTYPE is refused, so no entity of the server's own can be expanded.
 */
export interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  /** Text directly inside this element (not its children's), entities decoded. */
  text: string;
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return safeCodePoint(Number.parseInt(ref.slice(2), 16)) ?? whole;
    if (ref.startsWith('#')) return safeCodePoint(Number.parseInt(ref.slice(1), 10)) ?? whole;
    return PREDEFINED[ref] ?? whole;
  });
}

function safeCodePoint(n: number): string | undefined {
  return Number.isInteger(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined;
}

const localName = (qname: string): string => qname.slice(qname.indexOf(':') + 1);

/** Parses a document and returns its root element; throws a plain Error on malformed input. */
export function parseXml(source: string): XmlElement {
  const root: XmlElement = { name: '#document', children: [], text: '' };
  const stack: XmlElement[] = [root];
  let i = 0;
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const top = stack[stack.length - 1]!;
    if (lt === -1) {
      top.text += decodeEntities(source.slice(i));
      break;
    }
    if (lt > i) top.text += decodeEntities(source.slice(i, lt));
    if (source.startsWith('<?', lt)) {
      i = endOf(source, '?>', lt);
    } else if (source.startsWith('<!--', lt)) {
      i = endOf(source, '-->', lt);
    } else if (source.startsWith('<![CDATA[', lt)) {
      const end = endOf(source, ']]>', lt);
      top.text += source.slice(lt + 9, end - 3);
      i = end;
    } else if (source.startsWith('<!', lt)) {
      throw new Error('XML with a DOCTYPE or declaration is not accepted');
    } else if (source.startsWith('</', lt)) {
      const end = endOf(source, '>', lt);
      const name = localName(source.slice(lt + 2, end - 1).trim());
      const open = stack.pop();
      if (!open || open === root || open.name !== name) throw new Error(`XML: unexpected </${name}>`);
      i = end;
    } else {
      const end = endOfTag(source, lt);
      const inner = source.slice(lt + 1, end - 1);
      const selfClosing = inner.endsWith('/');
      const name = localName((/^[^\s/>]+/.exec(inner) ?? [''])[0]);
      if (name === '') throw new Error('XML: empty tag name');
      const el: XmlElement = { name, children: [], text: '' };
      top.children.push(el);
      if (!selfClosing) stack.push(el);
      i = end;
    }
  }
  if (stack.length !== 1) throw new Error(`XML: <${stack[stack.length - 1]!.name}> is not closed`);
  const first = root.children[0];
  if (!first) throw new Error('XML: no root element');
  return first;
}

function endOf(source: string, marker: string, from: number): number {
  const at = source.indexOf(marker, from);
  if (at === -1) throw new Error(`XML: missing ${marker}`);
  return at + marker.length;
}

/** The index just past the '>' closing a start tag, skipping '>' inside quoted attribute values. */
function endOfTag(source: string, from: number): number {
  let quote = '';
  for (let j = from + 1; j < source.length; j++) {
    const c = source[j]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return j + 1;
  }
  throw new Error('XML: unterminated tag');
}

export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

export function childrenNamed(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

/** Follows a path of child names ("ChangeInfo/Status") and returns the trimmed text, if there. */
export function textAt(el: XmlElement | undefined, path: string): string | undefined {
  let at = el;
  for (const name of path.split('/')) at = child(at, name);
  return at?.text.trim();
}

/** Escapes text for an element's content or an attribute value. */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`,
  );
}
