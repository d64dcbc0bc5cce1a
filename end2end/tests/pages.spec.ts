// /license, /billing (search, sort, CSV), /settings/keys and /settings/webhooks.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { ADMIN, MEMBER, collectErrors, signIn, waitForHydration } from './helpers';

/** RFC 4180: fields, quoted fields with doubled quotes, CRLF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else field += c;
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  return rows;
}

test('the license page shows the plan and each resource limit with its band', async ({ page }) => {
  await signIn(page, MEMBER);
  await page.goto('/license');

  await expect(page.getByRole('heading', { name: 'Pro' })).toBeVisible();
  await expect(page.locator('.plan')).toContainText('29.00 USD per period');
  await expect(page.locator('.plan')).toContainText('Active');
  const limits = page.getByRole('region', { name: 'Resource limits' });
  await expect(limits.getByRole('columnheader')).toHaveText(['Resource', 'Limit', 'Used', 'Usage']);
  await expect(limits.locator('tbody tr')).toHaveCount(11);
  await expect(limits.locator('tr[data-metric="apiCalls"]')).toHaveAttribute('data-band', 'green');
  await expect(limits.locator('tr[data-metric="bandwidth"]')).toHaveAttribute('data-band', 'red');
  await expect(limits.locator('tr[data-metric="emails"]')).toContainText('Over limit');
  await expect(limits.locator('tr[data-metric="webhooks"]')).toContainText('Unlimited');
  await expect(limits.getByRole('progressbar', { name: 'Storage' })).toHaveAttribute('aria-valuenow', '82.5');
});

test('billing lists statements with line items, searches and sorts by URL', async ({ page }) => {
  const errors = collectErrors(page);
  await signIn(page);
  await page.goto('/billing');
  await waitForHydration(page);

  const rows = page.locator('.statements > tbody > tr');
  const all = await rows.count();
  expect(all).toBeGreaterThan(1);
  await rows.first().getByText(/Line items/).click();
  await expect(rows.first().locator('.line-items')).toContainText('Pro');
  await expect(rows.first().locator('.line-items thead')).toContainText('Unit price');

  await page.getByRole('link', { name: 'Amount' }).click();
  await expect(page).toHaveURL(/sort=amount/);
  await expect(page.locator('.statements > thead').getByRole('columnheader', { name: /^Amount/ })).toHaveAttribute('aria-sort', 'ascending');
  const amounts = await page.locator('.statements > tbody > tr > td:nth-child(2)').allInnerTexts();
  const numbers = amounts.map((a) => Number(a.replace(/[^\d.]/g, '')));
  expect([...numbers].sort((a, b) => a - b)).toEqual(numbers);

  await page.getByLabel('Search statements').fill('no such line item');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/q=no\+such\+line\+item|q=no%20such%20line%20item/);
  await expect(page.getByText('No statements match.')).toBeVisible();
  await page.goBack();
  await expect(rows).toHaveCount(all);
  expect(errors).toEqual([]);
});

test('CSV downloads of usage and of line items parse with one header row', async ({ page }) => {
  await signIn(page);
  await page.goto('/billing');

  for (const [link, header, width] of [
    ['Download usage (CSV)', 'period_start', 8],
    ['Download line items (CSV)', 'statement_id', 16],
  ] as const) {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: link }).click(),
    ]);
    const rows = parseCsv(readFileSync(await download.path(), 'utf8'));
    expect(rows[0][0]).toBe(header);
    expect(rows.length).toBeGreaterThan(2);
    for (const row of rows) expect(row).toHaveLength(width);
    expect(rows.slice(1).filter((r) => r[0] === header)).toHaveLength(0);
  }
});

test('an admin creates a key (shown once, copyable) and revokes it', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await signIn(page, ADMIN);
  await page.goto('/settings/keys');
  await waitForHydration(page);
  const name = `ci key ${Date.now()}`;

  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Role').selectOption('member');
  await page.getByRole('button', { name: 'Create key' }).click();

  const secret = page.locator('#new-key-secret');
  await expect(secret).toHaveText(/^qb_[0-9a-f]{12}_[0-9a-f]{64}$/);
  await page.getByRole('button', { name: 'Copy' }).click();
  await expect(page.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await secret.innerText());
  const row = page.getByRole('row', { name: new RegExp(name) });
  await expect(row).toContainText('Active');

  await row.getByRole('button', { name: `Revoke ${name}` }).click();
  await expect(row).toContainText('Revoked');
  await page.reload();
  await expect(page.locator('#new-key-secret')).toHaveCount(0);
});

test('a member sees the keys but no way to change them', async ({ page }) => {
  await signIn(page, MEMBER);
  await page.goto('/settings/keys');

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('API keys');
  await expect(page.getByRole('button', { name: 'Create key' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Revoke/ })).toHaveCount(0);
});

test('an admin adds a webhook, sees its secret once, and edits it', async ({ page }) => {
  await signIn(page, ADMIN);
  await page.goto('/settings/webhooks');
  await waitForHydration(page);
  const url = `https://hooks.example.com/${Date.now()}`;

  await page.getByLabel('URL').fill(url);
  await page.getByLabel('Thresholds (%)').fill('80, 95');
  await page.getByRole('button', { name: 'Add webhook' }).click();

  await expect(page.locator('#new-webhook-secret')).toHaveText(/^whsec_[0-9a-f]{64}$/);
  const card = page.locator('.webhook').filter({ hasText: url });
  await expect(card).toContainText('80, 95');

  await card.getByRole('button', { name: `Edit ${url}` }).click();
  await card.getByLabel('Thresholds (%)').fill('50, 75, 100');
  await card.getByRole('button', { name: 'Save' }).click();

  await expect(page.getByText('Saved.')).toBeVisible();
  await expect(page.locator('.webhook').filter({ hasText: url })).toContainText('50, 75, 100');
});

test('a key form sent before the page is interactive waits for it and shows the secret', async ({ page }) => {
  await signIn(page, ADMIN);
  // A slow link: the WASM arrives a second and a half after the page.
  await page.route('**/pkg/*.wasm', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await route.continue();
  });
  await page.goto('/settings/keys');
  const name = `early key ${Date.now()}`;
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.locator('main[data-hydrated]')).toHaveCount(0);

  await expect(page.locator('#new-key-secret')).toHaveText(/^qb_[0-9a-f]{12}_[0-9a-f]{64}$/, { timeout: 15_000 });
  await expect(page.getByRole('row', { name: new RegExp(name) })).toHaveCount(1);
});
