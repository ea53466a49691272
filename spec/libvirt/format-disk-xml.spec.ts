import { execFileSync, spawnSync } from 'node:child_process';
import { expect } from 'chai';
import type { ConnectionInfo } from '../../lib/drivers/connection-info.js';
import { buildGuestDiskConfig } from '../../lib/libvirt/build-guest-disk-config.js';
import { formatDiskXml } from '../../lib/libvirt/format-disk-xml.js';
import { IOTUNE_KEYS, type GuestDiskConfig, type GuestDiskIotune } from '../../lib/libvirt/guest-disk-config.js';
import { parseStrictXml, type XmlElement } from './strict-xml-parser.js';

const VOLUME_ID = '3f1b2d3c-1111-2222-3333-444455556666';
const SECRET_UUID = '2a0a0d6c-babf-454d-b93e-9ac9957b95e0';

/** nova-quobyte.md §4, first example. */
const NOVA_QCOW2_QOS_XML = [
  '<disk type="file" device="disk">',
  '  <driver name="qemu" type="qcow2" cache="none" discard="unmap" io="native"/>',
  '  <alias name="ua-3f1b2d3c-1111-2222-3333-444455556666"/>',
  '  <source file="/var/lib/nova/mnt/260de2c005587c2c7495904caf626eec/volume-3f1b2d3c-1111-2222-3333-444455556666"/>',
  '  <backingStore/>', // ours, on purpose: libvirt opens nothing the image names (OSSA-2024-001)
  '  <target dev="vdb" bus="virtio"/>',
  '  <serial>3f1b2d3c-1111-2222-3333-444455556666</serial>',
  '  <iotune>',
  '    <read_bytes_sec>1048576</read_bytes_sec>',
  '    <total_iops_sec>500</total_iops_sec>',
  '  </iotune>',
  '</disk>',
].join('\n');

/** nova-quobyte.md §4, second example. */
const NOVA_RO_MULTIATTACH_SCSI_LUKS_XML = [
  '<disk type="file" device="disk">',
  '  <driver name="qemu" type="raw" cache="none" io="native"/>',
  '  <alias name="ua-3f1b2d3c-1111-2222-3333-444455556666"/>',
  '  <source file="/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6/volume-00000001"/>',
  '  <backingStore/>', // ours, on purpose: libvirt opens nothing the image names (OSSA-2024-001)
  '  <target dev="sdb" bus="scsi"/>',
  '  <serial>3f1b2d3c-1111-2222-3333-444455556666</serial>',
  '  <readonly/>',
  '  <shareable/>',
  '  <address type="drive" controller="0" unit="1"/>',
  '  <encryption format="luks">',
  '    <secret type="passphrase" uuid="2a0a0d6c-babf-454d-b93e-9ac9957b95e0"/>',
  '  </encryption>',
  '</disk>',
].join('\n');

/** Nova's LibvirtQuobyteVolumeDriverTestCase input (base /mnt, vde on virtio, no serial). */
const NOVA_UNIT_TEST_XML = [
  '<disk type="file" device="disk">',
  '  <driver name="qemu" type="raw" cache="none" io="native"/>',
  '  <source file="/mnt/c94ed34ada0acf45c1213beb1fc52ce6/volume-00000001"/>',
  '  <backingStore/>', // ours, on purpose: libvirt opens nothing the image names (OSSA-2024-001)
  '  <target dev="vde" bus="virtio"/>',
  '</disk>',
].join('\n');

/** Values no honest connection info holds, in every string field. */
const HOSTILE_PATH = `/x&amp;foo;<"'\t\n\r>`;
const HOSTILE_SERIAL = 'a\nb\tc&amp;\r';

/**
 * What Nova's own serializer writes for HOSTILE_PATH and HOSTILE_SERIAL with every other element
 * present: `LibvirtConfigGuestDisk.to_xml()` (lxml) of Debian's python3-nova 26.2.2, which has no
 * alias yet; its trailing newline removed.
 */
