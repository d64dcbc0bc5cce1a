// Static assets go out precompressed (brotli or gzip, as the client accepts) under names
// that change with their content, so browsers keep them for a year. Their sizes are held to
// budget by `make test-sizes`; the history chart drawn with the custom ECharts build is
// checked in usage.spec.ts.
import { test, expect, type APIRequestContext } from '@playwright/test';

/** The app's WASM, JS and CSS and the charts bundle, as the sign-in page names them. */
async function linkedAssets(request: APIRequestContext): Promise<string[]> {
  const html = await (await request.get('/login')).text();
  const find = (pattern: RegExp) => {
    const match = html.match(pattern);
    expect(match, `${pattern} in the page`).not.toBeNull();
    return match![1];
  };
  return [
    find(/<link rel="modulepreload" href="([^"]+\.js)"/),
    find(/<link rel="preload" href="([^"]+\.wasm)"/),
    find(/<link rel="stylesheet" id="leptos" href="([^"]+\.css)"/),
    find(/<meta name="charts-script" content="(\/vendor\/echarts\.min\.js\?v=[0-9a-f]+)"/),
  ].map((url) => url.replaceAll('&amp;', '&'));
}

test('pages link the site files by content-hashed names', async ({ request }) => {
  const assets = await linkedAssets(request);
  for (const path of assets.slice(0, 3)) {
    expect(path).toMatch(/^\/pkg\/quotaboard\.[A-Za-z0-9_-]{8,}\.(js|wasm|css)$/);
  }
});

test('content-named files are sent precompressed and kept for a year', async ({ request }) => {
  for (const path of await linkedAssets(request)) {
    for (const encoding of ['br', 'gzip']) {
      const response = await request.get(path, { headers: { 'accept-encoding': encoding } });
      expect(response.status(), path).toBe(200);
      expect(response.headers()['content-encoding'], path).toBe(encoding);
      expect(response.headers()['cache-control'], path).toBe('public, max-age=31536000, immutable');
    }
    const plain = await request.get(path, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status()).toBe(200);
    expect(plain.headers()['content-encoding']).toBeUndefined();
  }
});

test('files without a content hash are revalidated before each use', async ({ request }) => {
  for (const path of ['/favicon.svg', '/vendor/echarts.min.js']) {
    const response = await request.get(path);
    expect(response.status(), path).toBe(200);
    expect(response.headers()['cache-control'], path).toBe('no-cache');
  }
});

test('pages themselves are not cached as static files', async ({ request }) => {
  const response = await request.get('/login');
  expect(response.headers()['cache-control'] ?? '').not.toContain('immutable');
});
