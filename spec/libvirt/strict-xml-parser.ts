/**
 * A small, strict XML 1.0 reader for the specs: elements, double- or single-quoted attributes,
 * character data, the five predefined entities and character references. Anything else (a bare
 * `&`, `<` in an attribute, an unknown entity, a character outside XML's `Char`, a comment, a
 * CDATA section, a declaration, mismatched tags) throws, and values are normalised the way every
 * conforming parser (libvirt's libxml2 included) normalises them: line ends become `\n`, and a
 * literal tab, newline or carriage return in an attribute becomes a space.
 *
 * xmlbuilder2's own reader is not used for this: it accepts a bare `&` and decodes `&amp;#38;`
 * twice (to `&` instead of `&#38;`), which is exactly what these specs must catch.
 *
 * @module
 */

/** A parsed element. */
export interface XmlElement {
  name: string;
  /** Attributes in document order. */
  attributes: Array<[string, string]>;
  children: XmlElement[];
  /** The character data directly inside the element, concatenated. */
  text: string;
}

const NAME = /[A-Za-z_:][-A-Za-z0-9._:]*/y;
const WHITESPACE = /[ \t\n]*/y;
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Parses a document made of one element.
 *
 * @param xml - The document.
 * @returns The root element.
 * @throws SyntaxError at the first thing a conforming parser would refuse.
 */
export function parseStrictXml(xml: string): XmlElement {
  const bad = NOT_XML_CHAR.exec(xml);
  if (bad !== null) {
    throw new SyntaxError(`Character outside XML 1.0 at ${bad.index}`);
  }
  const reader = new Reader(xml.replace(/\r\n?/g, '\n'));
  const root = reader.element();
  reader.skipWhitespace();
  if (!reader.atEnd()) {
    throw new SyntaxError(`Content after the root element at ${reader.position}`);
  }
  return root;
}

class Reader {
  position = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  atEnd(): boolean {
    return this.position >= this.#text.length;
  }

  skipWhitespace(): boolean {
    WHITESPACE.lastIndex = this.position;
    WHITESPACE.exec(this.#text);
    const moved = WHITESPACE.lastIndex > this.position;
    this.position = WHITESPACE.lastIndex;
    return moved;
  }

  element(): XmlElement {
    this.#expect('<');
    const name = this.#name();
    const attributes: Array<[string, string]> = [];
    for (;;) {
      const spaced = this.skipWhitespace();
      if (this.#eat('/>')) {
        return { name, attributes, children: [], text: '' };
      }
      if (this.#eat('>')) {
        break;
      }
      if (!spaced) {
        throw new SyntaxError(`Expected whitespace before an attribute at ${this.position}`);
      }
      const attributeName = this.#name();
      if (attributes.some(([existing]) => existing === attributeName)) {
        throw new SyntaxError(`Duplicate attribute ${attributeName}`);
      }
      this.skipWhitespace();
      this.#expect('=');
      this.skipWhitespace();
      attributes.push([attributeName, this.#attributeValue()]);
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      const char = this.#peek();
      if (char === undefined) {
        throw new SyntaxError(`Unclosed element ${name}`);
      }
      if (this.#eat('</')) {
        const closing = this.#name();
        if (closing !== name) {
          throw new SyntaxError(`Expected </${name}>, got </${closing}> at ${this.position}`);
        }
        this.skipWhitespace();
        this.#expect('>');
        return { name, attributes, children, text };
      }
      if (char === '<') {
        if (this.#text.startsWith('<!', this.position) || this.#text.startsWith('<?', this.position)) {
          throw new SyntaxError(`Unsupported markup at ${this.position}`);
        }
        children.push(this.element());
      } else if (char === '&') {
        text += this.#reference();
      } else {
        if (this.#text.startsWith(']]>', this.position)) {
          throw new SyntaxError(`]]> in content at ${this.position}`);
        }
        text += char;
        this.position += 1;
      }
    }
  }

  #attributeValue(): string {
    const quote = this.#peek();
    if (quote !== '"' && quote !== "'") {
      throw new SyntaxError(`Expected a quoted attribute value at ${this.position}`);
    }
    this.position += 1;
    let value = '';
    for (;;) {
      const char = this.#peek();
      if (char === undefined) {
        throw new SyntaxError('Unterminated attribute value');
      }
      this.position += 1;
      if (char === quote) {
        return value;
      }
      if (char === '<') {
        throw new SyntaxError(`< in an attribute value at ${this.position - 1}`);
      }
      if (char === '&') {
        this.position -= 1;
        value += this.#reference();
      } else {
        value += char === '\t' || char === '\n' ? ' ' : char;
      }
    }
  }

  #reference(): string {
    const match = /&(?:([A-Za-z]+)|#([0-9]+)|#x([0-9A-Fa-f]+));/y;
    match.lastIndex = this.position;
    const found = match.exec(this.#text);
    if (found === null) {
      throw new SyntaxError(`Bare & at ${this.position}`);
    }
    this.position = match.lastIndex;
    const [, entity, decimal, hex] = found;
    if (entity !== undefined) {
      const replacement = PREDEFINED[entity];
      if (replacement === undefined) {
        throw new SyntaxError(`Undefined entity &${entity};`);
      }
      return replacement;
    }
    const codePoint = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hex ?? '', 16);
    const char = codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : '\u0000';
    if (NOT_XML_CHAR.test(char)) {
      throw new SyntaxError(`Reference to a character outside XML 1.0: ${found[0]}`);
    }
    return char;
  }

  #name(): string {
    NAME.lastIndex = this.position;
    const found = NAME.exec(this.#text);
    if (found === null) {
      throw new SyntaxError(`Expected a name at ${this.position}`);
    }
    this.position = NAME.lastIndex;
    return found[0];
  }

  #peek(): string | undefined {
    return this.#text[this.position];
  }

  #eat(literal: string): boolean {
    if (this.#text.startsWith(literal, this.position)) {
      this.position += literal.length;
      return true;
    }
    return false;
  }

  #expect(literal: string): void {
    if (!this.#eat(literal)) {
      throw new SyntaxError(`Expected ${literal} at ${this.position}`);
    }
  }
}
