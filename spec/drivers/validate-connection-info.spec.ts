import { expect } from 'chai';
import type { ConnectionInfo } from '../../lib/drivers/connection-info.js';
import { attachmentIdOf, checkPathComponent, FIELD_MAX_BYTES, validateConnectionInfo } from '../../lib/drivers/validate-connection-info.js';
import { InvalidConnectionInfoError, VolumeDriverError } from '../../lib/errors.js';
import { IOTUNE_KEYS } from '../../lib/libvirt/guest-disk-config.js';

const VOLUME_ID = '3f1b2d3c-1111-2222-3333-444455556666';
const SNAPSHOT_ID = '9a8b7c6d-aaaa-bbbb-cccc-ddddeeeeffff';
const INSTANCE_UUID = 'c0ffee00-1234-4abc-8def-0123456789ab';

/** A complete connection info as Cinder's Quobyte driver returns it, every optional field set. */
function fullConnectionInfo(): Record<string, unknown> & { data: Record<string, unknown> } {
  return {
    driver_volume_type: 'quobyte',
    serial: VOLUME_ID,
    multiattach: false,
    data: {
      export: 'quobyte://192.168.1.1/volume-00001',
      name: `volume-${VOLUME_ID}`,
      format: 'qcow2',
      access_mode: 'rw',
      discard: true,
      qos_specs: { total_iops_sec: 500, read_bytes_sec: '1048576' },
      logical_block_size: '512',
      physical_block_size: 4096,
      volume_id: VOLUME_ID,
    },
  };
}

function withCi(patch: Record<string, unknown>): unknown {
  return { ...fullConnectionInfo(), ...patch };
}

function withData(patch: Record<string, unknown>): unknown {
  const ci = fullConnectionInfo();
  return { ...ci, data: { ...ci.data, ...patch } };
}

function withoutData(key: string): unknown {
  const ci = fullConnectionInfo();
  const data = Object.fromEntries(Object.entries(ci.data).filter(([name]) => name !== key));
  return { ...ci, data };
}

function validationError(ci: unknown): InvalidConnectionInfoError {
  try {
    validateConnectionInfo(ci, 'quobyte');
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidConnectionInfoError);
    return error as InvalidConnectionInfoError;
  }
  expect.fail(`expected ${JSON.stringify(ci)} to be refused`);
}

function expectRefused(ci: unknown, field: string): InvalidConnectionInfoError {
  const error = validationError(ci);
  expect(error.field).to.equal(field);
  expect(error.code).to.equal('ERR_INVALID_CONNECTION_INFO');
  expect(error).to.be.instanceOf(VolumeDriverError);
  expect(error.message.startsWith(`Invalid connection info: ${field} `), error.message).to.equal(true);
  return error;
}

function expectAccepted(ci: unknown): void {
  expect(() => {
    validateConnectionInfo(ci, 'quobyte');
  }).not.to.throw();
}

