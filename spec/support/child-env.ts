/**
 * The environment for a child process a test starts, with c8's coverage switched off there: a
 * child that loads lib/ through tsx writes coverage that c8 merges wrongly with the test
 * process's own. Node copies NODE_V8_COVERAGE into every child's environment unless the
 * environment given names it, hence the empty value rather than leaving it out.
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, NODE_V8_COVERAGE: '', ...extra };
}
