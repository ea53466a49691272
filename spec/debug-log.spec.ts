import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { childEnv } from './support/child-env.js';

const run = promisify(execFile);
const DEBUG_LOG = fileURLToPath(new URL('../lib/debug-log.ts', import.meta.url));

/** Logs one message in a fresh process; reports its stderr and whether `debug` got loaded. */
async function logOnce(env: NodeJS.ProcessEnv, preload = false): Promise<{ stderr: string; loaded: boolean }> {
  const script = [
    "import { createRequire } from 'node:module';",
    'const require = createRequire(import.meta.url);',
    preload ? "require('debug').enable('lvd-spec:*');" : '',
    `const { createDebugLog } = await import(${JSON.stringify(DEBUG_LOG)});`,
    "createDebugLog('lvd-spec:one')('hello %s', 'there');",
    "process.stdout.write(String(Object.keys(require.cache).some((path) => path.includes('/node_modules/debug/'))));",
  ].join('\n');
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: childEnv({ DEBUG: '', DEBUG_COLORS: 'no', ...env }),
  });
  return { stderr, loaded: stdout === 'true' };
}

describe('createDebugLog()', () => {
  it('prints through debug when DEBUG enables the namespace', async () => {
    const { stderr, loaded } = await logOnce({ DEBUG: 'lvd-spec:*' });
    expect(loaded).to.equal(true);
    expect(stderr).to.match(/lvd-spec:one hello there/);
  });

  it('does not load debug when DEBUG is unset and nothing else loaded it', async () => {
    expect(await logOnce({})).to.deep.equal({ stderr: '', loaded: false });
  });

  it('prints when the application loaded debug and enabled the namespace itself', async () => {
    const { stderr } = await logOnce({}, true);
    expect(stderr).to.match(/lvd-spec:one hello there/);
  });
});
