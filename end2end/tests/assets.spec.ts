// Static assets go out precompressed (brotli or gzip, as the client accepts). Their sizes are
// held to budget by `make test-sizes`; the history chart drawn with the custom ECharts build
// is checked in usage.spec.ts.
import { test, expect } from '@playwright/test';

for (const path of ['/pkg/quotaboard.wasm', '/pkg/quotaboard.js', '/vendor/echarts.min.js']) {
  test(`${path} is sent precompressed to clients that accept it`, async ({ request }) => {
    for (const encoding of ['br', 'gzip']) {
      const response = await request.get(path, { headers: { 'accept-encoding': encoding } });
      expect(response.status()).toBe(200);
      expect(response.headers()['content-encoding']).toBe(encoding);
    }
    const plain = await request.get(path, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status()).toBe(200);
    expect(plain.headers()['content-encoding']).toBeUndefined();
  });
}
