// Shared steps of the end-to-end specs: signing in, waiting for hydration, collecting errors.
import { expect, type Page, type APIRequestContext } from '@playwright/test';

/** The demo users' password (src/server/process/demo.rs, README). */
export const PASSWORD = 'quotaboard-demo';
export const ADMIN = 'admin@acme.example';
export const MEMBER = 'member@acme.example';
export const OPERATOR = 'operator@quotaboard.example';

/** Every console error and uncaught page error from now on. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  return errors;
}

/** Signs the page's browser context in through the sign-in form's endpoint. */
export async function signIn(page: Page, email = ADMIN): Promise<void> {
  await signInRequest(page.request, email);
}

/** Signs a request context in; its cookies then carry the session. */
export async function signInRequest(request: APIRequestContext, email = ADMIN): Promise<void> {
  const response = await request.post('/login', {
    form: { email, password: PASSWORD, next: '/usage' },
    maxRedirects: 0,
  });
  expect(response.status()).toBe(303);
  // The operator has no usage of their own and starts at the organization list.
  expect(response.headers()['location']).toBe(email === OPERATOR ? '/admin' : '/usage');
}

/**
 * `<main data-hydrated>` appears once the WASM app has taken over the page; a slow one on a
 * busy two-core machine gets 15 s. A page that does not hydrate fails with what the browser
 * saw: its console, its uncaught errors and every request with its answer.
 */
export async function waitForHydration(page: Page): Promise<void> {
  try {
    await expect(page.locator('main[data-hydrated]')).toHaveCount(1, { timeout: 15_000 });
  } catch (error) {
    throw new Error(`${error}\nwhat the browser saw:\n${(await browserReport(page)).join('\n')}`);
  }
}

/**
 * Records in `window.qbHydratedAt`, in the page's clock since navigation start, when
 * `main[data-hydrated]` first appears (on every page the browser loads from now on).
 */
export async function recordHydration(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { qbHydratedAt?: number };
    const seen = () => {
      if (w.qbHydratedAt === undefined && document.querySelector('main[data-hydrated]')) {
        w.qbHydratedAt = performance.now();
      }
    };
    new MutationObserver(seen).observe(document, { subtree: true, childList: true, attributes: true });
  });
}

/** The page's state, console messages, page errors and requests, one line each. */
async function browserReport(page: Page): Promise<string[]> {
  const lines = [
    `url ${page.url()}, document ${await page.evaluate(() => document.readyState).catch(String)}`,
  ];
  for (const message of await page.consoleMessages()) {
    lines.push(`console ${message.type()}: ${message.text()}`);
  }
  for (const error of await page.pageErrors()) lines.push(`page error: ${error.message}`);
  for (const request of await page.requests()) {
    // A request still waiting for its answer would hold `response()` forever.
    const response = await Promise.race([
      request.response(),
      new Promise<undefined>((resolve) => setTimeout(resolve, 200)),
    ]);
    const answer =
      request.failure()?.errorText ??
      (response === undefined ? 'no answer yet' : response === null ? 'no response' : String(response.status()));
    const { responseEnd } = request.timing();
    const took = responseEnd >= 0 ? `${Math.round(responseEnd)} ms` : 'unfinished';
    // The policy the page itself came with decides which of the others may load.
    const policy = request.isNavigationRequest() && response ? `, policy: ${response.headers()['content-security-policy']}` : '';
    lines.push(`${request.method()} ${request.url()} -> ${answer} (${took}${policy})`);
  }
  return lines;
}

/** The live indicator turns "Live" once the WASM app has hydrated and the stream is open. */
export async function waitForLive(page: Page): Promise<void> {
  await expect(page.locator('.live')).toHaveAttribute('data-state', 'live');
}

/** Pages a signed-in user can open: path, navigation link, main heading. */
export const PAGES: [string, string, RegExp][] = [
  ['/usage', 'Usage', /^Usage for /],
  ['/license', 'License', /^License$/],
  ['/billing', 'Billing', /^Billing$/],
  ['/settings/keys', 'API keys', /^API keys$/],
  ['/settings/webhooks', 'Webhooks', /^Webhooks$/],
  ['/settings/embedding', 'Embedding', /^Embedding$/],
];
