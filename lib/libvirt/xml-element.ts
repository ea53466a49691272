/**
 * A minimal XML element writer for the disk XML: elements, attributes in insertion order, a text
 * child, two-space indentation, no declaration. It replaces xmlbuilder2, whose import alone cost
 * about 100 ms of every `libvirt-volume config`; the disk XML needs nothing more than this, and
 * every value goes through one escaping rule for attributes and one for text.
 *
 * @module
 */

/** Characters outside XML 1.0's `Char` production; no escape can represent them. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * In an attribute: the markup characters, and tab, newline and carriage return as character
 * references, since a parser turns literal ones into spaces (attribute-value normalisation).
 */
const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };
const ATTRIBUTE_SPECIAL = /[&<>"\t\n\r]/g;
/** In text: the markup characters (`>` too, so `]]>` never appears), and a carriage return, which a parser turns into a newline. */
const TEXT_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
const TEXT_SPECIAL = /[&<>\r]/g;

/**
 * Escapes `value` for an attribute (`kind` `attribute`) or text, so that a conforming parser gives
 * back exactly `value`. Every `&` is escaped, entity-shaped or not.
 *
 * @param field - Named in the error.
 * @throws TypeError when `value` holds a character XML 1.0 cannot represent at all (NUL and the
 *   other C0 controls except tab, newline and carriage return, U+FFFE, U+FFFF, a lone surrogate).
 */
export function escapeXml(value: string, kind: 'attribute' | 'text', field: string): string {
  const bad = NOT_XML_CHAR.exec(value);
  if (bad !== null) {
    const codePoint = bad[0].codePointAt(0) ?? 0;
    throw new TypeError(
      `Expected ${field} to hold only characters allowed in XML 1.0, got U+${codePoint.toString(16).toUpperCase().padStart(4, '0')} at index ${bad.index}`,
    );
  }
  return kind === 'attribute'
    ? value.replace(ATTRIBUTE_SPECIAL, (char) => ATTRIBUTE_ESCAPES[char] ?? char)
    : value.replace(TEXT_SPECIAL, (char) => TEXT_ESCAPES[char] ?? char);
}

/**
 * One element. Names are the caller's constants (never input); attribute values and text are
 * escaped as they are set, so a value XML cannot hold throws where it is set, naming its field.
 */
export class XmlElement {
  readonly #name: string;
  readonly #attributes: string[] = [];
  readonly #children: XmlElement[] = [];
  #text: string | undefined;

  constructor(name: string) {
    this.#name = name;
  }

  /** Appends a child element and returns it. */
  ele(name: string): XmlElement {
    const child = new XmlElement(name);
    this.#children.push(child);
    return child;
  }

  /**
   * Sets an attribute (after those set before); `undefined` writes nothing.
   * @throws TypeError see {@link escapeXml}
   */
  att(name: string, value: string | undefined, field: string): this {
    if (value !== undefined) this.#attributes.push(` ${name}="${escapeXml(value, 'attribute', field)}"`);
    return this;
  }

  /**
   * Sets the element's text (an element has text or children, not both).
   * @throws TypeError see {@link escapeXml}
   */
  txt(value: string, field: string): this {
    this.#text = escapeXml(value, 'text', field);
    return this;
  }

  /** The element, indented by two spaces per level from `indent`, without a trailing newline. */
  toString(indent = ''): string {
    const open = `${indent}<${this.#name}${this.#attributes.join('')}`;
    if (this.#text !== undefined) return `${open}>${this.#text}</${this.#name}>`;
    if (this.#children.length === 0) return `${open}/>`;
    const inner = this.#children.map((child) => child.toString(`${indent}  `)).join('\n');
    return `${open}>\n${inner}\n${indent}</${this.#name}>`;
  }
}
