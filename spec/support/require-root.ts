/** Skips a test that changes owners or mounts when not root; in CI (root) it always runs. */
export function requireRoot(context: Mocha.Context, why = 'changing owners needs root'): void {
  if (process.getuid?.() === 0) return;
  if (process.env.CI === 'true') throw new Error(`CI must run as root: ${why}`);
  console.warn(`      skipping: ${why}`);
  context.skip();
}
