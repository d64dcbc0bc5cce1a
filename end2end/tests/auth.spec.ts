// Signing in and out: redirects for signed-out visitors, the form, every page, the switcher.
import { test, expect } from '@playwright/test';
import { ADMIN, MEMBER, OPERATOR, PAGES, PASSWORD, collectErrors, signIn } from './helpers';

test('a signed-out visit to any page is sent to /login and back after signing in', async ({ page }) => {
  const errors = collectErrors(page);

  await page.goto('/billing?sort=amount');

  await expect(page).toHaveURL(/\/login\?next=%2Fbilling%3Fsort%3Damount$/);
  await page.getByLabel('Email').fill(ADMIN);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();

  await expect(page).toHaveURL(/\/billing\?sort=amount$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Billing');
  expect(errors).toEqual([]);
});

test('a wrong password is refused with a message and no session', async ({ page }) => {
  await page.goto('/login');

  await page.getByLabel('Email').fill(ADMIN);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();

  await expect(page.getByRole('alert')).toHaveText('Email or password is incorrect.');
  await page.goto('/usage');
  await expect(page).toHaveURL(/\/login\?next=%2Fusage$/);
});

test('every page opens from the navigation bar, then signing out ends the session', async ({ page }) => {
  const errors = collectErrors(page);
  await signIn(page, MEMBER);
  await page.goto('/usage');
  const nav = page.getByRole('navigation', { name: 'Main' });

  for (const [path, link, heading] of PAGES) {
    await nav.getByRole('link', { name: link, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${path}$`));
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(heading);
  }
  await page.getByRole('button', { name: 'Sign out' }).click();

  await expect(page).toHaveURL(/\/login$/);
  for (const [path] of PAGES) {
    const response = await page.request.get(path, { maxRedirects: 0 });
    expect(response.status(), path).toBe(303);
  }
  expect(errors).toEqual([]);
});

test('a user of two organizations switches between them', async ({ page }) => {
  await signIn(page, ADMIN);
  await page.goto('/usage');
  await expect(page.locator('.page-header__org')).toHaveText('Acme Cloud');

  await page.getByLabel('Organization').selectOption({ label: 'Globex Mail' });
  await page.getByRole('button', { name: 'Switch' }).click();

  await expect(page).toHaveURL(/\/usage$/);
  await expect(page.locator('.page-header__org')).toHaveText('Globex Mail');
});

test('an unknown page answers 404 with a way back', async ({ page }) => {
  await signIn(page);

  const response = await page.goto('/no-such-page');

  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});

test('the operator lands on the organization list and filters those at risk', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/login');
  await page.getByLabel('Email').fill(OPERATOR);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();

  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Organizations');
  const rows = page.locator('tbody tr[data-organization]');
  await expect(rows).toHaveCount(3);
  await expect(page.locator('tr[data-organization="acme"]')).toContainText('At risk');

  await page.getByLabel(/Only at risk/).check();
  await page.locator('.toolbar').getByRole('button', { name: 'Apply' }).click();

  await expect(page).toHaveURL(/risk=1/);
  const risky = await rows.count();
  expect(risky).toBeGreaterThan(0);
  expect(risky).toBeLessThanOrEqual(3);
  await expect(page.locator('tbody tr[data-organization] .badge--risk')).toHaveCount(risky);
  expect(errors).toEqual([]);
});

test('an organization admin opening /admin gets a 403 page', async ({ page }) => {
  await signIn(page, ADMIN);

  const response = await page.goto('/admin');

  expect(response?.status()).toBe(403);
  await expect(page.getByRole('alert')).toContainText('You cannot see this page');
});
