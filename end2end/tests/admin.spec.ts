// The operator's side: editing a license shows on the customer's pages at once, the audit
// log records it, anyone else is refused, and threshold alerts reach a webhook and its log.
// Uses Initech (Enterprise license) so the other specs' Acme figures stay as they are.
import { test, expect, type Page } from '@playwright/test';
import { createServer, type IncomingMessage } from 'node:http';
import { collectErrors, MEMBER, OPERATOR, PASSWORD, signIn, waitForHydration } from './helpers';

const CUSTOMER = 'owner@initech.example';

async function signInAs(page: Page, email: string): Promise<void> {
  const response = await page.request.post('/login', {
    form: { email, password: PASSWORD, next: '/usage' },
    maxRedirects: 0,
  });
  expect(response.status()).toBe(303);
}

test('an operator edits a limit; the customer sees it on /license and /usage; the audit log has it', async ({ page, browser }) => {
  const errors = collectErrors(page);
  await signIn(page, OPERATOR);
  const customer = await browser.newPage();
  await signInAs(customer, CUSTOMER);
  await customer.goto('/usage');
  await expect(customer.getByRole('progressbar', { name: 'Team Seats', exact: true })).toHaveAttribute('aria-valuenow', '42');

  await page.goto('/admin/licenses');
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Enterprise', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Edit Enterprise');
  const seats = page.locator('tr[data-metric="seats"]');
  await expect(seats.locator('input[name$="[amount]"]')).toHaveValue('100');
  await seats.locator('input[name$="[amount]"]').fill('50');
  // A hard limit below the included amount is refused unless meant.
  await seats.getByRole('checkbox', { name: 'Team Seats (users) – Hard limit' }).check();
  await seats.getByRole('textbox', { name: 'Team Seats (users) – Limit' }).fill('40');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('alert')).toContainText('the hard limit (40) is below the included amount (50)');
  await seats.getByRole('textbox', { name: 'Team Seats (users) – Limit' }).fill('60');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved: version 2.');

  await customer.goto('/license');
  await expect(customer.locator('tr[data-metric="seats"] td').first()).toHaveText('50 users (hard limit at 60 users)');
  await customer.goto('/usage');
  await expect(customer.getByRole('progressbar', { name: 'Team Seats', exact: true })).toHaveAttribute('aria-valuenow', '84');
  await expect(customer.locator('.usage-bar[data-metric="seats"] .usage-bar__cap')).toHaveText('Hard limit: requests for more are refused at 60 users.');

  await page.goto('/admin/audit?entity=license&q=enterprise');
  const entry = page.locator('tr[data-entity="license"]').first();
  await expect(entry).toContainText(OPERATOR);
  await expect(entry).toContainText('License: Enterprise');
  await expect(entry.locator('.audit-changes li')).toHaveText([
    'resources.seats.hardLimit: false → true',
    'resources.seats.included: 100 → 50',
    'resources.seats.limit: 60',
  ]);
  // The only failed request is the save refused above.
  expect(errors).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  await customer.close();
});

test('saving over a newer version says so and keeps what was typed', async ({ page, browser }) => {
  await signIn(page, OPERATOR);
  const other = await browser.newPage();
  await signInAs(other, OPERATOR);
  for (const tab of [page, other]) {
    await tab.goto('/admin/licenses');
    await waitForHydration(tab);
    await tab.getByRole('link', { name: 'Plano Básico', exact: true }).click();
    await expect(tab.getByRole('heading', { level: 1 })).toHaveText('Edit Plano Básico');
  }

  await other.getByLabel('Description').fill('Changed in the other tab');
  await other.getByRole('button', { name: 'Save' }).click();
  await expect(other.getByRole('status')).toContainText('Saved: version');
  await page.getByLabel('Description').fill('Typed here and not lost');
  await page.getByRole('button', { name: 'Save' }).click();

  await expect(page.getByRole('alert')).toContainText('Nothing was saved');
  await expect(page.getByLabel('Description')).toHaveValue('Typed here and not lost');
  await other.close();
});

test('a member is refused the operator pages and the operator server functions', async ({ page, browser }) => {
  // The address of the assign_license server function, as the operator's page posts to it.
  const operator = await browser.newPage();
  await signInAs(operator, OPERATOR);
  await operator.goto('/admin/organizations/acme');
  const assignLicense = await operator.locator('form:has(input[name="organization"])').getAttribute('action');
  expect(assignLicense).toMatch(/^\/api\/assign_license/);
  const license = await operator.getByLabel('License', { exact: true }).inputValue();
  await operator.close();

  await signIn(page, MEMBER);
  for (const path of ['/admin', '/admin/licenses', '/admin/licenses/1', '/admin/audit', '/admin/organizations/acme', '/admin/users']) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(403);
    await expect(page.getByRole('alert')).toContainText('You cannot see this page');
  }
  const refused = await page.request.post(assignLicense!, { form: { organization: 'acme', license } });
  expect(refused.status()).toBe(403);
});

test('the organization page shows its usage with the customer components and changes its license', async ({ page }) => {
  await signIn(page, OPERATOR);
  await page.goto('/admin');
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Initech', exact: true }).click();

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Initech');
  await expect(page.locator('.usage-bars').getByRole('progressbar', { name: 'Subscribers', exact: true })).toHaveAttribute('aria-valuenow', '98.99');
  await expect(page.getByRole('region', { name: 'Resource limits' })).toBeVisible();
  await expect(page.locator('#history-chart')).toBeVisible();
  const license = page.getByLabel('License', { exact: true });
  await expect(license.locator('option:checked')).toHaveText('Enterprise');

  for (const name of ['Pro', 'Enterprise']) {
    await license.selectOption({ label: name });
    await page.getByRole('button', { name: 'Change license' }).click();
    await expect(page.getByRole('status')).toContainText('License changed');
    await expect(page.locator('.cost-card')).toContainText(`${name} plan`);
  }
});

test('a threshold alert reaches the webhook, signed, and shows in its delivery log', async ({ page }) => {
  const received: { signature: string; body: string }[] = [];
  const receiver = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ signature: String(request.headers['x-quotaboard-signature'] ?? ''), body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  await signInAs(page, CUSTOMER);
  await page.goto('/settings/webhooks');
  await waitForHydration(page);
  await page.getByLabel('URL').first().fill(`http://127.0.0.1:${port}/quota`);
  await page.getByLabel('Thresholds (%)').first().fill('50');
  await page.getByRole('button', { name: 'Add webhook' }).click();
  await expect(page.locator('#new-webhook-secret')).toBeVisible();
  // Storage is the latest reading: 650 of Initech's 1 000 GB is past 50 %.
  const key = await page.request.post('/api/v1/api-keys', { data: { name: 'alerts e2e', role: 'admin' } });
  const secret = (await key.json()).key as string;
  const sent = await page.request.post('/api/v1/events', {
    headers: { authorization: `Bearer ${secret}` },
    data: { events: [{ id: `e2e-storage-${Date.now()}`, metric: 'storage', quantity: 650 }] },
  });
  expect(sent.status()).toBe(200);

  await expect.poll(() => received.length, { timeout: 10_000 }).toBe(1);
  expect(received[0].signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  const payload = JSON.parse(received[0].body);
  expect(payload.type).toBe('usage.threshold_crossed');
  expect(payload.data).toMatchObject({ metric: 'storage', threshold: 50, used: 650, included: 1000 });
  await page.reload();
  const log = page.locator('.delivery-log');
  await log.locator('summary').click();
  await expect(log.locator('tr[data-status="delivered"][data-threshold="50"]')).toHaveCount(1);
  receiver.close();
});
