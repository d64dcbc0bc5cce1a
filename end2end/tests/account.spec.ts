// A user's own account and the operator's list of users: changing the password ends the user's
// other sessions, "Sign out everywhere" ends all of them, and a disabled user is signed out at
// once and cannot sign in until enabled. Each test has a user of its own (cli-keys.ts).
import { test, expect, type Browser, type Page } from '@playwright/test';
import { OPERATOR, collectErrors, signIn, waitForHydration } from './helpers';
import { createUser } from './cli-keys';

const FIRST = 'first password 1';
const SECOND = 'second password 2';

/** Signs `page` in as `email` with `password` through the sign-in form's endpoint. */
async function signInAs(page: Page, email: string, password: string): Promise<number> {
  const response = await page.request.post('/login', {
    form: { email, password, next: '/usage' },
    maxRedirects: 0,
  });
  expect(response.status()).toBe(303);
  return response.headers()['location'] === '/usage' ? 1 : 0;
}

/** A second browser (its own cookies) signed in as `email`. */
async function elsewhere(browser: Browser, email: string, password: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  expect(await signInAs(page, email, password)).toBe(1);
  return page;
}

/** True when `page` is still signed in: /usage answers instead of sending it to /login. */
async function signedIn(page: Page): Promise<boolean> {
  await page.goto('/usage');
  return !/\/login/.test(page.url());
}

test('a user changes their password on the account page and their other sessions end', async ({ page, browser }) => {
  const email = 'e2e-password@acme.example';
  createUser(email, FIRST);
  const errors = collectErrors(page);
  const other = await elsewhere(browser, email, FIRST);
  expect(await signInAs(page, email, FIRST)).toBe(1);
  await page.goto('/usage');
  await waitForHydration(page);

  await page.getByRole('link', { name: email }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your account');
  const form = page.getByRole('form', { name: 'Change password' });
  await form.getByLabel('Current password').fill('not my password');
  await form.getByLabel('New password (at least 8 characters)').fill(SECOND);
  await form.getByLabel('New password again').fill(SECOND);
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toHaveText('The current password is not right');
  expect(await signedIn(other)).toBe(true);

  await page.goto('/account');
  await waitForHydration(page);
  await form.getByLabel('Current password').fill(FIRST);
  await form.getByLabel('New password (at least 8 characters)').fill(SECOND);
  await form.getByLabel('New password again').fill(SECOND);
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('status')).toHaveText(
    'Password changed. Every other session of yours was signed out.',
  );

  expect(await signedIn(other)).toBe(false);
  expect(await signedIn(page)).toBe(true);
  expect(await signInAs(other, email, FIRST)).toBe(0);
  expect(await signInAs(other, email, SECOND)).toBe(1);
  // The wrong current password's answer, and nothing else.
  expect(errors).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
});

test('"Sign out everywhere" ends every session of the user', async ({ page, browser }) => {
  const email = 'e2e-everywhere@acme.example';
  createUser(email, FIRST);
  const other = await elsewhere(browser, email, FIRST);
  expect(await signInAs(page, email, FIRST)).toBe(1);
  await page.goto('/account');

  await page.getByRole('button', { name: 'Sign out everywhere' }).click();

  await expect(page).toHaveURL(/\/login$/);
  expect(await signedIn(page)).toBe(false);
  expect(await signedIn(other)).toBe(false);
});

test('the operator disables a user, who is signed out at once, and enables them again', async ({ page, browser }) => {
  const email = 'e2e-disabled@acme.example';
  createUser(email, FIRST);
  const errors = collectErrors(page);
  const user = await elsewhere(browser, email, FIRST);
  await signIn(page, OPERATOR);
  await page.goto('/admin');
  await waitForHydration(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await page.getByLabel('Email contains').fill('e2e-disabled');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/\/admin\/users\?q=e2e-disabled(&|$)/);
  const row = page.locator(`tr[data-user="${email}"]`);
  await expect(row).toContainText('Acme Cloud (Member)');
  await expect(row).toContainText('Active');

  await row.getByRole('button', { name: `Disable ${email}` }).click();

  await expect(row).toHaveAttribute('data-disabled', 'true');
  await expect(row).toContainText('Disabled');
  expect(await signedIn(user)).toBe(false);
  expect(await signInAs(user, email, FIRST)).toBe(0);

  await row.getByRole('button', { name: `Enable ${email}` }).click();
  await expect(row).toHaveAttribute('data-disabled', 'false');
  expect(await signInAs(user, email, FIRST)).toBe(1);
  expect(errors).toEqual([]);
});
