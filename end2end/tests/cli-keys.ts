// API keys for the demo organizations, made by the release binary's `keys create` as README's "Sending usage events" does.
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

/** The demo's organizations (src/server/demo.rs, README "Plans, periods and cost"). */
export const ORGANIZATIONS = ['acme', 'globex', 'initech'] as const;
export type Slug = (typeof ORGANIZATIONS)[number];

// The same binary, configuration and database as playwright.config.ts hands the server, so a key
// made here is one the running server knows.
const root = resolve(__dirname, '..', '..');
const targetDir = resolve(root, process.env.CARGO_TARGET_DIR ?? 'target');
const binary = process.env.QB_E2E_BIN ?? join(targetDir, 'release/quotaboard');

/** A new admin key of `slug`; the CLI prints it as the last line of its output. */
export function createKey(slug: string, name: string): string {
  const tmp = process.env.QB_E2E_TMP;
  if (!tmp) throw new Error('QB_E2E_TMP is unset: run through playwright.config.ts, which chooses the database');
  const stdout = execFileSync(binary, ['keys', 'create', '--org', slug, '--role', 'admin', '--name', name], {
    env: {
      ...process.env,
      QUOTABOARD_CONFIG: join(root, 'Leptos.toml'),
      DATABASE_URL: `sqlite://${join(tmp, 'quotaboard.db')}`,
      RUST_LOG: 'warn',
    },
    encoding: 'utf8',
  });
  const key = stdout.trim().split('\n').pop()?.trim() ?? '';
  if (!key.startsWith('qb_')) throw new Error(`\`${binary} keys create --org ${slug}\` printed no key:\n${stdout}`);
  return key;
}

/** The same key with its secret altered: well-formed, with a real prefix, and wrong. */
export function wrongKey(key: string): string {
  return key.slice(0, -4) + (key.endsWith('0000') ? 'ffff' : '0000');
}
