// /usage: server-rendered bars, hydration without errors, colours by band, filters in the URL,
// the 12-month chart and live updates.
import { test, expect, type Page } from '@playwright/test';
import { collectErrors, recordHydration, signIn, signInRequest, waitForHydration, waitForLive } from './helpers';

test.beforeEach(async ({ page }) => {
  await signIn(page);
});

// Demo dataset (Acme Cloud on the Pro plan, its sums at their whole period: demo.setup.ts):
// name → [aria-valuenow, band, fill colour of the band in style/main.css].
const bars: [string, string, string, string][] = [
  ['API Calls', '52', 'green', 'rgb(26, 127, 55)'],
  ['Storage', '82.5', 'yellow', 'rgb(154, 103, 0)'],
  ['Team Seats', '90', 'yellow', 'rgb(154, 103, 0)'],
  ['Bandwidth', '96.2', 'red', 'rgb(207, 34, 46)'],
  ['Emails', '100', 'red', 'rgb(207, 34, 46)'],
  ['Webhook Events', '0', 'green', 'rgb(26, 127, 55)'],
  ['SMS', '24', 'green', 'rgb(26, 127, 55)'],
  ['WhatsApp', '62', 'green', 'rgb(26, 127, 55)'],
  ['E-mail', '40', 'green', 'rgb(26, 127, 55)'],
  ['Sage', '75', 'green', 'rgb(26, 127, 55)'],
  ['Webhooks', '40', 'green', 'rgb(26, 127, 55)'],
];

test('the server-rendered HTML already holds every bar', async ({ request }) => {
  await signInRequest(request);
  const response = await request.get('/usage');

  expect(response.status()).toBe(200);
  // Hydration markers (`<!>`) are not content.
  const html = (await response.text()).replaceAll('<!>', '');
  expect(html.match(/role="progressbar"/g)).toHaveLength(bars.length);
  for (const [name] of bars) expect(html).toContain(`>${name}</span>`);
});

test('the page hydrates with no console errors and no page errors', async ({ page }) => {
  const errors = collectErrors(page);

  await page.goto('/usage');
  await waitForLive(page);

  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Usage for \d{1,2} [A-Z][a-z]{2} \d{4} – \d{1,2} [A-Z][a-z]{2} \d{4}$/);
  expect(errors).toEqual([]);
});

test('each bar is a named progressbar coloured by its band', async ({ page }) => {
  await page.goto('/usage');

  for (const [name, value, band, colour] of bars) {
    const bar = page.getByRole('progressbar', { name, exact: true });
    await expect(bar).toHaveAttribute('aria-valuenow', value);
    await expect(bar).toHaveAttribute('aria-valuemin', '0');
    await expect(bar).toHaveAttribute('aria-valuemax', '100');
    await expect(bar.locator('..')).toHaveAttribute('data-band', band);
    await expect(bar.locator('.usage-bar__fill')).toHaveCSS('background-color', colour);
    // The band is also said in words, not by colour alone.
    const status = bar.locator('..').locator('.usage-bar__status');
    if (band === 'green') await expect(status).toHaveCount(0);
    else await expect(status).toHaveText(band === 'yellow' ? 'Warning' : 'Critical');
  }
  await expect(page.getByText('Over limit by 3,000 emails')).toBeVisible();
  await expect(page.getByText('Unlimited')).toBeVisible();
});

