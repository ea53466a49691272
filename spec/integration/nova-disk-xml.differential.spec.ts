/**
 * A randomized differential against Nova's own `LibvirtQuobyteVolumeDriver.get_config`
 * (Debian python3-nova, run by fixtures/nova_get_config.py): fast-check generates connection
 * infos that pass our validation, both sides write the disk XML, and the parsed trees must be
 * equal once the listed differences are accounted for. Each difference is either Nova master
 * against the installed Nova (Zed), or ours against Nova on purpose; each is checked, not
 * dropped.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import fc from 'fast-check';
import type { ConnectionInfo, DiskInfo } from '../../lib/drivers/connection-info.js';
import { QuobyteVolumeDriver } from '../../lib/drivers/quobyte-volume-driver.js';
import { validateConnectionInfo } from '../../lib/drivers/validate-connection-info.js';
import { InvalidConnectionInfoError } from '../../lib/errors.js';
import { buildGuestDiskConfig } from '../../lib/libvirt/build-guest-disk-config.js';
import { formatDiskXml } from '../../lib/libvirt/format-disk-xml.js';
import { IOTUNE_KEYS } from '../../lib/libvirt/guest-disk-config.js';
import { parseStrictXml, type XmlElement } from '../libvirt/strict-xml-parser.js';

const NOVA_SCRIPT = fileURLToPath(new URL('fixtures/nova_get_config.py', import.meta.url));
const MOUNT_BASE = '/var/lib/nova/mnt';
const RUNS = 200;

interface Case {
  ci: ConnectionInfo;
  diskInfo: DiskInfo;
  secretUuid?: string;
}

const absentOr = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null | undefined> => fc.oneof(fc.constant(undefined), fc.constant(null), arbitrary);
const decimal = fc.oneof(fc.nat({ max: 10_000_000 }), fc.nat({ max: 10_000_000 }).map(String));
// eslint-disable-next-line no-control-regex -- control characters are what our validation refuses
const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((value) => !/[\u0000-\u001f\u007f/]/.test(value) && value !== '.' && value !== '..');

const caseArbitrary: fc.Arbitrary<Case> = fc
  .record(
    {
      prefix: fc.constantFrom('quobyte://', ''),
      registry: fc.constantFrom('192.168.1.1', 'registry.example.com:7861', 'a:1,b:2', '[fe80::1]:7861'),
      volume: fc.oneof(fc.constantFrom('vols', 'volume-00001', 'a&b<c>"d\'', 'é-ü'), text.filter((value) => !/\s/.test(value))),
      name: fc.oneof(fc.constantFrom('volume-00000001', 'volume-&<"\'>', 'volume-1.snap-é'), text),
      format: absentOr(fc.constantFrom('raw' as const, 'qcow2' as const)),
      access_mode: absentOr(fc.constantFrom('ro' as const, 'rw' as const)),
      discard: absentOr(fc.boolean()),
      qos: absentOr(fc.dictionary(fc.constantFrom(...IOTUNE_KEYS), decimal, { maxKeys: 5 })),
      logical_block_size: absentOr(decimal),
      physical_block_size: absentOr(decimal),
      volume_id: absentOr(fc.uuid()),
      serial: absentOr(fc.oneof(fc.uuid(), text)),
      multiattach: absentOr(fc.boolean()),
      encrypted: fc.constantFrom(undefined, false, true),
      secret: fc.option(fc.uuid(), { nil: undefined }),
      bus: fc.constantFrom('virtio', 'scsi', 'sata', 'ide'),
      dev: fc.constantFrom('vdb', 'sdb', 'hdc'),
      type: fc.constantFrom('disk', 'lun', 'cdrom'),
      unit: fc.option(fc.nat({ max: 255 }), { nil: undefined }),
    },
    { requiredKeys: ['prefix', 'registry', 'volume', 'name', 'bus', 'dev', 'type', 'encrypted'] },
  )
  .map((r) => {
    const data: Record<string, unknown> = { export: `${r.prefix}${r.registry}/${r.volume}`, name: r.name };
    const set = (key: string, value: unknown): void => {
      if (value !== undefined) data[key] = value;
    };
    set('format', r.format);
    set('access_mode', r.access_mode);
    set('discard', r.discard);
    set('qos_specs', r.qos);
    set('logical_block_size', r.logical_block_size);
    set('physical_block_size', r.physical_block_size);
    set('volume_id', r.volume_id);
    set('encrypted', r.encrypted);
    const ci: Record<string, unknown> = { driver_volume_type: 'quobyte', data };
    if (r.serial !== undefined) ci.serial = r.serial;
    if (r.multiattach !== undefined) ci.multiattach = r.multiattach;
    const diskInfo: DiskInfo = { bus: r.bus, dev: r.dev, type: r.type };
    if (r.unit !== undefined) diskInfo.unit = r.unit;
    // Nova finds the secret by volume id (host.find_secret('volume', id)); a caller of ours passes
    // the one libvirt holds for that id, so there is none without an id.
    const hasId = (r.volume_id ?? r.serial ?? undefined) !== undefined;
    return { ci: ci as unknown as ConnectionInfo, diskInfo, ...(r.secret === undefined || !hasId ? {} : { secretUuid: r.secret }) };
  })
  // Only input our validation accepts is compared: refusing input is a separate, tested choice.
  .filter(({ ci }) => {
    try {
      validateConnectionInfo(ci, 'quobyte');
      return true;
    } catch {
      return false;
    }
  });

function missingNova(): string | undefined {
  return spawnSync('/usr/bin/python3', ['-c', 'import nova.virt.libvirt.volume.quobyte'], { stdio: 'ignore', env: { ...process.env, OS_NOVA_DISABLE_EVENTLET_PATCHING: '1' } }).status === 0
    ? undefined
    : 'python3-nova is not installed (apt-get install python3-nova)';
}

/** Text trimmed, attributes sorted; `<iotune>` children sorted (their order is a listed difference). */
function normalise(element: XmlElement): XmlElement {
  const children = element.children.map(normalise);
  if (element.name === 'iotune') children.sort((a, b) => a.name.localeCompare(b.name));
  return { name: element.name, attributes: [...element.attributes].sort(([a], [b]) => a.localeCompare(b)), children, text: children.length > 0 ? '' : element.text };
}

