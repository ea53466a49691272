/**
 * scripts/ensure-dependencies.sh, which `npm test` runs first (`pretest`) and `npm run demo`
 * too: on a fresh clone it must run `npm ci`, say so, and leave npm's output on the terminal.
 * A stand-in `npm` on PATH records what it was asked and makes node_modules/.bin, so nothing is
 * downloaded.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

describe('scripts/ensure-dependencies.sh', () => {
  let clone: string;
  let bin: string;

  beforeEach(() => {
    clone = mkdtempSync(join(tmpdir(), 'ensure-deps-'));
    mkdirSync(join(clone, 'scripts'));
    copyFileSync(join(REPO, 'scripts/ensure-dependencies.sh'), join(clone, 'scripts/ensure-dependencies.sh'));
    bin = join(clone, 'fake-bin');
    mkdirSync(bin);
    // Records its arguments, prints progress as npm does, and installs the two programs.
    writeFileSync(
      join(bin, 'npm'),
      `#!/bin/sh\necho "$@" >> "${clone}/npm-calls"\necho "added 327 packages in 35s"\nmkdir -p node_modules/.bin\nprintf '#!/bin/sh\\n' > node_modules/.bin/mocha\nprintf '#!/bin/sh\\n' > node_modules/.bin/tsx\nchmod +x node_modules/.bin/mocha node_modules/.bin/tsx\n`,
    );
    chmodSync(join(bin, 'npm'), 0o755);
  });

  afterEach(() => {
    rmSync(clone, { recursive: true, force: true });
  });

  function run(): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync('bash', [join(clone, 'scripts/ensure-dependencies.sh'), 'npm test'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('runs npm ci on a fresh clone, says so, and shows npm\'s own output', () => {
    const result = run();
    expect(result.status).to.equal(0);
    expect(readFileSync(join(clone, 'npm-calls'), 'utf8')).to.equal('ci --no-audit --no-fund\n');
    expect(result.stderr).to.contain('npm test: node_modules is missing or incomplete; running npm ci first');
    expect(result.stdout).to.contain('added 327 packages');
    expect(existsSync(join(clone, 'node_modules/.bin/mocha'))).to.equal(true);
  });

  it('does nothing when the dependencies are there', () => {
    expect(run().status).to.equal(0);
    rmSync(join(clone, 'npm-calls'));
    const again = run();
    expect(again).to.deep.equal({ status: 0, stdout: '', stderr: '' });
    expect(existsSync(join(clone, 'npm-calls'))).to.equal(false);
  });

  it('fails, saying what failed, when npm ci fails', () => {
    writeFileSync(join(bin, 'npm'), '#!/bin/sh\necho "npm error network" >&2\nexit 1\n');
    const result = run();
    expect(result.status).to.equal(1);
    expect(result.stderr).to.contain('npm error network').and.to.contain('npm test: npm ci failed');
  });

  it('is what npm test runs before mocha, and what the demo runs', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.pretest).to.equal("bash scripts/ensure-dependencies.sh 'npm test'");
    expect(readFileSync(join(REPO, 'scripts/demo.sh'), 'utf8')).to.match(/^bash scripts\/ensure-dependencies\.sh demo$/m);
  });
});

describe('package.json', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
    repository?: { url?: string };
    homepage?: string;
    bugs?: { url?: string };
    files?: string[];
  };

  it('names the repository, homepage and issue tracker, so the registry page links work', () => {
    expect(pkg.repository?.url).to.match(/^git\+https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/);
    expect(pkg.homepage).to.match(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+#readme$/);
    expect(pkg.bugs?.url).to.match(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+\/issues$/);
  });

  it('ships the guides the README links to', () => {
    expect(pkg.files).to.include('docs/*.md');
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    for (const [, target = ''] of readme.matchAll(/\]\((docs\/[^)#]+)/g)) {
      expect(target, target).to.match(/^docs\/[^/]+\.md$/);
      expect(existsSync(join(REPO, target)), target).to.equal(true);
    }
  });
});
