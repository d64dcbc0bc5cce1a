// Playwright against a freshly built quotaboard on a free port with a throwaway SQLite
// database, in Debian's Chromium (never a downloaded browser).
import { defineConfig } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// This file is evaluated again in every worker: choose the port and database once, in the
// main process, and hand them to the workers through the environment they inherit.
if (!process.env.QB_E2E_PORT) {
  process.env.QB_E2E_PORT = execFileSync(process.execPath, [
    '-e',
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})",
  ]).toString();
}
if (!process.env.QB_E2E_TMP) {
  process.env.QB_E2E_TMP = mkdtempSync(join(tmpdir(), 'quotaboard-e2e-'));
}

const port = process.env.QB_E2E_PORT;
const root = resolve(__dirname, '..');
const targetDir = resolve(root, process.env.CARGO_TARGET_DIR ?? 'target');
const binary = process.env.QB_E2E_BIN ?? join(targetDir, 'release/quotaboard');
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: './tests',
  globalTeardown: './global-teardown.ts',
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  reporter: [['list']],
  timeout: 30_000,
  use: {
    baseURL,
    trace: 'retain-on-failure',
  },
  projects: [
    // Acme's sums at their whole period's amounts before any spec runs (demo.setup.ts).
    { name: 'demo', testMatch: /demo\.setup\.ts/ },
    {
      name: 'chromium',
      dependencies: ['demo'],
      use: {
        browserName: 'chromium',
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
          ],
        },
      },
    },
  ],
  webServer: {
    // Load the demo dataset into the empty database, then serve; Playwright polls /healthz
    // until it answers 200 and stops the server when the run ends.
    command: `"${binary}" demo && exec "${binary}" serve`,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      QUOTABOARD_CONFIG: join(root, 'Leptos.toml'),
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: `sqlite://${join(process.env.QB_E2E_TMP, 'quotaboard.db')}`,
      RUST_LOG: 'warn',
      // Plain HTTP on loopback: browsers refuse `Secure` / `__Host-` cookies there.
      QUOTABOARD_SESSION_COOKIE_SECURE: 'false',
      // The alert spec's receiver listens on loopback.
      QUOTABOARD_WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
    },
  },
});
