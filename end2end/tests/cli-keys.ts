// API keys for the demo organizations, made by the release binary's `keys create` as README's
// "Sending usage events" does; and users of their own for specs that change a password or
// disable someone (`users create`), so the demo users other specs sign in as stay as they are.
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

/** The demo's organizations (src/server/process/demo.rs, README "Plans, periods and cost"). */
export const ORGANIZATIONS = ['acme', 'globex', 'initech'] as const;
export type Slug = (typeof ORGANIZATIONS)[number];

// The same binary, configuration and database as playwright.config.ts hands the server, so a key
// made here is one the running server knows.
const root = resolve(__dirname, '..', '..');
const targetDir = resolve(root, process.env.CARGO_TARGET_DIR ?? 'target');
const binary = process.env.QB_E2E_BIN ?? join(targetDir, 'release/quotaboard');

/** Runs the CLI with `args` on the database the server uses; what it printed. */
function cli(args: string[], env: Record<string, string> = {}): string {
  const tmp = process.env.QB_E2E_TMP;
  if (!tmp) throw new Error('QB_E2E_TMP is unset: run through playwright.config.ts, which chooses the database');
  return execFileSync(binary, args, {
    env: {
      ...process.env,
      QUOTABOARD_CONFIG: join(root, 'Leptos.toml'),
      DATABASE_URL: `sqlite://${join(tmp, 'quotaboard.db')}`,
      RUST_LOG: 'warn',
      ...env,
    },
    encoding: 'utf8',
  });
}

/** Creates `email` as a member of `slug` who signs in with `password`. */
export function createUser(email: string, password: string, slug = 'acme'): void {
  cli(['users', 'create', '--email', email, '--org', slug, '--role', 'member'], {
    QUOTABOARD_USER_PASSWORD: password,
  });
}

/** A new admin key of `slug`; the CLI prints it as the last line of its output. */
export function createKey(slug: string, name: string): string {
  const stdout = cli(['keys', 'create', '--org', slug, '--role', 'admin', '--name', name]);
  const key = stdout.trim().split('\n').pop()?.trim() ?? '';
  if (!key.startsWith('qb_')) throw new Error(`\`${binary} keys create --org ${slug}\` printed no key:\n${stdout}`);
  return key;
}

/** The same key with its secret altered: well-formed, with a real prefix, and wrong. */
export function wrongKey(key: string): string {
  return key.slice(0, -4) + (key.endsWith('0000') ? 'ffff' : '0000');
}
