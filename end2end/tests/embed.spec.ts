// The embeddable usage view in another site's page: a host page served from a second origin
// (`localhost` on a port of its own, another site than the app's 127.0.0.1) frames a portal
// session's address as README's example does. No cookie is involved: the browser context
// never signs in.
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createKey } from './cli-keys';
import { collectErrors, signIn } from './helpers';

/** README's host page: the iframe and the resize listener, taking the view's address from `?src=`. */
function hostPage(app: string, src: string): string {
  return `<!doctype html><html><head><title>Host</title></head><body>
<h1>Your product</h1>
<iframe id="usage" src="${src}" title="Usage" style="width: 100%; border: 0"></iframe>
<script>
  window.heights = [];
  window.addEventListener('message', (event) => {
    if (event.origin !== ${JSON.stringify(app)}) return;
    if (event.data?.type === 'quotaboard:resize') {
      document.getElementById('usage').style.height = event.data.height + 'px';
      window.heights.push(event.data.height);
    }
    if (event.data?.type === 'quotaboard:ended') window.ended = event.data.reason;
  });
</script></body></html>`;
}

/** A server of host pages on all interfaces; its origin as `http://localhost:<port>`. */
async function hostServer(app: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((request, response) => {
    const src = new URL(request.url ?? '/', 'http://localhost').searchParams.get('src') ?? '';
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(hostPage(app, src.replaceAll('"', '&quot;')));
  });
  await new Promise<void>((resolve) => server.listen(0, resolve));
  return { server, origin: `http://localhost:${(server.address() as AddressInfo).port}` };
}

let allowed: { server: Server; origin: string };
let elsewhere: { server: Server; origin: string };
let key: string;

test.beforeAll(async ({ baseURL }) => {
  allowed = await hostServer(baseURL!);
  elsewhere = await hostServer(baseURL!);
  // Globex: the Acme figures other specs check stay as they are.
  key = createKey('globex', 'embed e2e');
});

test.afterAll(async () => {
  allowed.server.close();
  elsewhere.server.close();
});

/** Lets `origin` frame globex's view (once). */
async function allow(request: APIRequestContext, origin: string): Promise<void> {
  const response = await request.post('/api/v1/embed-origins', { headers: { 'x-api-key': key }, data: { origin } });
  expect([201, 409]).toContain(response.status());
}

/** A new portal session of globex, as the operator's server makes one. */
async function session(request: APIRequestContext, body: object = {}): Promise<{ id: string; token: string; url: string }> {
  const response = await request.post('/api/v1/portal/sessions', { headers: { 'x-api-key': key }, data: body });
  expect(response.status()).toBe(201);
  return response.json();
}

/** Opens the host page at `host` framing `url`. */
async function openHost(page: Page, host: string, url: string): Promise<void> {
  await page.goto(`${host}/?src=${encodeURIComponent(url)}`);
}

