// Two figures of `make bench`, measured in Chromium against the running release server:
// time from navigation to a hydrated /usage, and from sending an event to seeing it on an
// open /usage page. Writes percentiles to QB_BENCH_OUT.
import { test, expect, type Page } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { signIn, waitForLive } from '../tests/helpers';

const LOADS = 30;
const EVENTS = 60;

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return { samples: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1] };
}

/** Records, in the page's clock since navigation start, when `main[data-hydrated]` appears. */
async function recordHydration(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { qbHydratedAt?: number };
    const seen = () => {
      if (w.qbHydratedAt === undefined && document.querySelector('main[data-hydrated]')) {
        w.qbHydratedAt = performance.now();
      }
    };
    new MutationObserver(seen).observe(document, { subtree: true, childList: true, attributes: true });
  });
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
