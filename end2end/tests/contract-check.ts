// Type-checks captured JSON bodies against the seed contracts (end2end/contracts/seed00N.ts) with the TypeScript compiler.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const end2end = resolve(__dirname, '..');
const contracts = join(end2end, 'contracts');
const tsc = join(end2end, 'node_modules', '.bin', 'tsc');

export type Seed = '000' | '001' | '002' | '003' | '004';

/** A body to check: what it is (its file name), which seed's contract, and the type it must satisfy. */
export interface Captured {
  name: string;
  seed: Seed;
  type: string;
  body: unknown;
}

/**
 * Writes one module per body into `dir` and compiles them all with `tsc --strict --noEmit`.
 * Each body is assigned from a variable, not written as a literal: fields beyond the contract
 * pass (there is no excess-property check), a null or a different type does not. Answers tsc's
 * report, empty when every body fits.
 */
export function typeCheck(captured: Captured[], dir: string): string {
  mkdirSync(dir, { recursive: true });
  const files = captured.map(({ name, seed, type, body }) => {
    const file = `${name.replace(/[^A-Za-z0-9_.-]+/g, '-')}.ts`;
    writeFileSync(
      join(dir, file),
      [
        `import type { ${type} } from ${JSON.stringify(join(contracts, `seed${seed}`))};`,
        `const raw = ${JSON.stringify(body, null, 2)};`,
        `export const checked: ${type} = raw;`,
        '',
      ].join('\n'),
    );
    return file;
  });
  if (new Set(files).size !== files.length) throw new Error(`two captured bodies share a name: ${files.join(', ')}`);
  // `types: []` keeps the packages under node_modules/@types out: the modules need no globals.
  const config = { compilerOptions: { target: 'ES2022', module: 'commonjs', types: [] }, files };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config, null, 2));
  const result = spawnSync(tsc, ['-p', join(dir, 'tsconfig.json'), '--strict', '--noEmit', '--pretty', 'false'], {
    encoding: 'utf8',
  });
  if (result.error) throw result.error;
  if (result.status === 0) return '';
  return `${result.stdout}${result.stderr}`.trim() || `tsc exited with ${result.status} and printed nothing`;
}