test('filters change the URL and the content, and the back button restores them', async ({ page }) => {
  await page.goto('/usage');
  await waitForLive(page);

  const filters = page.getByRole('form', { name: 'Filters' });
  await filters.getByRole('checkbox', { name: 'Bandwidth' }).check();
  await filters.getByRole('checkbox', { name: 'Storage' }).check();
  await filters.getByRole('button', { name: 'Apply' }).click();

  await expect(page).toHaveURL(/\/usage\?metric=storage&metric=bandwidth$/);
  await expect(page.getByRole('progressbar')).toHaveCount(2);
  await expect(page.getByText(`Showing 2 of ${bars.length} metrics`)).toBeVisible();

  await filters.getByLabel('From', { exact: true }).fill('2026-01-01');
  await filters.getByLabel('To', { exact: true }).fill('2026-01-31');
  await filters.getByRole('button', { name: 'Apply' }).click();

  await expect(page).toHaveURL(/from=2026-01-01&to=2026-01-31/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Usage for 1 Jan 2026 – 31 Jan 2026');

  await page.goBack();
  await expect(page.getByRole('heading', { level: 1 })).not.toHaveText('Usage for 1 Jan 2026 – 31 Jan 2026');
  await expect(page.getByRole('progressbar')).toHaveCount(2);
  await page.goBack();
  await expect(page).toHaveURL(/\/usage$/);
  await expect(page.getByRole('progressbar')).toHaveCount(bars.length);

  // The filtered page is server-rendered too: shareable as a link.
  const html = await (await page.request.get('/usage?metric=storage')).text();
  expect(html.match(/role="progressbar"/g)).toHaveLength(1);
});

test('a banner names the metrics above the critical threshold or over their limit', async ({ page }) => {
  await page.goto('/usage');

  const banner = page.getByRole('region', { name: 'Close to or over a limit' });
  await expect(banner.getByRole('listitem')).toHaveText(['Bandwidth: 96.2%', 'Emails: 130%']);
});

test('the estimated cost card adds up the plan and the overage, overage in red', async ({ page }) => {
  await page.goto('/usage');

  const card = page.getByRole('region', { name: 'Estimated cost' });
  await expect(card).toContainText('Pro plan29.00 USD');
  await expect(card).toContainText('Total32.00 USD');
  await expect(card.locator('.cost-card__overage dd')).toHaveText('3.00 USD');
  await expect(card.locator('.cost-card__overage dd')).toHaveCSS('color', 'rgb(207, 34, 46)');
});

test('a growing metric shows where it is projected to end the period', async ({ page }) => {
  await page.goto('/usage');

  const apiCalls = page.locator('[data-metric="apiCalls"]');
  await expect(apiCalls.locator('.usage-bar__projection')).toHaveCount(1);
  await expect(apiCalls.locator('.usage-bar__projected')).toHaveText(/^Projected [\d,]+ requests \([\d.]+%\) by period end$/);
  // A gauge stays where it is: no projection.
  await expect(page.locator('[data-metric="storage"] .usage-bar__projected')).toHaveCount(0);
});

test('messages by channel and mails by account are tables with headers', async ({ page }) => {
  await page.goto('/usage');

  const channels = page.getByRole('table').filter({ hasText: 'Channel' });
  await expect(channels.getByRole('row')).toHaveCount(5);
  await expect(channels.getByRole('row', { name: /WhatsApp/ })).toContainText('310');
  const accounts = page.getByRole('region', { name: 'Mails by account' });
  await expect(accounts.getByRole('columnheader')).toHaveText(['Account', 'Domain', 'Relay', 'Mails']);
  await expect(accounts.getByRole('row', { name: /no-reply@acme\.example/ })).toContainText('Yes');
});

/** The ECharts instance on the history chart, as the page sees it. */
async function chartOption(page: Page): Promise<{ months: string[]; usage: number[]; cost: number[] } | null> {
  return page.evaluate(() => {
    const echarts = (window as unknown as { echarts?: { getInstanceByDom(e: Element): { getOption(): any } | undefined } }).echarts;
    const element = document.getElementById('history-chart');
    const chart = echarts && element ? echarts.getInstanceByDom(element) : undefined;
    if (!chart) return null;
    const option = chart.getOption();
    return { months: option.xAxis[0].data, usage: option.series[0].data, cost: option.series[1].data };
  });
}

/** The history table's rows: month, usage, cost (as numbers). */
async function historyTable(page: Page): Promise<[string, number][]> {
  const rows = page.locator('.history__table tbody tr');
  const count = await rows.count();
  const out: [string, number][] = [];
  for (let i = 0; i < count; i++) {
    const month = (await rows.nth(i).locator('th').innerText()).trim();
    const used = Number((await rows.nth(i).locator('td').first().innerText()).replace(/,/g, ''));
    out.push([month, used]);
  }
  return out;
}

test('the history chart draws 12 months and follows the metric selector, as the table does', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/usage');
  await waitForLive(page);

  await expect(page.locator('#history-chart canvas')).toHaveCount(1);
  await expect.poll(async () => (await chartOption(page))?.months.length).toBe(12);
  const table = await historyTable(page);
  expect(table).toHaveLength(12);
  let option = await chartOption(page);
  expect(option?.months).toEqual(table.map(([month]) => month));
  expect(option?.usage).toEqual(table.map(([, used]) => used));

  await page.getByLabel('Metric', { exact: true }).selectOption({ label: 'Storage' });

  await expect.poll(async () => (await chartOption(page))?.usage).toEqual((await historyTable(page)).map(([, used]) => used));
  option = await chartOption(page);
  expect(option?.usage).not.toEqual(table.map(([, used]) => used));
  await expect(page.locator('.history__table thead')).toContainText('(GB)');
  expect(errors).toEqual([]);
});

