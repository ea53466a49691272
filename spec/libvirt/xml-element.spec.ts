import { createRequire } from 'node:module';
import { expect } from 'chai';
import fc from 'fast-check';
import { escapeXml, XmlElement } from '../../lib/libvirt/xml-element.js';
import { parseStrictXml, type XmlElement as ParsedElement } from './strict-xml-parser.js';

/** xmlbuilder2 (a dev dependency now), the writer the library used before: the reference for byte equality. */
const { create } = createRequire(import.meta.url)('xmlbuilder2') as typeof import('xmlbuilder2');
type Builder = ReturnType<typeof create>;

/** A tree to write both ways. */
interface Tree {
  name: string;
  attributes: Array<[string, string]>;
  text: string | undefined;
  children: Tree[];
}

/** The old format-disk-xml.ts: every `&`, and tab, newline, carriage return pre-escaped for xmlbuilder2 4.x. */
function withXmlbuilder2(tree: Tree): string {
  const build = (parent: Builder, node: Tree): void => {
    const element = parent.ele(node.name);
    for (const [name, value] of node.attributes) element.att(name, value.replace(/[&\t\n\r]/g, (char) => ({ '&': '&amp;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' })[char] ?? char));
    if (node.text !== undefined) element.txt(node.text.replace(/[&\r]/g, (char) => ({ '&': '&amp;', '\r': '&#13;' })[char] ?? char));
    for (const child of node.children) build(element, child);
  };
  const document = create();
  build(document, tree);
  return document.end({ headless: true, prettyPrint: true, indent: '  ', newline: '\n' });
}

function withXmlElement(tree: Tree): string {
  const build = (element: XmlElement, node: Tree): void => {
    for (const [name, value] of node.attributes) element.att(name, value, name);
    if (node.text !== undefined) element.txt(node.text, node.name);
    for (const child of node.children) build(element.ele(child.name), child);
  };
  const root = new XmlElement(tree.name);
  build(root, tree);
  return root.toString();
}

/** Strings of XML characters, the markup and whitespace ones and entity-shaped runs over-represented. */
const xmlString = fc.array(
  fc.oneof(
    fc.constantFrom('&', '<', '>', '"', "'", '\t', '\n', '\r', ' ', ']]>', '&amp;', '&#38;', '&foo;', 'ü', '€', '😀'),
    fc.string({ unit: 'grapheme', maxLength: 4 }),
  ),
  { maxLength: 8 },
).map((parts) => parts.join(''));
const name = fc.constantFrom('disk', 'driver', 'source', 'serial', 'iotune', 'backingStore', 'a');
const attributes = fc.uniqueArray(fc.tuple(fc.constantFrom('type', 'device', 'file', 'dev', 'bus', 'name'), xmlString), { maxLength: 4, selector: ([key]) => key });
const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small' },
    // Text elements have no children, as in the disk XML (a <serial>, an <iotune> key).
    fc.record({ name, attributes, text: fc.oneof(xmlString.filter((text) => text !== ''), fc.constant(undefined)), children: fc.constant<Tree[]>([]) }),
    fc.record({ name, attributes, text: fc.constant(undefined), children: fc.array(tie('tree'), { maxLength: 3 }) }),
  ),
}));

function parsedOf(node: Tree): ParsedElement {
  return node.text === undefined
    ? { name: node.name, attributes: node.attributes, children: node.children.map(parsedOf), text: '' }
    : { name: node.name, attributes: node.attributes, children: [], text: node.text };
}

/** The parsed tree without the indentation between child elements (which must be whitespace only). */
function withoutIndentation(element: ParsedElement): ParsedElement {
  if (element.children.length === 0) return element;
  expect(element.text).to.match(/^[ \n]*$/);
  return { ...element, children: element.children.map(withoutIndentation), text: '' };
}

describe('XmlElement', () => {
  it('writes the same bytes as xmlbuilder2 with the old pre-escaping, for any tree of XML characters', () => {
    fc.assert(fc.property(tree, (input) => withXmlElement(input) === withXmlbuilder2(input)), { numRuns: 500 });
  });

  it('writes what a strict parser reads back exactly', () => {
    fc.assert(fc.property(tree, (input) => {
      expect(withoutIndentation(parseStrictXml(withXmlElement(input)))).to.deep.equal(parsedOf(input));
    }), { numRuns: 300 });
  });

  it('indents children by two spaces, closes empty elements, and writes text inline', () => {
    const disk = new XmlElement('disk').att('type', 'file', 'type');
    disk.ele('driver').att('name', 'qemu', 'n').att('io', undefined, 'io');
    disk.ele('iotune').ele('total_iops_sec').txt('5', 't');
    disk.ele('readonly');
    expect(disk.toString()).to.equal([
      '<disk type="file">',
      '  <driver name="qemu"/>',
      '  <iotune>',
      '    <total_iops_sec>5</total_iops_sec>',
      '  </iotune>',
      '  <readonly/>',
      '</disk>',
    ].join('\n'));
  });

  it('escapes every &, < > " and the whitespace controls in an attribute, and & < > CR in text', () => {
    expect(escapeXml(`&amp;<a b="c">'\t\n\r`, 'attribute', 'f')).to.equal(`&amp;amp;&lt;a b=&quot;c&quot;&gt;'&#9;&#10;&#13;`);
    expect(escapeXml(`&amp;<a b="c">]]>'\t\n\r`, 'text', 'f')).to.equal(`&amp;amp;&lt;a b="c"&gt;]]&gt;'\t\n&#13;`);
  });

  for (const [label, bad, at] of [['NUL', 'a\u0000', 1], ['ESC', '\u001B', 0], ['U+FFFF', 'ab\uFFFF', 2], ['a lone low surrogate', '\uDC00', 0]] as const) {
    it(`refuses ${label} with a TypeError naming the field and the index, when it is set`, () => {
      expect(() => new XmlElement('a').att('b', bad, 'sourcePath')).to.throw(TypeError, new RegExp(`^Expected sourcePath to hold only characters allowed in XML 1\\.0, got U\\+[0-9A-F]{4} at index ${at}$`));
      expect(() => new XmlElement('a').txt(bad, 'serial')).to.throw(TypeError, /Expected serial/);
    });
  }
});
