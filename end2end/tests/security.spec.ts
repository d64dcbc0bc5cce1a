// Every page hydrates under its Content-Security-Policy: no script, style, frame or
// connection the policy refuses, and no inline script without the response's nonce.
import { test, expect, type Page } from '@playwright/test';
import { collectErrors, OPERATOR, PAGES, signIn, waitForHydration } from './helpers';

/** Records the page's CSP violations in `window.__violations`, from before its first script. */
async function recordViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const found: string[] = [];
    (window as unknown as { __violations: string[] }).__violations = found;
    document.addEventListener('securitypolicyviolation', (event) => {
      found.push(`${event.effectiveDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`);
    });
  });
}

async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
}

/** Opens `path`, checks its policy names a nonce, waits for hydration (and the charts). */
async function openUnderPolicy(page: Page, path: string): Promise<void> {
  const response = await page.goto(path);
  expect(response?.status(), path).toBe(200);
  const policy = response?.headers()['content-security-policy'] ?? '';
  expect(policy, path).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]{22,}' 'wasm-unsafe-eval'/);
  expect(policy, path).toContain("frame-ancestors 'none'");
  await waitForHydration(page);
}

test('customer pages hydrate, draw their charts and stream usage with no CSP violation', async ({ page }) => {
  const errors = collectErrors(page);
  await recordViolations(page);
  await signIn(page);
  for (const [path] of [...PAGES, ['/account']]) {
    await openUnderPolicy(page, path);
    if (path === '/usage') {
      // The history chart (ECharts from our origin) and the live stream both run.
      await expect(page.locator('#history-chart canvas')).toHaveCount(1);
      await expect(page.locator('.live')).toHaveAttribute('data-state', 'live');
    }
    expect(await violations(page), path).toEqual([]);
  }
  expect(errors).toEqual([]);
});

test('the sign-in page and the operator pages hydrate with no CSP violation', async ({ page }) => {
  const errors = collectErrors(page);
  await recordViolations(page);
  await openUnderPolicy(page, '/login');
  expect(await violations(page)).toEqual([]);

  await signIn(page, OPERATOR);
  for (const path of ['/admin', '/admin/organizations/acme', '/admin/licenses', '/admin/audit', '/admin/users']) {
    await openUnderPolicy(page, path);
    expect(await violations(page), path).toEqual([]);
  }
  expect(errors).toEqual([]);
});

test('an injected inline script without the nonce does not run', async ({ page }) => {
  await recordViolations(page);
  await signIn(page);
  await openUnderPolicy(page, '/usage');
  const ran = await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__injected = true;';
    document.body.appendChild(script);
    return (window as unknown as { __injected?: boolean }).__injected === true;
  });
  expect(ran).toBe(false);
  expect((await violations(page)).some((v) => v.startsWith('script-src'))).toBe(true);
});
