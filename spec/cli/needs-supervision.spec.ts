import { expect } from 'chai';
import { needsSupervision } from '../../lib/cli/needs-supervision.js';

describe('needsSupervision()', () => {
  const cases: Array<[string[], boolean]> = [
    [['config', '--export', 'reg/vol', '--name', 'volume-1'], false],
    [['--help'], false],
    [['-h'], false],
    [['help', 'status'], false],
    [['--version'], false],
    [['-V'], false],
    [[], false],
    [['status'], false],
    [['status', '--help'], false],
    [['status', '--json', '--base', '/b'], false],
    [['connect', '--export', 'reg/vol', '--name', '--help', '--instance', 'x'], true],
    [['disconnect'], true],
    [['frobnicate'], true],
    [['--base', '/b', 'config'], true],
    [['Config'], true],
    [['Status'], true],
    [['--base', '/b', 'status'], true],
  ];
  for (const [argv, expected] of cases) {
    it(`${expected ? 'supervises' : 'runs in process'}: ${JSON.stringify(argv)}`, () => {
      expect(needsSupervision(argv)).to.equal(expected);
    });
  }
});