test('an event posted to /api/v1/events shows on an open page in under a second', async ({ page, playwright, baseURL }) => {
  // Globex, so the exact Acme figures other specs check stay as they are.
  await page.goto('/usage');
  await page.getByLabel('Organization').selectOption({ label: 'Globex Mail' });
  await page.getByRole('button', { name: 'Switch' }).click();
  await expect(page.locator('.page-header__org')).toHaveText('Globex Mail');
  await waitForLive(page);
  const created = await page.request.post('/api/v1/api-keys', { data: { name: 'live test', role: 'admin' } });
  expect(created.status()).toBe(201);
  const key = (await created.json()).key as string;
  const amount = page.locator('[data-metric="emails"] .usage-bar__amount');
  const before = await amount.innerText();
  const used = Number(before.split(' / ')[0].replace(/,/g, ''));
  const api = await playwright.request.newContext({ baseURL });

  const sent = Date.now();
  const response = await api.post('/api/v1/events', {
    headers: { 'x-api-key': key },
    data: { events: [{ id: `live-${sent}`, metric: 'emails', quantity: 7 }] },
  });
  expect(response.status()).toBe(200);
  await expect(amount).toHaveText(new RegExp(`^${(used + 7).toLocaleString('en-US')} / `), { timeout: 1000 });

  expect(Date.now() - sent).toBeLessThan(1000);
  await api.dispose();
});

test('the charts bundle is fetched only where a chart is drawn, and never before the page is interactive', async ({ page }) => {
  const fetched: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/vendor/echarts')) fetched.push(request.url());
  });
  await page.goto('/settings/keys');
  await waitForHydration(page);
  expect(fetched, 'a page without a chart').toEqual([]);

  await recordHydration(page);
  await page.goto('/usage');
  await waitForLive(page);
  await expect.poll(async () => (await chartOption(page))?.months.length).toBe(12);
  expect(fetched).toHaveLength(1);
  // Asked for only once the page is interactive: the bundle is no part of its first load.
  const [hydratedAt, chartsAt] = await page.evaluate(() => [
    (window as unknown as { qbHydratedAt: number }).qbHydratedAt,
    performance.getEntriesByType('resource').find((entry) => entry.name.includes('/vendor/echarts'))?.startTime,
  ]);
  expect(chartsAt).toBeGreaterThan(hydratedAt!);
  // Away and back inside the app: the chart is drawn again with the script already loaded.
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'License', exact: true }).click();
  await expect(page).toHaveURL(/\/license$/);
  await nav.getByRole('link', { name: 'Usage', exact: true }).click();
  await expect(page).toHaveURL(/\/usage$/);
  await expect.poll(async () => (await chartOption(page))?.months.length).toBe(12);
  expect(fetched).toHaveLength(1);
});

test('leaving /usage inside the app closes its live stream, and coming back opens one', async ({ page }) => {
  const streams: { ended: boolean }[] = [];
  const ended = (request: { url(): string }) => {
    const index = opened.indexOf(request);
    if (index >= 0) streams[index].ended = true;
  };
  const opened: unknown[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/api/v1/usage/stream')) {
      opened.push(request);
      streams.push({ ended: false });
    }
  });
  page.on('requestfailed', ended);
  page.on('requestfinished', ended);

  await page.goto('/usage');
  await waitForLive(page);
  expect(streams).toEqual([{ ended: false }]);

  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'License', exact: true }).click();
  await expect(page).toHaveURL(/\/license$/);
  await waitForHydration(page);
  // The page that went away stops listening: no stream is left open behind the next page.
  await expect.poll(() => streams.map((stream) => stream.ended)).toEqual([true]);

  await nav.getByRole('link', { name: 'Usage', exact: true }).click();
  await waitForLive(page);
  expect(streams.map((stream) => stream.ended)).toEqual([true, false]);
});
