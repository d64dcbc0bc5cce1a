// /api/docs: the API reference renders from our own origin, styled, with every section.
import { test, expect } from '@playwright/test';

test('the API reference loads nothing from another origin and links every operation', async ({ page, baseURL }) => {
  const foreign: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(baseURL ?? '')) foreign.push(request.url());
  });

  await page.goto('/api/docs');

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('quotaboard API reference');
  await page.getByRole('link', { name: 'GET /api/billing/usage' }).click();
  await expect(page.locator('section:target h2')).toHaveText('GET /api/billing/usage');
  // The dashboard's stylesheet applies: sections are cards on the page.
  await expect(page.locator('section').first()).toHaveCSS('border-top-style', 'solid');
  const document = await page.request.get('/api/openapi.json');
  expect((await document.json()).openapi).toMatch(/^3\.1\./);
  expect(foreign).toEqual([]);
});
