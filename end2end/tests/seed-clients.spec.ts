// Seed 002's own React client (end2end/seed-clients/), bundled by esbuild and run in Chromium on the server's origin against each demo organization.
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { buildSync } from 'esbuild';
import { join } from 'node:path';
import { createKey, ORGANIZATIONS, wrongKey, type Slug } from './cli-keys';
import { collectErrors } from './helpers';

const clients = join(__dirname, '..', 'seed-clients');
const PAGE = '/__seed002__';

/** The query `getUsage` takes (the seed's `UsageParams`). */
interface UsageParams {
  startDate?: string;
  endDate?: string;
  metrics?: string[];
}

/** What main.tsx puts on `window`. */
type SeedWindow = Window & {
  getUsage(params?: UsageParams): Promise<any>;
  setSessionToken(token: string): void;
};

interface Metric {
  name: string;
  unit: string;
  included: number;
  used: number;
  percentage: number;
}

interface UsageData {
  period: { start: string; end: string };
  metrics: Record<string, Metric>;
  estimatedCost: { total: number; overage: number };
  projectedUsage: Record<string, { projected: number; percentage: number }>;
}

/** main.tsx, the seed's code and React in production mode, as one classic script. */
function bundle(): string {
  const result = buildSync({
    entryPoints: [join(clients, 'main.tsx')],
    tsconfig: join(clients, 'tsconfig.json'),
    bundle: true,
    format: 'iife',
    jsx: 'automatic',
    target: 'es2022',
    define: { 'process.env.NODE_ENV': '"production"' },
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/** The page, with `key` in place before the bundle runs; an inline script would end at the first `</script`. */
function pageHtml(script: string, key: string): string {
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Seed 002 client</title>',
    // Chromium would otherwise ask the server for /favicon.ico.
    '<link rel="icon" href="data:,"></head><body><div id="root"></div>',
    `<script>window.__QB_TOKEN = ${JSON.stringify(key)};</script>`,
    `<script>${script.replace(/<\/script/gi, '<\\/script')}</script>`,
    '</body></html>',
  ].join('\n');
}

/** A direct request for the same query `getUsage` sends. */
async function direct(request: APIRequestContext, key: string, params: UsageParams = {}): Promise<any> {
  const query: Record<string, string> = {};
  if (params.startDate) query.startDate = params.startDate;
  if (params.endDate) query.endDate = params.endDate;
  if (params.metrics) query.metrics = params.metrics.join(',');
  const response = await request.get('/api/billing/usage', { headers: { authorization: `Bearer ${key}` }, params: query });
  const text = await response.text();
  expect(response.status(), `GET ${response.url()} answered ${text}`).toBe(200);
  return JSON.parse(text);
}

async function getUsage(page: Page, params?: UsageParams): Promise<any> {
  return page.evaluate((params) => (window as unknown as SeedWindow).getUsage(params), params);
}

/**
 * The two answers agree. Over a range that holds the present, projections extend usage to the
 * period's end as of the moment asked, so two requests a moment apart differ in them by a hair:
 * those are compared closely, not exactly, and everything else exactly.
 */
function expectSameUsage(fromPage: any, fromServer: any, live: boolean): void {
  if (!live) {
    expect(fromPage).toEqual(fromServer);
    return;
  }
  const withoutProjections = (body: any) => ({ ...body, data: { ...body.data, projectedUsage: Object.keys(body.data.projectedUsage) } });
  expect(withoutProjections(fromPage)).toEqual(withoutProjections(fromServer));
  for (const [code, projection] of Object.entries<any>(fromServer.data.projectedUsage)) {
    for (const field of ['projected', 'percentage']) {
      const [got, want] = [fromPage.data.projectedUsage[code][field], projection[field]];
      expect(typeof got, `projectedUsage.${code}.${field}`).toBe(typeof want);
      if (typeof want === 'number') {
        expect(Math.abs(got - want), `projectedUsage.${code}.${field}: ${got} vs ${want}`).toBeLessThanOrEqual(Math.max(0.01, Math.abs(want) * 1e-3));
      }
    }
  }
}

/** The seed's colour rule. */
function colour(percentage: number): string {
  return percentage > 90 ? 'red' : percentage > 75 ? 'yellow' : 'green';
}

/** What the dashboard shows, read from its DOM. */
async function shownDashboard(page: Page) {
  return page.locator('.usage-dashboard').evaluate((dashboard) => ({
    heading: dashboard.querySelector('h2')?.textContent,
    bars: [...dashboard.querySelectorAll('.usage-metric')].map((bar) => {
      const fill = bar.querySelector<HTMLElement>('.progress-bar > .progress-fill');
      return {
        name: bar.querySelector('.flex > span:nth-child(1)')?.textContent,
        amounts: bar.querySelector('.flex > span:nth-child(2)')?.textContent,
        used: bar.querySelector(':scope > .text-sm')?.textContent,
        className: fill?.className,
        width: fill?.style.width,
      };
    }),
    cost: dashboard.querySelector('.estimated-cost')?.textContent,
  }));
}

/** What it should show for `data`: numbers formatted by the page's own `toLocaleString`. */
async function expectedDashboard(page: Page, data: UsageData) {
  const texts = await page.evaluate((data) => {
    const { total, overage } = data.estimatedCost;
    return {
      amounts: Object.values(data.metrics).map((m) => `${m.used.toLocaleString()} / ${m.included.toLocaleString()} ${m.unit}`),
      used: Object.values(data.metrics).map((m) => `${m.percentage.toFixed(1)}% used`),
      cost: `Estimated cost: $${total.toFixed(2)}` + (overage > 0 ? `(includes $${overage.toFixed(2)} overage)` : ''),
    };
  }, data);
  return {
    heading: `Usage for ${data.period.start} - ${data.period.end}`,
    bars: Object.values(data.metrics).map((m, i) => ({
      name: m.name,
      amounts: texts.amounts[i],
      used: texts.used[i],
      className: `progress-fill bg-${colour(m.percentage)}-500`,
      width: `${Math.min(m.percentage, 100)}%`,
    })),
    cost: texts.cost,
  };
}

let script = '';
const keys = new Map<Slug, string>();
test.beforeAll(() => {
  script = bundle();
  for (const slug of ORGANIZATIONS) keys.set(slug, createKey(slug, 'seed-client'));
});

for (const slug of ORGANIZATIONS) {
  test(`${slug}: seed 002's UsageDashboard and getUsage show what the API answers`, async ({ page, request, baseURL }) => {
    test.setTimeout(60_000);
    const key = keys.get(slug)!;
    const errors = collectErrors(page);
    await page.route(`${baseURL}${PAGE}`, (route) =>
      route.fulfill({ contentType: 'text/html', body: pageHtml(script, key) }),
    );

    // Other specs send events and change Initech's license while this runs: a page and a
    // direct request that straddle such a change are taken again, together.
    let data: UsageData | undefined;
    await expect(async () => {
      const fromServer = await direct(request, key);
      await page.goto(PAGE);
      // A render that throws leaves no dashboard, only a page error: wait for whichever comes.
      const dashboard = page.locator('.usage-dashboard');
      await expect.poll(async () => errors.length > 0 || (await dashboard.count()) > 0, { timeout: 10_000 }).toBe(true);
      // A page error is no race with another spec: it is reported below, without retrying.
      if (errors.length > 0) return;
      data = fromServer.data as UsageData;
      expect(await shownDashboard(page)).toEqual(await expectedDashboard(page, data));
    }).toPass({ timeout: 30_000 });
    expect(errors).toEqual([]);
    const codes = Object.keys(data!.metrics);
    expect(codes.length, `${slug} has metrics`).toBeGreaterThan(0);
    await expect(page.locator('.usage-metric')).toHaveCount(codes.length);
    await expect(page.locator('.estimated-cost')).toContainText(`Estimated cost: $${data!.estimatedCost.total.toFixed(2)}`);

    // getUsage with the seed's parameters returns what the same query answers directly.
    const now = new Date();
    const [year, month] = [now.getUTCFullYear(), now.getUTCMonth()];
    const day = (m: number, d: number) => new Date(Date.UTC(year, m, d)).toISOString().slice(0, 10);
    const some = [...new Set([codes[0], codes[codes.length - 1]])];
    const queries: [UsageParams, boolean][] = [
      [{ startDate: day(month - 1, 3), endDate: day(month - 1, 20) }, false],
      [{ startDate: day(month, 1), endDate: day(month + 1, 0) }, true],
      [{ metrics: some }, true],
    ];
    for (const [params, live] of queries) {
      await expect(async () => {
        const fromPage = await getUsage(page, params);
        expectSameUsage(fromPage, await direct(request, key, params), live);
        if (params.metrics) expect(Object.keys(fromPage.data.metrics)).toEqual(params.metrics);
      }, JSON.stringify(params)).toPass({ timeout: 15_000 });
    }
    expect(errors).toEqual([]);

    // The seed's documented errors, as getUsage hands them back.
    const answered = (predicate: (authorization: string, url: string) => boolean) =>
      page.waitForResponse(
        async (r) =>
          r.url().includes('/api/billing/usage') &&
          predicate((await r.request().headerValue('authorization')) ?? '', r.url()),
      );
    const [backwardsResponse, backwards] = await Promise.all([
      answered((_, url) => url.includes('startDate=2024-02-01')),
      getUsage(page, { startDate: '2024-02-01', endDate: '2024-01-01' }),
    ]);
    expect(backwardsResponse.status()).toBe(400);
    expect(backwards).toEqual({ success: false, error: { code: 'BAD_REQUEST', message: expect.any(String) } });

    const wrong = wrongKey(key);
    const [unauthorizedResponse, unauthorized] = await Promise.all([
      answered((authorization) => authorization === `Bearer ${wrong}`),
      page.evaluate(
        async ([wrong, key]) => {
          const seed = window as unknown as SeedWindow;
          seed.setSessionToken(wrong);
          try {
            return await seed.getUsage();
          } finally {
            seed.setSessionToken(key);
          }
        },
        [wrong, key],
      ),
    ]);
    expect(unauthorizedResponse.status()).toBe(401);
    expect(unauthorized).toEqual({ success: false, error: { code: 'UNAUTHORIZED', message: expect.any(String) } });

    // Chromium reports every 4xx answer to a fetch on the console; those two were asked for.
    const asked = /Failed to load resource: the server responded with a status of (400|401)\b/;
    expect(errors.filter((e) => !asked.test(e))).toEqual([]);
  });
}