test('the view in an allowed site shows the bars live, tells its height and shows one organization', async ({ page, request }) => {
  await allow(request, allowed.origin);
  const { url } = await session(request, { locale: 'pt-BR', theme: 'dark' });
  const appRequests: string[] = [];
  page.on('request', (r) => {
    if (r.url().startsWith(new URL(url).origin) && r.headers()['cookie']) appRequests.push(r.url());
  });

  await openHost(page, allowed.origin, url);
  const frame = page.frameLocator('#usage');
  await expect(frame.locator('main[data-hydrated]')).toHaveCount(1, { timeout: 15_000 });
  await expect(frame.locator('.live')).toHaveAttribute('data-state', 'live');
  // The session's language and theme.
  await expect(frame.locator('html')).toHaveAttribute('lang', 'pt-BR');
  await expect(frame.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(frame.locator('h1')).toContainText('Uso de');
  // Bars in their bands, the history chart and the limits.
  const bars = frame.locator('.usage-bars [role="progressbar"]');
  expect(await bars.count()).toBeGreaterThan(0);
  await expect(frame.locator('.history')).toBeVisible();
  await expect(frame.locator('#embed-limits tbody tr').first()).toBeVisible();
  // Only globex: none of Acme's metrics or name.
  await expect(frame.locator('[data-metric="apiCalls"]')).toHaveCount(0);
  await expect(frame.locator('body')).not.toContainText('Acme');

  // The height message arrives and the host sizes the frame with it.
  await expect.poll(() => page.evaluate(() => (window as unknown as { heights: number[] }).heights.length)).toBeGreaterThan(0);
  const told = await page.evaluate(() => (window as unknown as { heights: number[] }).heights.at(-1)!);
  const box = await page.locator('#usage').boundingBox();
  expect(Math.abs(box!.height - told)).toBeLessThanOrEqual(1);
  expect(told).toBeGreaterThan(300);

  // An event ingested now reaches the view.
  const amount = frame.locator('[data-metric="emails"] .usage-bar__amount');
  const before = Number((await amount.innerText()).split(' / ')[0].replace(/\./g, ''));
  const sent = await request.post('/api/v1/events', {
    headers: { 'x-api-key': key },
    data: { events: [{ id: `embed-${Date.now()}`, metric: 'emails', quantity: 3 }] },
  });
  expect(sent.status()).toBe(200);
  await expect(amount).toHaveText(new RegExp(`^${(before + 3).toLocaleString('pt-BR')} / `), { timeout: 5_000 });
  expect(appRequests, 'no request of the view carries a cookie').toEqual([]);
});

test('the address opens once, and a revoked session shows its message in the open frame', async ({ page, request }) => {
  await allow(request, allowed.origin);
  const { id, url } = await session(request);
  await openHost(page, allowed.origin, url);
  const frame = page.frameLocator('#usage');
  await expect(frame.locator('.live')).toHaveAttribute('data-state', 'live', { timeout: 15_000 });

  // The same address in another tab: its launch token was used.
  const again = await page.context().newPage();
  await openHost(again, allowed.origin, url);
  await expect(again.frameLocator('#usage').locator('main[data-ended="used"]')).toHaveCount(1);
  await expect(again.frameLocator('#usage').getByRole('status')).toContainText('This usage view was opened already.');
  await again.close();

  const revoked = await request.delete(`/api/v1/portal/sessions/${id}`, { headers: { 'x-api-key': key } });
  expect(revoked.status()).toBe(204);
  await expect(frame.locator('main[data-ended="revoked"]')).toHaveCount(1, { timeout: 15_000 });
  await expect(frame.getByRole('status')).toContainText('This usage view was closed.');
  await expect.poll(() => page.evaluate(() => (window as unknown as { ended?: string }).ended)).toBe('revoked');
});

test('a site not on the list cannot frame the view', async ({ page, request }) => {
  await allow(request, allowed.origin);
  const { url } = await session(request);
  const refusals: string[] = [];
  page.on('console', (message) => {
    if (message.text().includes('frame-ancestors')) refusals.push(message.text());
  });

  await openHost(page, elsewhere.origin, url);

  await expect.poll(() => refusals.length).toBeGreaterThan(0);
  expect(refusals[0]).toContain(allowed.origin);
  await expect(page.frameLocator('#usage').locator('main')).toHaveCount(0);
});

test('an admin lists the origins that may frame the view on the settings page', async ({ page }) => {
  const errors = collectErrors(page);
  await signIn(page);
  await page.goto('/settings/embedding');
  const origin = page.getByLabel('Origin', { exact: true });

  await origin.fill('https://shop.example.com/page');
  await page.getByRole('button', { name: 'Add origin' }).click();
  await expect(page.getByRole('alert')).toContainText('such as https://app.example.com');

  await origin.fill('https://Shop.Example.com');
  await page.getByRole('button', { name: 'Add origin' }).click();
  const row = page.locator('tr[data-origin="https://shop.example.com"]');
  await expect(row).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);

  await row.getByRole('button', { name: 'Remove https://shop.example.com' }).click();
  await expect(row).toHaveCount(0);
  expect(errors).toEqual([]);
});