const without = (element: XmlElement, names: readonly string[]): XmlElement => ({ ...element, children: element.children.filter((child) => !names.includes(child.name)) });

describe("getConfig() against Nova's own get_config (randomized differential)", function () {
  this.timeout(180_000);
  const driver = new QuobyteVolumeDriver({ mountPointBase: MOUNT_BASE });
  const seed = Number(process.env.LVD_DIFFERENTIAL_SEED ?? Date.now() % 2_147_483_647);
  let cases: Case[] = [];
  let nova: Array<{ xml?: string; error?: string }> = [];

  before(function () {
    const why = missingNova();
    if (why !== undefined) {
      if (process.env.CI === 'true') throw new Error(`The Nova differential cannot run in CI: ${why}`);
      console.warn(`      skipping the Nova differential: ${why}`);
      this.skip();
    }
    cases = fc.sample(caseArbitrary, { numRuns: RUNS, seed });
    const request = JSON.stringify({ mount_base: MOUNT_BASE, cases: cases.map(({ ci, diskInfo, secretUuid }) => ({ connection_info: ci, disk_info: diskInfo, secret_uuid: secretUuid ?? null })) });
    const result = spawnSync('/usr/bin/python3', [NOVA_SCRIPT], { input: request, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(result.status, result.stderr).to.equal(0);
    nova = JSON.parse(result.stdout) as typeof nova;
    expect(nova).to.have.length(cases.length);
  });

  it(`writes the XML Nova master writes for ${RUNS} generated volumes, but for the listed differences (seed from LVD_DIFFERENTIAL_SEED or the clock)`, () => {
    const counts = { compared: 0, refusedEncryptedWithoutSecret: 0, novaFailsOnNumericBlockSize: 0 };
    for (const [index, { ci, diskInfo, secretUuid }] of cases.entries()) {
      const label = `seed ${seed}, case ${index}: ${JSON.stringify({ ci, diskInfo, secretUuid })}`;
      const theirs = nova[index]!;
      const options = secretUuid === undefined ? {} : { encryptionSecretUuid: secretUuid };
      const build = (): string => formatDiskXml(buildGuestDiskConfig(ci, diskInfo, driver.getDevicePath(ci), options));

      // Ours, on purpose: an encrypted volume without its secret is refused. Nova attaches it
      // without <encryption> when it finds no libvirt secret.
      // Nova (Zed and master) hands a number to lxml as an attribute value and fails; Cinder sends
      // strings. Ours writes the number in decimal.
      const numericBlockSize = [ci.data.logical_block_size, ci.data.physical_block_size].some((size) => typeof size === 'number');
      if (ci.data.encrypted === true && secretUuid === undefined) {
        expect(build, label).to.throw(InvalidConnectionInfoError, /data\.encrypted/);
        if (theirs.xml === undefined) expect(numericBlockSize, label).to.equal(true);
        else expect(theirs.xml, label).not.to.contain('<encryption');
        counts.refusedEncryptedWithoutSecret += 1;
        continue;
      }
      if (theirs.error !== undefined) {
        expect(numericBlockSize, `${label}\nNova failed: ${theirs.error}`).to.equal(true);
        expect(theirs.error, label).to.match(/^TypeError/);
        build();
        counts.novaFailsOnNumericBlockSize += 1;
        continue;
      }

      const ours = parseStrictXml(build());
      let novaTree = parseStrictXml(theirs.xml!.trim());
      // Nova master, not yet in the installed Zed: no <serial> and no <blockio> on a lun
      // (nova/virt/libvirt/config.py LibvirtConfigGuestDisk.format_dom, bug 2127196).
      if (diskInfo.type === 'lun') novaTree = without(novaTree, ['serial', 'blockio']);
      // Nova master writes <alias name="ua-<volume_id or serial>"/>; Zed writes none. Ours leaves it
      // out when there is no id at all, where master writes "ua-None".
      const volumeId: unknown = ci.data.volume_id ?? ci.serial;
      const alias = ours.children.find((child) => child.name === 'alias');
      if (typeof volumeId !== 'string') expect(alias, label).to.equal(undefined);
      else expect(alias?.attributes, label).to.deep.equal([['name', `ua-${volumeId}`]]);
      // Ours, on purpose: <backingStore/>, so libvirt opens nothing an image names (OSSA-2024-001).
      const backingStore = ours.children.filter((child) => child.name === 'backingStore');
      expect(backingStore, label).to.deep.equal([{ name: 'backingStore', attributes: [], children: [], text: '' }]);
      // Ours, on purpose: `format: null` is raw; Nova writes no type, which libvirt reads as raw.
      const driverElement = novaTree.children.find((child) => child.name === 'driver')!;
      if (!driverElement.attributes.some(([name]) => name === 'type')) {
        expect(ci.data.format, label).to.equal(null);
        driverElement.attributes.push(['type', 'raw']);
      }
      expect(normalise(without(ours, ['alias', 'backingStore'])), label).to.deep.equal(normalise(novaTree));
      counts.compared += 1;
    }
    // The generator must reach every branch, or the differential proves little.
    expect(counts.compared, JSON.stringify(counts)).to.be.above(RUNS / 3);
    expect(counts.refusedEncryptedWithoutSecret, JSON.stringify(counts)).to.be.above(0);
  });
});
