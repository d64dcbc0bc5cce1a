// `make bench`'s browser measurements (benches/load.rs starts the server and passes
// QB_BENCH_URL, QB_BENCH_KEY and QB_BENCH_OUT), in Debian's Chromium like the tests.
import { defineConfig } from '@playwright/test';
import config from './playwright.config';

export default defineConfig({
  ...config,
  testDir: './bench',
  testMatch: '*.bench.ts',
  globalTeardown: undefined,
  webServer: undefined,
  workers: 1,
  timeout: 300_000,
  use: { ...config.use, baseURL: process.env.QB_BENCH_URL, trace: 'off' },
});