/** How a value reads in a test title. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value).slice(0, 40);
  if (Array.isArray(value)) return 'an array';
  return String(value);
}

describe('validateConnectionInfo()', () => {
  describe('text that is not text, or too much of it', () => {
    const fields: Array<[string, (value: string) => unknown]> = [
      ['data.export', (value) => withData({ export: `quobyte://192.168.1.1/${value}` })],
      ['data.name', (value) => withData({ name: `volume-${value}` })],
      ['data.volume_id', (value) => withData({ volume_id: value })],
      ['serial', (value) => withCi({ serial: value })],
    ];
    const hostile: Array<[string, string, RegExp]> = [
      ['a lone high surrogate', 'a\uD800b', /well-formed Unicode, has a lone surrogate at index/],
      ['a lone low surrogate', 'a\uDC00', /lone surrogate/],
      ['a reversed surrogate pair', '\uDC00\uD800', /lone surrogate/],
      ['U+FFFE', 'a\uFFFE', /XML 1\.0 allows, has U\+FFFE/],
      ['U+FFFF', '\uFFFF', /U\+FFFF/],
      ['a vertical tab', 'a\u000bb', /control characters/],
    ];
    for (const [field, make] of fields) {
      for (const [what, value, why] of hostile) {
        it(`refuses ${what} in ${field}`, () => {
          expect(expectRefused(make(value), field).message).to.match(why);
        });
      }

      it(`refuses ${field} over ${FIELD_MAX_BYTES[field]} bytes, counting UTF-8 bytes`, () => {
        const cap = FIELD_MAX_BYTES[field]!;
        expect(expectRefused(make('x'.repeat(cap + 1)), field).message).to.match(new RegExp(`at most ${cap} bytes`));
        // 'é' is two bytes: half as many characters already pass the cap.
        expectRefused(make('é'.repeat(Math.ceil(cap / 2))), field);
      });
    }

    it('accepts well-formed astral characters and right-to-left text in a name', () => {
      expectAccepted(withData({ name: 'volume-😀-שלום' }));
    });

    it('refuses instance.uuid with a lone surrogate or over 255 bytes', () => {
      const volume = fullConnectionInfo() as unknown as ConnectionInfo;
      for (const uuid of ['\uD83D', 'u'.repeat(256)]) {
        expect(() => attachmentIdOf(volume, { uuid })).to.throw(InvalidConnectionInfoError, /instance\.uuid/);
      }
    });

    it('refuses a non-boolean data.encrypted', () => {
      expectRefused(withData({ encrypted: 'true' }), 'data.encrypted');
      expectAccepted(withData({ encrypted: true }));
    });

    it('quotes at most 200 characters of a 1 MB value in its message, escaping bidi and line separators', () => {
      const error = expectRefused(withData({ export: `\u202e\u2028${'x'.repeat(1_000_000)}` }), 'data.export');
      expect(error.message.length).to.be.below(320);
      expect(error.message).to.include('\\u202e\\u2028').and.not.to.match(/[\u202e\u2028]/);
      const qos = expectRefused(withData({ qos_specs: { total_iops_sec: `1${'0'.repeat(100_000)}` } }), 'data.qos_specs.total_iops_sec');
      expect(qos.message.length).to.be.below(320);
    });
  });


  describe('accepted input', () => {
    it('accepts a complete connection info', () => {
      expectAccepted(fullConnectionInfo());
    });

    it('accepts only data.export and data.name', () => {
      expectAccepted({ data: { export: '192.168.1.1/volume-00001', name: 'volume-00000001' } });
    });

    it('accepts null for every optional field (Cinder sends None as null)', () => {
      expectAccepted({
        driver_volume_type: null,
        serial: null,
        multiattach: null,
        data: {
          export: '192.168.1.1/volume-00001',
          name: 'volume-00000001',
          format: null,
          access_mode: null,
          discard: null,
          qos_specs: null,
          logical_block_size: null,
          physical_block_size: null,
          volume_id: null,
        },
      });
    });

    it('accepts fields it does not know (the wire shape carries more)', () => {
      expectAccepted(withData({ encrypted: false, device_path: '/x', options: null }));
      expectAccepted(withCi({ connector: { host: 'compute-1' }, attachment_id: 'x' }));
    });

    it('does not change the input', () => {
      const ci = fullConnectionInfo();
      const copy = structuredClone(ci);
      validateConnectionInfo(ci, 'quobyte');
      expect(ci).to.deep.equal(copy);
    });

    it('accepts an export with several registries and ports (the export shape is the backend’s to check)', () => {
      expectAccepted(withData({ export: 'quobyte://reg1:7861,reg2:7861,[fd00::1]:7861/volume-00001' }));
    });

    for (const name of [
      `volume-${VOLUME_ID}`,
      `volume-${VOLUME_ID}.${SNAPSHOT_ID}`,
      'volume with space',
      'том-🙂-卷',
      '...',
      '.hidden',
      '-leading-dash',
      'back\\slash',
      'quote\'s"and<xml>&',
      'a'.repeat(255),
      'é'.repeat(127),
    ]) {
      it(`accepts the name ${show(name)}`, () => {
        expectAccepted(withData({ name }));
      });
    }

    it('accepts discard false and multiattach true', () => {
      expectAccepted(withData({ discard: false }));
      expectAccepted(withCi({ multiattach: true }));
    });

    for (const format of ['raw', 'qcow2']) {
      it(`accepts format ${format}`, () => {
        expectAccepted(withData({ format }));
      });
    }

    for (const mode of ['ro', 'rw']) {
      it(`accepts access_mode ${mode}`, () => {
        expectAccepted(withData({ access_mode: mode }));
      });
    }

    it('accepts qos values as numbers and decimal strings, 0 included', () => {
      const readWrite = IOTUNE_KEYS.filter((key) => !key.startsWith('total_'));
      expectAccepted(withData({ qos_specs: Object.fromEntries(readWrite.map((key, i) => [key, i % 2 === 0 ? i * 1000 : String(i * 1000)])) }));
    });

    for (const kind of ['bytes_sec', 'iops_sec', 'bytes_sec_max', 'iops_sec_max']) {
      for (const side of ['read', 'write']) {
        it(`refuses total_${kind} together with ${side}_${kind}, which libvirt refuses`, () => {
          expectRefused(withData({ qos_specs: { [`total_${kind}`]: 1, [`${side}_${kind}`]: 2 } }), 'data.qos_specs');
        });
      }
    }

    it('accepts total limits of one kind beside read and write limits of another', () => {
      expectAccepted(withData({ qos_specs: { total_bytes_sec: 1, read_iops_sec: 2, write_iops_sec: 3, total_iops_sec_max: 4 } }));
    });

    it('accepts an empty qos_specs and a null qos value', () => {
      expectAccepted(withData({ qos_specs: {} }));
      expectAccepted(withData({ qos_specs: { total_iops_sec: null, read_bytes_sec: 100 } }));
    });

    it('ignores unknown qos keys whatever their values', () => {
      expectAccepted(
        withData({ qos_specs: { consumer: 'front-end', total_iops_sec_per_gb: '-1', weird: { nested: true }, list: [1], negative: -5, nothing: null } }),
      );
    });

    it('accepts block sizes as numbers and decimal strings', () => {
      expectAccepted(withData({ logical_block_size: 512, physical_block_size: '4096' }));
    });

    it('accepts the driver_volume_type it was asked for, and none', () => {
      expectAccepted(withCi({ driver_volume_type: 'quobyte' }));
      expectAccepted(withCi({ driver_volume_type: undefined }));
      expect(() => {
        validateConnectionInfo(withCi({ driver_volume_type: 'nfs' }), 'nfs');
      }).not.to.throw();
    });
  });

  describe('the object', () => {
    for (const ci of [null, undefined, [], 'quobyte', 42, true]) {
      it(`refuses ${show(ci)} as connection_info`, () => {
        expectRefused(ci, 'connection_info');
      });
    }

    it('names what it got in the message', () => {
      expect(validationError(null).message).to.equal('Invalid connection info: connection_info must be an object, got null');
      expect(validationError([]).message).to.equal('Invalid connection info: connection_info must be an object, got an array');
    });

    it('refuses a missing data', () => {
      expectRefused({ driver_volume_type: 'quobyte' }, 'data');
    });

    for (const data of [null, [], 'x', 1]) {
      it(`refuses data ${show(data)}`, () => {
        expectRefused(withCi({ data }), 'data');
      });
    }

    for (const type of ['nfs', 'QUOBYTE', '', 1]) {
      it(`refuses driver_volume_type ${show(type)}`, () => {
        expectRefused(withCi({ driver_volume_type: type }), 'driver_volume_type');
      });
    }

    for (const multiattach of ['true', 1, 0, {}]) {
      it(`refuses multiattach ${show(multiattach)}`, () => {
        expectRefused(withCi({ multiattach }), 'multiattach');
      });
    }

    for (const serial of ['', 'a\nb', 'a\0b', 'a\tb', '\u007f', 123, []]) {
      it(`refuses serial ${show(serial)}`, () => {
        expectRefused(withCi({ serial }), 'serial');
      });
    }
  });

  describe('data.export', () => {
    it('refuses a missing export', () => {
      expectRefused(withoutData('export'), 'data.export');
    });

    for (const exportValue of [null, 123, '', ['a/b'], 'host/vol\n', 'host/vol\0', 'host/vol\r', '\u001bhost/vol']) {
      it(`refuses ${show(exportValue)}`, () => {
        expectRefused(withData({ export: exportValue }), 'data.export');
      });
    }
  });

  describe('data.name', () => {
    it('refuses a missing name', () => {
      expectRefused(withoutData('name'), 'data.name');
    });

    for (const [what, name] of [
      ['empty', ''],
      ['with "/"', 'a/b'],
      ['an absolute path', '/etc/passwd'],
      ['"/" alone', '/'],
      ['a traversal', '../../etc/passwd'],
      ['"."', '.'],
      ['".."', '..'],
      ['with NUL', 'volume\0x'],
      ['with a newline', 'volume\nx'],
      ['with a tab', 'volume\tx'],
      ['with DEL', 'volume\u007f'],
      ['of 256 bytes', 'a'.repeat(256)],
      ['of 128 characters but 256 bytes', 'é'.repeat(128)],
      ['a number', 1],
      ['null', null],
    ] as const) {
      it(`refuses a name ${what}`, () => {
        expectRefused(withData({ name }), 'data.name');
      });
    }
  });

  describe('data options', () => {
    for (const format of ['vmdk', 'RAW', '', 1]) {
      it(`refuses format ${show(format)}`, () => {
        expectRefused(withData({ format }), 'data.format');
      });
    }

    for (const mode of ['rwx', 'RO', '', true]) {
      it(`refuses access_mode ${show(mode)}`, () => {
        expectRefused(withData({ access_mode: mode }), 'data.access_mode');
      });
    }

    for (const discard of ['true', 'unmap', 1]) {
      it(`refuses discard ${show(discard)}`, () => {
        expectRefused(withData({ discard }), 'data.discard');
      });
    }

    for (const field of ['logical_block_size', 'physical_block_size']) {
      for (const size of [-512, 1.5, '512b', '-512', '', ' 512', '0x200', true, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
        it(`refuses ${field} ${show(size)}`, () => {
          expectRefused(withData({ [field]: size }), `data.${field}`);
        });
      }
    }

    for (const volumeId of ['', 'a\nb', 42]) {
      it(`refuses volume_id ${show(volumeId)}`, () => {
        expectRefused(withData({ volume_id: volumeId }), 'data.volume_id');
      });
    }
  });

  describe('data.qos_specs', () => {
    for (const qos of ['total_iops_sec=500', [], [['total_iops_sec', 500]], 5, true]) {
      it(`refuses qos_specs ${show(qos)}`, () => {
        expectRefused(withData({ qos_specs: qos }), 'data.qos_specs');
      });
    }

    for (const value of [-1, '-1', 'abc', 1.5, '1.5', '', '1e3', Number.NaN, true, {}]) {
      it(`refuses the qos value ${show(value)}, naming the key`, () => {
        expectRefused(withData({ qos_specs: { read_bytes_sec: 1, total_iops_sec: value } }), 'data.qos_specs.total_iops_sec');
      });
    }

    for (const key of IOTUNE_KEYS) {
      it(`checks ${key}`, () => {
        expectRefused(withData({ qos_specs: { [key]: -1 } }), `data.qos_specs.${key}`);
      });
    }
  });
});

describe('checkPathComponent()', () => {
  it('returns the name it accepts', () => {
    expect(checkPathComponent('data.name', `volume-${VOLUME_ID}.${SNAPSHOT_ID}`)).to.equal(`volume-${VOLUME_ID}.${SNAPSHOT_ID}`);
    expect(checkPathComponent('x', 'with space')).to.equal('with space');
  });

  it('accepts 255 bytes and refuses 256, counting UTF-8 bytes', () => {
    expect(checkPathComponent('f', '🙂'.repeat(63) + 'abc')).to.have.length(129);
    expect(() => checkPathComponent('f', '🙂'.repeat(64))).to.throw(InvalidConnectionInfoError, /at most 255 bytes/);
  });

  for (const value of ['', '/', 'a/b', '.', '..', 'a\0', 'a\n', undefined, null, 7]) {
    it(`refuses ${show(value)} under the field name it was given`, () => {
      let caught: unknown;
      try {
        checkPathComponent('instance.uuid', value);
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(InvalidConnectionInfoError);
      expect((caught as InvalidConnectionInfoError).field).to.equal('instance.uuid');
      expect((caught as InvalidConnectionInfoError).code).to.equal('ERR_INVALID_CONNECTION_INFO');
    });
  }
});

describe('attachmentIdOf()', () => {
  const instance = { uuid: INSTANCE_UUID };

  function ci(data: Omit<Partial<ConnectionInfo['data']>, 'volume_id'> & { volume_id?: string | null }, serial?: string | null): ConnectionInfo {
    return {
      ...(serial === undefined ? {} : { serial }),
      data: { export: '192.168.1.1/volume-00001', name: 'volume-00000001', ...data },
    } as ConnectionInfo;
  }

  it('is <instance uuid>/<volume id>', () => {
    expect(attachmentIdOf(ci({ volume_id: VOLUME_ID }, 'serial-1'), instance)).to.equal(`${INSTANCE_UUID}/${VOLUME_ID}`);
  });

  it('falls back to the serial without a volume id', () => {
    expect(attachmentIdOf(ci({}, 'serial-1'), instance)).to.equal(`${INSTANCE_UUID}/serial-1`);
  });

  it('falls back to the serial when the volume id is null', () => {
    expect(attachmentIdOf(ci({ volume_id: null }, 'serial-1'), instance)).to.equal(`${INSTANCE_UUID}/serial-1`);
  });

  it('falls back to the name without volume id or serial', () => {
    expect(attachmentIdOf(ci({}), instance)).to.equal(`${INSTANCE_UUID}/volume-00000001`);
    expect(attachmentIdOf(ci({ volume_id: null }, null), instance)).to.equal(`${INSTANCE_UUID}/volume-00000001`);
  });

  it('gives two guests of one volume different ids', () => {
    const volume = ci({ volume_id: VOLUME_ID });
    expect(attachmentIdOf(volume, { uuid: 'guest-a' })).not.to.equal(attachmentIdOf(volume, { uuid: 'guest-b' }));
  });

  for (const [what, bad, field] of [
    ['a null instance', null, 'instance'],
    ['an instance that is a string', INSTANCE_UUID, 'instance'],
    ['an instance that is an array', [INSTANCE_UUID], 'instance'],
    ['an instance without uuid', {}, 'instance.uuid'],
    ['a uuid with "/"', { uuid: `${INSTANCE_UUID}/x` }, 'instance.uuid'],
    ['a uuid ".."', { uuid: '..' }, 'instance.uuid'],
    ['an empty uuid', { uuid: '' }, 'instance.uuid'],
    ['a uuid with a newline', { uuid: 'a\nb' }, 'instance.uuid'],
    ['a uuid that is a number', { uuid: 12 }, 'instance.uuid'],
  ] as const) {
    it(`refuses ${what}`, () => {
      let caught: unknown;
      try {
        attachmentIdOf(ci({ volume_id: VOLUME_ID }), bad);
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(InvalidConnectionInfoError);
      expect((caught as InvalidConnectionInfoError).field).to.equal(field);
    });
  }
});
