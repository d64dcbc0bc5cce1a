// /usage: server-rendered bars, hydration without errors, colours by band, the metric filter.
import { test, expect, type Page } from '@playwright/test';

/** Every console error and uncaught page error from now on. */
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  return errors;
}

/** The metric filter is disabled until the WASM app has hydrated the page. */
async function waitForHydration(page: Page): Promise<void> {
  await expect(page.getByRole('button', { name: 'API Calls' })).toBeEnabled();
}

// Demo dataset (Acme Cloud on the Pro plan): name → [aria-valuenow, band, fill colour of the band in style/main.css].
const bars: [string, string, string, string][] = [
  ['API Calls', '45.23', 'green', 'rgb(26, 127, 55)'],
  ['Storage', '82.5', 'yellow', 'rgb(154, 103, 0)'],
  ['Team Seats', '90', 'yellow', 'rgb(154, 103, 0)'],
  ['Bandwidth', '96.24', 'red', 'rgb(207, 34, 46)'],
  ['Emails', '100', 'red', 'rgb(207, 34, 46)'],
  ['Webhook Events', '0', 'green', 'rgb(26, 127, 55)'],
  ['SMS', '24', 'green', 'rgb(26, 127, 55)'],
  ['WhatsApp', '62', 'green', 'rgb(26, 127, 55)'],
  ['E-mail', '40', 'green', 'rgb(26, 127, 55)'],
  ['Sage', '75', 'green', 'rgb(26, 127, 55)'],
  ['Webhooks', '40', 'green', 'rgb(26, 127, 55)'],
];

test('the server-rendered HTML already holds every bar', async ({ request }) => {
  const response = await request.get('/usage');

  expect(response.status()).toBe(200);
  const html = await response.text();
  expect(html.match(/role="progressbar"/g)).toHaveLength(bars.length);
  for (const [name] of bars) expect(html).toContain(`>${name}</span>`);
});

test('the page hydrates with no console errors and no page errors', async ({ page }) => {
  const errors = collectErrors(page);

  await page.goto('/usage');
  await waitForHydration(page);

  await expect(page.getByRole('heading', { level: 1 })).toContainText('Usage for');
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

test('the metric filter hides and shows bars without reloading the page', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/usage');
  await waitForHydration(page);
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));
  const toggle = page.getByRole('button', { name: 'Bandwidth' });
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');

  await toggle.click();

  await expect(page.getByRole('progressbar', { name: 'Bandwidth', exact: true })).toBeHidden();
  await expect(page.getByRole('progressbar')).toHaveCount(bars.length - 1);
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(page.getByText(`Showing ${bars.length - 1} of ${bars.length} metrics`)).toBeVisible();

  await toggle.click();

  await expect(page.getByRole('progressbar', { name: 'Bandwidth', exact: true })).toBeVisible();
  await expect(page.getByRole('progressbar')).toHaveCount(bars.length);
  expect(await page.evaluate(() => (window as unknown as { marker: string }).marker)).toBe(
    'same page',
  );
  expect(errors).toEqual([]);
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