const NOVA_FORMAT_DOM_HOSTILE_XML = [
  '<disk type="file" device="disk">',
  '  <driver name="qemu" type="raw" cache="none" discard="unmap" io="native"/>',
  `  <source file="/x&amp;amp;foo;&lt;&quot;'&#9;&#10;&#13;&gt;"/>`,
  '  <target dev="sdb" bus="scsi"/>',
  '  <serial>a\nb\tc&amp;amp;&#13;</serial>',
  '  <iotune>',
  '    <read_bytes_sec>2</read_bytes_sec>',
  '    <size_iops_sec>1</size_iops_sec>',
  '  </iotune>',
  '  <blockio logical_block_size="512" physical_block_size="4096"/>',
  '  <readonly/>',
  '  <shareable/>',
  '  <address type="drive" controller="0" unit="1"/>',
  '  <encryption format="luks">',
  '    <secret type="passphrase" uuid="2a0a0d6c-babf-454d-b93e-9ac9957b95e0"/>',
  '  </encryption>',
  '</disk>',
].join('\n');

/** The smallest config: only the required fields. */
function minimalConfig(overrides: Partial<GuestDiskConfig> = {}): GuestDiskConfig {
  return {
    sourceType: 'file',
    sourceDevice: 'disk',
    driverName: 'qemu',
    driverFormat: 'raw',
    driverCache: 'none',
    driverIo: 'native',
    sourcePath: '/mnt/c94ed34ada0acf45c1213beb1fc52ce6/volume-00000001',
    targetDev: 'vde',
    targetBus: 'virtio',
    readOnly: false,
    shareable: false,
    ...overrides,
  };
}

function fullConfig(overrides: Partial<GuestDiskConfig> = {}): GuestDiskConfig {
  return minimalConfig({
    driverDiscard: 'unmap',
    alias: `ua-${VOLUME_ID}`,
    serial: VOLUME_ID,
    iotune: { read_bytes_sec: '2', size_iops_sec: '1' },
    blockio: { logicalBlockSize: '512', physicalBlockSize: '4096' },
    readOnly: true,
    shareable: true,
    address: { type: 'drive', controller: 0, unit: 1 },
    encryption: { format: 'luks', secretUuid: SECRET_UUID },
    ...overrides,
  });
}

/** A parsed element, reduced to what the assertions compare: text only on leaf elements. */
interface ParsedElement {
  name: string;
  attributes: Array<[string, string]>;
  text?: string;
  children: ParsedElement[];
}

/** Parses strictly (see strict-xml-parser.ts) and drops the indentation between elements. */
function parse(xml: string): ParsedElement {
  const reduce = (node: XmlElement): ParsedElement => {
    const children = node.children.map(reduce);
    if (children.length > 0) {
      expect(node.text.trim(), `text beside the children of <${node.name}>`).to.equal('');
      return { name: node.name, attributes: node.attributes, children };
    }
    return node.text === ''
      ? { name: node.name, attributes: node.attributes, children }
      : { name: node.name, attributes: node.attributes, text: node.text, children };
  };
  return reduce(parseStrictXml(xml));
}

function element(name: string, attributes: Array<[string, string]> = [], content: string | ParsedElement[] = []): ParsedElement {
  return typeof content === 'string' ? { name, attributes, text: content, children: [] } : { name, attributes, children: content };
}

const HAS_XMLLINT = spawnSync('xmllint', ['--version']).status === 0;

/** Parses with {@link parse}, and with libxml2 (libvirt's parser) too when xmllint is installed. */
function parseAndCheck(xml: string): ParsedElement {
  if (HAS_XMLLINT) {
    execFileSync('xmllint', ['--noout', '--nonet', '-'], { input: xml, stdio: ['pipe', 'ignore', 'pipe'] });
  }
  return parse(xml);
}

