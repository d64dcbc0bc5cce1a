// Figures of `make bench`, measured in Chromium against the running release server: time
// from navigation to a hydrated /usage, and from sending an event to seeing it on an open
// /usage page (percentiles to QB_BENCH_OUT); what /usage and the embed view download before
// they are interactive, their time to interactive on an emulated phone and how answers are
// compressed (QB_WEIGHT_OUT).
import { test, expect } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { recordHydration, signIn, waitForLive } from '../tests/helpers';

const LOADS = 30;
const EVENTS = 60;

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return { samples: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1] };
}

test('hydration and live updates of /usage', async ({ page }) => {
  const key = process.env.QB_BENCH_KEY;
  const out = process.env.QB_BENCH_OUT;
  expect(key && out, 'run through `make bench`').toBeTruthy();
  await signIn(page);
  await recordHydration(page);

  const hydration: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    await page.goto('/usage');
    await page.waitForFunction(() => (window as unknown as { qbHydratedAt?: number }).qbHydratedAt !== undefined);
    hydration.push(await page.evaluate(() => (window as unknown as { qbHydratedAt: number }).qbHydratedAt));
  }

  // The page is open and listening; each event's quantity is added to API Calls' amount.
  await waitForLive(page);
  const amount = page.locator('.usage-bar[data-metric="apiCalls"] .usage-bar__amount');
  await expect(amount).toHaveCount(1);
  await page.evaluate(() => {
    const w = window as unknown as { qbChanges: { at: number; text: string }[] };
    w.qbChanges = [];
    // The bar may be rendered anew on a refetch: watch the page, compare the text.
    const amount = () =>
      document.querySelector('.usage-bar[data-metric="apiCalls"] .usage-bar__amount')?.textContent ?? '';
    let last = amount();
    new MutationObserver(() => {
      const text = amount();
      if (text !== last) {
        last = text;
        w.qbChanges.push({ at: performance.timeOrigin + performance.now(), text });
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  const live: number[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const seen = await page.evaluate(() => (window as unknown as { qbChanges: unknown[] }).qbChanges.length);
    const sentAt = Date.now();
    const response = await page.request.post('/api/v1/events', {
      headers: { 'x-api-key': key! },
      data: { events: [{ id: `bench-live-${sentAt}-${i}`, metric: 'apiCalls', quantity: 1 }] },
    });
    expect(response.status()).toBe(200);
    expect((await response.json()).accepted).toBe(1);
    await page.waitForFunction(
      (count) => (window as unknown as { qbChanges: unknown[] }).qbChanges.length > count,
      seen,
      { timeout: 10_000 },
    );
    const at = await page.evaluate(
      (count) => (window as unknown as { qbChanges: { at: number }[] }).qbChanges[count].at,
      seen,
    );
    live.push(at - sentAt);
    // Events arrive at no particular moment: not in step with the page's 200 ms coalescing.
    await page.waitForTimeout(100 + Math.random() * 300);
  }

  writeFileSync(out!, JSON.stringify({ hydration_ms: percentiles(hydration), live_ms: percentiles(live) }));
});

const PHONE_LOADS = 10;

/**
 * What `/usage` and the embed view (`/embed/usage`, a portal session's address, loaded
 * as the top page) download before they are interactive, and how long that takes on a
 * mid-range phone: Chromium's emulation through the DevTools protocol (CPU slowed 4×,
 * 1.6 Mbit/s down, 750 kbit/s up, 150 ms latency), cache off, each load from nothing.
 */
test('/usage and the embed view on an emulated mid-range phone', async ({ page }) => {
  const out = process.env.QB_WEIGHT_OUT;
  const key = process.env.QB_BENCH_KEY;
  expect(out && key, 'run through `make bench`').toBeTruthy();
  await signIn(page);
  await recordHydration(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  // Each embed load needs an address of its own: a launch token opens once.
  const embedAddress = async () => {
    const response = await page.request.post('/api/v1/portal/sessions', { headers: { 'x-api-key': key! }, data: {} });
    expect(response.status()).toBe(201);
    const url = new URL((await response.json()).url);
    return url.pathname + url.search;
  };

  // Bytes as sent (compressed bodies) of every file the page fetched before it hydrated.
  const before = async () =>
    page.evaluate(() => {
      const hydratedAt = (window as unknown as { qbHydratedAt: number }).qbHydratedAt;
      const [navigation] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
      const files: Record<string, number> = { html: navigation.encodedBodySize };
      for (const entry of performance.getEntriesByType('resource') as PerformanceResourceTiming[]) {
        // The live stream is no download: it stays open for as long as the page.
        if (entry.startTime > hydratedAt || entry.name.includes('/api/v1/usage/stream')) continue;
        const kind = entry.name.match(/\.(wasm|js|css)(\?|$)/)?.[1] ?? 'other';
        files[kind] = (files[kind] ?? 0) + entry.encodedBodySize;
      }
      return files;
    });
  const load = async (path: string, timeout = 30_000) => {
    await page.goto(path, { timeout });
    await page.waitForFunction(() => (window as unknown as { qbHydratedAt?: number }).qbHydratedAt !== undefined, null, {
      timeout,
    });
    return page.evaluate(() => (window as unknown as { qbHydratedAt: number }).qbHydratedAt);
  };
  await load('/usage');
  const bytes = await before();
  await load(await embedAddress());
  const embedBytes = await before();

  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 150,
    downloadThroughput: (1.6 * 1024 * 1024) / 8,
    uploadThroughput: (750 * 1024) / 8,
  });
  const interactive: number[] = [];
  const embedInteractive: number[] = [];
  for (let i = 0; i < PHONE_LOADS; i++) {
    interactive.push(await load('/usage', 60_000));
    embedInteractive.push(await load(await embedAddress(), 60_000));
  }
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

  // How a page and a JSON answer travel when the client takes brotli or gzip.
  const encoding = async (path: string, accept: string) =>
    (await page.request.get(path, { headers: { 'accept-encoding': accept } })).headers()['content-encoding'] ?? 'identity';
  const compression = {
    page_br: await encoding('/usage', 'br'),
    json_br: await encoding('/api/v1/billing/subscription', 'br'),
    json_gzip: await encoding('/api/v1/billing/subscription', 'gzip'),
    stream: await page.evaluate(async () => {
      const controller = new AbortController();
      const response = await fetch('/api/v1/usage/stream', { signal: controller.signal });
      const encoding = response.headers.get('content-encoding') ?? 'identity';
      controller.abort();
      return encoding;
    }),
  };
  writeFileSync(
    out!,
    JSON.stringify({
      bytes,
      phone_interactive_ms: percentiles(interactive),
      embed_bytes: embedBytes,
      embed_phone_interactive_ms: percentiles(embedInteractive),
      compression,
    }),
  );
});
