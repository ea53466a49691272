import { expect } from 'chai';
import sinon from 'sinon';
import { FakeHost } from '../../support/fake-host.js';
import { BASE, EXPORT, MOUNT_PATH, NAME, mountPathOf, onHost, runCaptured } from '../cli-harness.js';

describe('libvirt-volume config', () => {
  let host: FakeHost;

  beforeEach(() => {
    host = new FakeHost();
  });

  afterEach(() => {
    sinon.restore();
  });

  it('prints the disk XML of a volume with the defaults (raw, vdb, virtio, disk), then a newline', async () => {
    const result = await runCaptured(['config', '--export', EXPORT, '--name', NAME, '--base', BASE], onHost(host));
    expect(result).to.deep.equal({
      exitCode: 0,
      stderr: '',
      stdout: [
        '<disk type="file" device="disk">',
        '  <driver name="qemu" type="raw" cache="none" io="native"/>',
        `  <source file="${MOUNT_PATH}/${NAME}"/>`,
        '  <backingStore/>',
        '  <target dev="vdb" bus="virtio"/>',
        '</disk>',
        '',
      ].join('\n'),
    });
  });

  it('prints every option in Nova\'s order', async () => {
    const result = await runCaptured(
      [
        'config', '--export', EXPORT, '--name', NAME, '--base', BASE, '--format', 'qcow2', '--dev', 'sdb', '--bus', 'scsi', '--type', 'disk',
        '--serial', 'b6a6e2e7-serial', '--volume-id', '7c1b1e0e-vol', '--read-only', '--shareable', '--discard',
      ],
      onHost(host),
    );
    expect(result.exitCode).to.equal(0);
    expect(result.stdout).to.equal(
      [
        '<disk type="file" device="disk">',
        '  <driver name="qemu" type="qcow2" cache="none" discard="unmap" io="native"/>',
        '  <alias name="ua-7c1b1e0e-vol"/>',
        `  <source file="${MOUNT_PATH}/${NAME}"/>`,
        '  <backingStore/>',
        '  <target dev="sdb" bus="scsi"/>',
        '  <serial>b6a6e2e7-serial</serial>',
        '  <readonly/>',
        '  <shareable/>',
        '</disk>',
        '',
      ].join('\n'),
    );
  });

  it('looks at nothing on the host and runs nothing', async () => {
    await runCaptured(['config', '--export', EXPORT, '--name', NAME], onHost(host));
    expect(host.runner.run.called).to.be.false;
    expect(host.probe.listMounts.called).to.be.false;
    expect(host.probe.stat.called).to.be.false;
  });

  describe('the base', () => {
    it('defaults to Nova\'s /var/lib/nova/mnt', async () => {
      const { stdout } = await runCaptured(['config', '--export', EXPORT, '--name', NAME]);
      expect(stdout).to.contain(`<source file="${mountPathOf('/var/lib/nova/mnt', '192.168.1.1/volume-00001')}/${NAME}"/>`);
    });

    it('comes from LIBVIRT_VOLUME_MOUNT_BASE', async () => {
      const { stdout } = await runCaptured(['config', '--export', EXPORT, '--name', NAME], { env: { LIBVIRT_VOLUME_MOUNT_BASE: '/srv/quobyte' } });
      expect(stdout).to.contain(`<source file="${mountPathOf('/srv/quobyte', '192.168.1.1/volume-00001')}/${NAME}"/>`);
    });

    it('ignores an empty LIBVIRT_VOLUME_MOUNT_BASE', async () => {
      const { stdout } = await runCaptured(['config', '--export', EXPORT, '--name', NAME], { env: { LIBVIRT_VOLUME_MOUNT_BASE: '' } });
      expect(stdout).to.contain(`<source file="${mountPathOf('/var/lib/nova/mnt', '192.168.1.1/volume-00001')}/${NAME}"/>`);
    });

    it('comes from --base before the environment', async () => {
      const { stdout } = await runCaptured(['config', '--export', EXPORT, '--name', NAME, '--base', BASE], { env: { LIBVIRT_VOLUME_MOUNT_BASE: '/srv/quobyte' } });
      expect(stdout).to.contain(`<source file="${MOUNT_PATH}/${NAME}"/>`);
    });
  });

  describe('hostile input is refused as the library refuses it', () => {
    const cases: Array<{ title: string; args: string[]; message: string }> = [
      { title: 'a name that climbs out (../x)', args: ['--export', EXPORT, '--name', '../x'], message: 'Invalid connection info: data.name must be a single path component (no "/")' },
      { title: 'a name of ..', args: ['--export', EXPORT, '--name', '..'], message: 'Invalid connection info: data.name must not be ".."' },
      { title: 'a name with a newline', args: ['--export', EXPORT, '--name', 'a\nb'], message: 'Invalid connection info: data.name must not contain NUL or control characters' },
      {
        title: 'an export that is an option (-o/x)',
        args: ['--export', '-o/x', '--name', NAME],
        message: 'Invalid connection info: data.export must look like host[:port][,host[:port]...]/volume, got "-o/x"',
      },
      {
        title: 'an export that is an option, given with =',
        args: ['--export=-o/x', '--name', NAME],
        message: 'Invalid connection info: data.export must look like host[:port][,host[:port]...]/volume, got "-o/x"',
      },
      { title: 'an unknown format', args: ['--export', EXPORT, '--name', NAME, '--format', 'vmdk'], message: 'Invalid connection info: data.format must be "raw" or "qcow2", got "vmdk"' },
      { title: 'a target device with a space', args: ['--export', EXPORT, '--name', NAME, '--dev', 'vd b'], message: 'Invalid connection info: disk_info.dev must be a simple name, got "vd b"' },
    ];
    for (const { title, args, message } of cases) {
      it(`refuses ${title} in one line with exit 1`, async () => {
        const result = await runCaptured(['config', ...args], onHost(host));
        expect(result).to.deep.equal({ exitCode: 1, stdout: '', stderr: `libvirt-volume: ERR_INVALID_CONNECTION_INFO: ${message}\n` });
      });
    }
  });
});