describe('formatDiskXml()', () => {
  describe("Nova's XML", () => {
    it("matches Nova's XML for a qcow2 volume with QoS", () => {
      const ci: ConnectionInfo = {
        serial: VOLUME_ID,
        data: {
          export: 'quobyte://registry.example.com:7861/openstack-volumes',
          name: `volume-${VOLUME_ID}`,
          format: 'qcow2',
          volume_id: VOLUME_ID,
          access_mode: 'rw',
          discard: true,
          qos_specs: { total_iops_sec: '500', read_bytes_sec: '1048576' },
        },
      };
      const sourcePath = `/var/lib/nova/mnt/260de2c005587c2c7495904caf626eec/volume-${VOLUME_ID}`;
      const config = buildGuestDiskConfig(ci, { bus: 'virtio', dev: 'vdb', type: 'disk' }, sourcePath);
      expect(formatDiskXml(config)).to.equal(NOVA_QCOW2_QOS_XML);
    });

    it("matches Nova's XML for a read-only multiattach SCSI volume with LUKS", () => {
      const ci: ConnectionInfo = {
        serial: VOLUME_ID,
        multiattach: true,
        data: { export: '192.168.1.1/volume-00001', name: 'volume-00000001', volume_id: VOLUME_ID, access_mode: 'ro' },
      };
      const sourcePath = '/var/lib/nova/mnt/c94ed34ada0acf45c1213beb1fc52ce6/volume-00000001';
      const diskInfo = { bus: 'scsi', dev: 'sdb', type: 'disk', unit: 1 } as const;
      const config = buildGuestDiskConfig(ci, diskInfo, sourcePath, { encryptionSecretUuid: SECRET_UUID });
      expect(formatDiskXml(config)).to.equal(NOVA_RO_MULTIATTACH_SCSI_LUKS_XML);
    });

    it("matches Nova's XML for its unit-test input, without serial or alias", () => {
      const ci: ConnectionInfo = { data: { export: 'quobyte://192.168.1.1/volume-00001', name: 'volume-00000001' } };
      const sourcePath = '/mnt/c94ed34ada0acf45c1213beb1fc52ce6/volume-00000001';
      const config = buildGuestDiskConfig(ci, { bus: 'virtio', dev: 'vde', type: 'disk' }, sourcePath);
      const xml = formatDiskXml(config);
      expect(xml).to.equal(NOVA_UNIT_TEST_XML);
      expect(xml).not.to.contain('<serial');
      expect(xml).not.to.contain('<alias');
      expect(xml).not.to.contain('ua-None');
    });

    it("matches Nova's own format_dom byte for byte, escaping and every element included", () => {
      const config = fullConfig({ sourcePath: HOSTILE_PATH, targetDev: 'sdb', targetBus: 'scsi', serial: HOSTILE_SERIAL });
      delete config.alias;
      expect(formatDiskXml(config)).to.equal(NOVA_FORMAT_DOM_HOSTILE_XML);
    });
  });

  describe('layout', () => {
    it('has no XML declaration and no trailing newline, and indents by two spaces', () => {
      const xml = formatDiskXml(fullConfig());
      expect(xml).to.match(/^<disk /);
      expect(xml).to.match(/<\/disk>$/);
      for (const line of xml.split('\n').slice(1, -1)) {
        expect(line).to.match(/^( {2})+<[^ ]/);
      }
    });

    it('writes the elements and attributes in Nova order', () => {
      expect(parse(formatDiskXml(fullConfig()))).to.deep.equal(
        element('disk', [['type', 'file'], ['device', 'disk']], [
          element('driver', [['name', 'qemu'], ['type', 'raw'], ['cache', 'none'], ['discard', 'unmap'], ['io', 'native']]),
          element('alias', [['name', `ua-${VOLUME_ID}`]]),
          element('source', [['file', '/mnt/c94ed34ada0acf45c1213beb1fc52ce6/volume-00000001']]),
          element('target', [['dev', 'vde'], ['bus', 'virtio']]),
          element('serial', [], VOLUME_ID),
          element('iotune', [], [element('read_bytes_sec', [], '2'), element('size_iops_sec', [], '1')]),
          element('blockio', [['logical_block_size', '512'], ['physical_block_size', '4096']]),
          element('readonly'),
          element('shareable'),
          element('address', [['type', 'drive'], ['controller', '0'], ['unit', '1']]),
          element('encryption', [['format', 'luks']], [element('secret', [['type', 'passphrase'], ['uuid', SECRET_UUID]])]),
        ]),
      );
    });

    it('leaves out the driver attributes that are not set', () => {
      const config = minimalConfig();
      delete config.driverName;
      delete config.driverIo;
      expect(formatDiskXml(config)).to.contain('\n  <driver type="raw" cache="none"/>\n');
    });
  });

  describe('driver discard', () => {
    it('is unmap for data.discard true', () => {
      const ci: ConnectionInfo = { data: { export: '192.168.1.1/v', name: 'volume-1', discard: true } };
      expect(formatDiskXml(buildGuestDiskConfig(ci, { bus: 'virtio', dev: 'vdb', type: 'disk' }, '/mnt/h/volume-1'))).to.contain(
        '<driver name="qemu" type="raw" cache="none" discard="unmap" io="native"/>',
      );
    });

    it('is left out for the string "true"', () => {
      const ci = { data: { export: '192.168.1.1/v', name: 'volume-1', discard: 'true' } } as unknown as ConnectionInfo;
      const xml = formatDiskXml(buildGuestDiskConfig(ci, { bus: 'virtio', dev: 'vdb', type: 'disk' }, '/mnt/h/volume-1'));
      expect(xml).to.contain('<driver name="qemu" type="raw" cache="none" io="native"/>');
      expect(xml).not.to.contain('discard');
    });
  });

  describe('readonly', () => {
    it("is written for access_mode 'ro'", () => {
      const ci: ConnectionInfo = { data: { export: '192.168.1.1/v', name: 'volume-1', access_mode: 'ro' } };
      expect(formatDiskXml(buildGuestDiskConfig(ci, { bus: 'virtio', dev: 'vdb', type: 'disk' }, '/mnt/h/volume-1'))).to.contain(
        '\n  <readonly/>\n',
      );
    });

    it("is left out for access_mode 'rw'", () => {
      const ci: ConnectionInfo = { data: { export: '192.168.1.1/v', name: 'volume-1', access_mode: 'rw' } };
      const xml = formatDiskXml(buildGuestDiskConfig(ci, { bus: 'virtio', dev: 'vdb', type: 'disk' }, '/mnt/h/volume-1'));
      expect(xml).not.to.contain('readonly');
    });
  });

  describe('serial', () => {
    it('is left out for a lun device, as in Nova', () => {
      const xml = formatDiskXml(minimalConfig({ sourceDevice: 'lun', serial: VOLUME_ID }));
      expect(xml).to.match(/^<disk type="file" device="lun">/);
      expect(xml).not.to.contain('<serial');
    });
  });

  describe('iotune', () => {
    it('ignores unknown qos_specs keys and writes the rest in IOTUNE_KEYS order, whatever the input order', () => {
      const qosSpecs = {
        size_iops_sec: '7',
        consumer: 'front-end',
        total_iops_sec_max: '6',
        write_bytes_sec: '3',
        read_bytes_sec: '1',
        'total_iops_sec<evil/>': '9',
        read_iops_sec: '2',
      };
      const ci: ConnectionInfo = { data: { export: '192.168.1.1/v', name: 'volume-1', qos_specs: qosSpecs } };
      const xml = formatDiskXml(buildGuestDiskConfig(ci, { bus: 'virtio', dev: 'vdb', type: 'disk' }, '/mnt/h/volume-1'));
      expect(xml).to.contain(
        [
          '  <iotune>',
          '    <read_bytes_sec>1</read_bytes_sec>',
          '    <write_bytes_sec>3</write_bytes_sec>',
          '    <read_iops_sec>2</read_iops_sec>',
          '    <total_iops_sec_max>6</total_iops_sec_max>',
          '    <size_iops_sec>7</size_iops_sec>',
          '  </iotune>',
        ].join('\n'),
      );
      expect(xml).not.to.contain('consumer');
      expect(xml).not.to.contain('evil');
    });

    it('writes all thirteen keys in IOTUNE_KEYS order from a config built in reverse', () => {
      const iotune: GuestDiskIotune = {};
      for (const key of [...IOTUNE_KEYS].reverse()) {
        iotune[key] = '10';
      }
      const parsed = parse(formatDiskXml(minimalConfig({ iotune })));
      const written = parsed.children.find((child) => child.name === 'iotune')?.children.map((child) => child.name);
      expect(written).to.deep.equal([...IOTUNE_KEYS]);
    });

    it('never writes a key outside IOTUNE_KEYS that a hand-built config holds', () => {
      const iotune = { read_bytes_sec: '1', group_name: 'g' } as GuestDiskIotune;
      expect(formatDiskXml(minimalConfig({ iotune }))).not.to.contain('group_name');
    });

    it('is left out when empty', () => {
      expect(formatDiskXml(minimalConfig({ iotune: {}, backingChain: [] }))).to.equal(NOVA_UNIT_TEST_XML);
    });
  });

  describe('backingStore', () => {
    it('writes nothing for a hand-built config without a chain, and <backingStore/> for an empty one', () => {
      expect(formatDiskXml(minimalConfig())).not.to.contain('backingStore');
      expect(formatDiskXml(minimalConfig({ backingChain: [] }))).to.contain('\n  <source file="/mnt/c94ed34ada0acf45c1213beb1fc52ce6/volume-00000001"/>\n  <backingStore/>\n  <target');
    });

    it('nests an explicit chain, top first, ended by <backingStore/>', () => {
      const backingChain = [
        { format: 'qcow2' as const, sourcePath: '/mnt/h/volume-1.snap' },
        { format: 'raw' as const, sourcePath: '/mnt/h/volume-1&base' },
      ];
      const root = parseAndCheck(formatDiskXml(minimalConfig({ driverFormat: 'qcow2', backingChain })));
      const first = root.children.find((child) => child.name === 'backingStore')!;
      expect(first.attributes).to.deep.equal([['type', 'file']]);
      expect(first.children.map((child) => [child.name, child.attributes])).to.deep.equal([
        ['format', [['type', 'qcow2']]],
        ['source', [['file', '/mnt/h/volume-1.snap']]],
        ['backingStore', [['type', 'file']]],
      ]);
      const second = first.children[2]!;
      expect(second.children.map((child) => [child.name, child.attributes])).to.deep.equal([
        ['format', [['type', 'raw']]],
        ['source', [['file', '/mnt/h/volume-1&base']]],
        ['backingStore', []],
      ]);
      expect(second.children[2]!.children).to.deep.equal([]);
    });

    it('refuses a chain path XML cannot hold', () => {
      expect(() => formatDiskXml(minimalConfig({ backingChain: [{ format: 'raw', sourcePath: '/mnt/h/\u0001' }] }))).to.throw(TypeError, /backingChain\[0\]\.sourcePath/);
    });
  });

  describe('blockio', () => {
    it('writes logical_block_size then physical_block_size', () => {
      const ci: ConnectionInfo = {
        data: { export: '192.168.1.1/v', name: 'volume-1', physical_block_size: 4096, logical_block_size: '512' },
      };
      const xml = formatDiskXml(buildGuestDiskConfig(ci, { bus: 'virtio', dev: 'vdb', type: 'disk' }, '/mnt/h/volume-1'));
      expect(xml).to.contain('\n  <target dev="vdb" bus="virtio"/>\n  <blockio logical_block_size="512" physical_block_size="4096"/>\n</disk>');
    });

    it('writes only the size that is set', () => {
      expect(formatDiskXml(minimalConfig({ blockio: { physicalBlockSize: '4096' } }))).to.contain(
        '\n  <blockio physical_block_size="4096"/>\n',
      );
    });

    it('is left out for a lun (Nova master, bug 2127196: QEMU scsi-block has no block sizes)', () => {
      const xml = formatDiskXml(minimalConfig({ sourceDevice: 'lun', blockio: { logicalBlockSize: '512', physicalBlockSize: '4096' } }));
      expect(xml).not.to.contain('blockio');
      expect(formatDiskXml(minimalConfig({ sourceDevice: 'cdrom', blockio: { logicalBlockSize: '512' } }))).to.contain('<blockio logical_block_size="512"/>');
    });

    it('is left out when no size is set', () => {
      expect(formatDiskXml(minimalConfig({ blockio: {}, backingChain: [] }))).to.equal(NOVA_UNIT_TEST_XML);
    });
  });

  describe('address', () => {
    const ci: ConnectionInfo = { data: { export: '192.168.1.1/v', name: 'volume-1' } };

    it('is written on the scsi bus with a unit, unit 0 included', () => {
      const xml = formatDiskXml(buildGuestDiskConfig(ci, { bus: 'scsi', dev: 'sda', type: 'disk', unit: 0 }, '/mnt/h/volume-1'));
      expect(xml).to.contain('\n  <address type="drive" controller="0" unit="0"/>\n');
    });

    it('is left out on the scsi bus without a unit', () => {
      const xml = formatDiskXml(buildGuestDiskConfig(ci, { bus: 'scsi', dev: 'sda', type: 'disk' }, '/mnt/h/volume-1'));
      expect(xml).not.to.contain('<address');
    });

    it('is left out on another bus with a unit', () => {
      const xml = formatDiskXml(buildGuestDiskConfig(ci, { bus: 'virtio', dev: 'vdb', type: 'disk', unit: 1 }, '/mnt/h/volume-1'));
      expect(xml).not.to.contain('<address');
    });
  });

  describe('escaping', () => {
    const nasty = `&amp;&lt;&#38;&#x26;&foo;& <b a="1">]]>'"\t\n\r -- ü € 😀`;

    it('gives back every hostile value exactly, from a well-formed document', () => {
      const config = fullConfig({
        sourceDevice: `disk${nasty}`,
        driverName: `qemu${nasty}`,
        alias: `ua-${nasty}`,
        sourcePath: `/mnt/h/${nasty}`,
        targetDev: `vd${nasty}`,
        targetBus: `virtio${nasty}`,
        serial: `s${nasty}`,
        iotune: { read_bytes_sec: `1${nasty}` },
        blockio: { logicalBlockSize: `5${nasty}`, physicalBlockSize: `4${nasty}` },
        encryption: { format: 'luks', secretUuid: `u${nasty}` },
      });
      expect(parseAndCheck(formatDiskXml(config))).to.deep.equal(
        element('disk', [['type', 'file'], ['device', `disk${nasty}`]], [
          element('driver', [['name', `qemu${nasty}`], ['type', 'raw'], ['cache', 'none'], ['discard', 'unmap'], ['io', 'native']]),
          element('alias', [['name', `ua-${nasty}`]]),
          element('source', [['file', `/mnt/h/${nasty}`]]),
          element('target', [['dev', `vd${nasty}`], ['bus', `virtio${nasty}`]]),
          element('serial', [], `s${nasty}`),
          element('iotune', [], [element('read_bytes_sec', [], `1${nasty}`)]),
          element('blockio', [['logical_block_size', `5${nasty}`], ['physical_block_size', `4${nasty}`]]),
          element('readonly'),
          element('shareable'),
          element('address', [['type', 'drive'], ['controller', '0'], ['unit', '1']]),
          element('encryption', [['format', 'luks']], [element('secret', [['type', 'passphrase'], ['uuid', `u${nasty}`]])]),
        ]),
      );
    });

    it('writes & < > " as references in an attribute, and tab, newline and carriage return as character references', () => {
      const xml = formatDiskXml(minimalConfig({ sourcePath: `/a&b<c>d"e'f\tg\nh\ri&amp;j` }));
      expect(xml).to.contain(`<source file="/a&amp;b&lt;c&gt;d&quot;e'f&#9;g&#10;h&#13;i&amp;amp;j"/>`);
    });

    it('escapes a path in the Nova unit-test layout that holds &, < and "', () => {
      const sourcePath = '/mnt/c94ed34ada0acf45c1213beb1fc52ce6/volume-&<"00000001';
      expect(parseAndCheck(formatDiskXml(minimalConfig({ sourcePath }))).children.find((child) => child.name === 'source')?.attributes).to.deep.equal([['file', sourcePath]]);
    });

    for (const [label, bad] of [
      ['NUL', '\u0000'],
      ['an escape character', '\u001B'],
      ['U+FFFE', '\uFFFE'],
      ['a lone surrogate', '\uD800'],
    ] as const) {
      it(`throws a TypeError naming the field for ${label}, which XML cannot hold`, () => {
        expect(() => formatDiskXml(minimalConfig({ sourcePath: `/mnt/h/vol${bad}` }))).to.throw(
          TypeError,
          /^Expected sourcePath to hold only characters allowed in XML 1\.0, got U\+[0-9A-F]{4} at index 10$/,
        );
        expect(() => formatDiskXml(minimalConfig({ iotune: { total_iops_sec: bad } }))).to.throw(TypeError, /iotune\.total_iops_sec/);
      });
    }
  });

  describe('the strict reader these specs parse with', () => {
    it('decodes each reference once and normalises literal whitespace in attributes', () => {
      expect(parseStrictXml('<a b="&amp;#38;&#38;&#x26;&lt;\t\r\n">&amp;amp;&#13;\r\n</a>')).to.deep.equal({
        name: 'a',
        attributes: [['b', '&#38;&&<  ']],
        children: [],
        text: '&amp;\r\n',
      });
    });

    for (const bad of ['<a b="x&y"/>', '<a b="&foo;"/>', '<a b="x<y"/>', '<a>&foo;</a>', '<a>]]></a>', '<a><b></a>', '<a/><b/>', '<a b="1" b="2"/>', '<a>&#0;</a>']) {
      it(`refuses ${JSON.stringify(bad)}`, () => {
        expect(() => parseStrictXml(bad)).to.throw(SyntaxError);
      });
    }
  });
});
