// The five seed documents' response shapes: every live body, for every demo organization, type-checked against end2end/contracts/.
import { expect, test, type APIRequestContext } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKey, ORGANIZATIONS, wrongKey, type Slug } from './cli-keys';
import { typeCheck, type Captured, type Seed } from './contract-check';

const examples = join(__dirname, '..', 'contracts', 'examples');

/** Each seed's own example JSON and the interface it was transcribed into. */
const EXAMPLES: [file: string, seed: Seed, type: string][] = [
  ['seed000-domain-usage-200.json', '000', 'DomainUsage'],
  ['seed001-subscription-200.json', '001', 'Subscription'],
  ['seed002-usage-200.json', '002', 'UsageResponse'],
  ['seed002-usage-400.json', '002', 'BadRequestResponse'],
  ['seed002-usage-401.json', '002', 'UnauthorizedResponse'],
  ['seed003-usage-200-from-schema.json', '003', 'OrganizationUsage'],
  ['seed003-usage-200.json', '003', 'OrganizationUsage'],
  ['seed003-usage-401-from-schema.json', '003', 'UnauthenticatedBody'],
  ['seed003-usage-401.json', '003', 'UnauthenticatedBody'],
  ['seed003-usage-403-from-schema.json', '003', 'ForbiddenBody'],
  ['seed003-usage-403.json', '003', 'ForbiddenBody'],
  ['seed003-usage-404-from-schema.json', '003', 'NotFoundBody'],
  ['seed003-usage-404.json', '003', 'NotFoundBody'],
  ['seed003-usage-422-from-schema.json', '003', 'ValidationErrorBody'],
  ['seed003-usage-422.json', '003', 'ValidationErrorBody'],
  ['seed004-usage-200.json', '004', 'UsageList'],
];

function example(file: string): any {
  return JSON.parse(readFileSync(join(examples, file), 'utf8'));
}

function failOn(report: string): void {
  if (report) throw new Error(`tsc refused bodies against the seed contracts:\n${report}`);
}

test("the seeds' own examples satisfy the contracts", async ({}, testInfo) => {
  // Every file copied from a seed is checked, so none can be added and forgotten.
  expect(readdirSync(examples).filter((f) => f.endsWith('.json')).sort()).toEqual(EXAMPLES.map(([f]) => f).sort());
  const captured = EXAMPLES.map(([file, seed, type]) => ({ name: file.replace(/\.json$/, ''), seed, type, body: example(file) }));
  failOn(typeCheck(captured, testInfo.outputPath('examples')));
});

test('the check refuses a null or a string where a seed prints a number', async ({}, testInfo) => {
  // Without this, a compiler that checked nothing would let every other test here pass.
  const usage = example('seed002-usage-200.json');
  usage.data.metrics.apiCalls.percentage = null;
  const subscription = example('seed001-subscription-200.json');
  subscription.license.resources[0].limit = null;
  const statements = example('seed004-usage-200.json');
  statements.items[0].usage_percent = '0.59';
  const report = typeCheck(
    [
      { name: 'null-percentage', seed: '002', type: 'UsageResponse', body: usage },
      { name: 'null-limit', seed: '001', type: 'Subscription', body: subscription },
      { name: 'string-usage-percent', seed: '004', type: 'UsageList', body: statements },
    ],
    testInfo.outputPath('refused'),
  );
  for (const file of ['null-percentage.ts', 'null-limit.ts', 'string-usage-percent.ts']) {
    expect(report).toContain(`${file}(`);
  }
});

/** A UTC calendar day as `YYYY-MM-DD`; months and days out of range roll over, as in `Date.UTC`. */
function day(year: number, month: number, date: number): string {
  return new Date(Date.UTC(year, month, date)).toISOString().slice(0, 10);
}

const keys = new Map<Slug, string>();

function keyOf(slug: Slug): string {
  const key = keys.get(slug);
  if (!key) throw new Error(`no key for ${slug}`);
  return key;
}

/** The caller's organization id (`GET /api/v1/user`). */
async function organizationId(request: APIRequestContext, key: string): Promise<string> {
  const response = await request.get('/api/v1/user', { headers: { 'x-api-key': key } });
  expect(response.status()).toBe(200);
  return (await response.json()).organizationId;
}

test.describe('live bodies', () => {
  test.beforeAll(() => {
    for (const slug of ORGANIZATIONS) keys.set(slug, createKey(slug, 'contracts e2e'));
  });

  for (const slug of ORGANIZATIONS) {
    test(`${slug}: every seed endpoint answers in its seed's shape`, async ({ request }, testInfo) => {
      // Twenty-odd requests and a compiler run, on a machine that may be building.
      test.setTimeout(60_000);
      const key = keyOf(slug);
      const bearer = { authorization: `Bearer ${key}` };
      const apiKey = { 'x-api-key': key };
      const wrong = { authorization: `Bearer ${wrongKey(key)}` };
      const captured: Captured[] = [];
      /** GETs `path`, expects `status` (softly: tsc still reports every shape), keeps the body. */
      const capture = async (
        name: string,
        seed: Seed,
        type: string,
        path: string,
        status: number,
        headers: Record<string, string>,
        params?: Record<string, string | number>,
      ): Promise<any> => {
        const response = await request.get(path, { headers, params });
        const text = await response.text();
        expect.soft(response.status(), `${name}: GET ${response.url()} answered ${text}`).toBe(status);
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new Error(`${name}: GET ${response.url()} answered ${response.status()} with no JSON: ${text}`);
        }
        captured.push({ name: `${slug}.seed${seed}.${name}`, seed, type, body });
        return body as any;
      };

      // Seed 000: each of the organization's domains.
      const domains = await request.get('/api/v1/domains', { headers: apiKey });
      expect(domains.status()).toBe(200);
      const domainIds: string[] = (await domains.json()).items.map((d: { id: string }) => d.id);
      expect(domainIds.length, `${slug} has domains`).toBeGreaterThan(0);
      for (const id of domainIds) {
        await capture(`domain-${id}`, '000', 'DomainUsage', `/api/v1/billing/${id}/civil/usage`, 200, apiKey);
      }

      // Seed 001.
      await capture('subscription', '001', 'Subscription', '/api/v1/billing/subscription', 200, apiKey);

      // Seed 002: plain, a range inside last month, a metrics filter, and both documented errors.
      const now = new Date();
      const [year, month] = [now.getUTCFullYear(), now.getUTCMonth()];
      const usage = await capture('usage', '002', 'UsageResponse', '/api/billing/usage', 200, bearer);
      await capture('usage-last-month', '002', 'UsageResponse', '/api/billing/usage', 200, bearer, {
        startDate: day(year, month - 1, 3),
        endDate: day(year, month - 1, 20),
      });
      const codes = Object.keys(usage?.data?.metrics ?? {});
      expect(codes.length, `${slug} has metrics`).toBeGreaterThan(0);
      // quotaboard's addition to the seed: `unlimited` on every metric, and an unlimited
      // metric still answers numbers (0), never null.
      for (const [code, metric] of Object.entries<any>(usage?.data?.metrics ?? {})) {
        expect.soft(typeof metric.unlimited, `${code}.unlimited`).toBe('boolean');
        if (metric.unlimited) {
          expect.soft([metric.included, metric.overage, metric.percentage], `${code} is unlimited`).toEqual([0, 0, 0]);
        }
      }
      const some = [...new Set([codes[0], codes[codes.length - 1]])];
      const filtered = await capture('usage-metrics', '002', 'UsageResponse', '/api/billing/usage', 200, bearer, {
        metrics: some.join(','),
      });
      expect.soft(Object.keys(filtered?.data?.metrics ?? {})).toEqual(some);
      const backwards = await capture('usage-400', '002', 'BadRequestResponse', '/api/billing/usage', 400, bearer, {
        startDate: '2024-02-01',
        endDate: '2024-01-01',
      });
      expect.soft(backwards?.error?.code).toBe('BAD_REQUEST');
      const unauthorized = await capture('usage-401', '002', 'UnauthorizedResponse', '/api/billing/usage', 401, wrong);
      expect.soft(unauthorized?.error?.code).toBe('UNAUTHORIZED');

      // Seed 003: the last 30 days in Unix seconds, and each documented error.
      const own = await organizationId(request, key);
      const other = await organizationId(request, keyOf(ORGANIZATIONS.find((s) => s !== slug)!));
      const end = Math.floor(now.getTime() / 1000);
      const range = { startDate: end - 30 * 86_400, endDate: end };
      const path = (id: string) => `/organizations/${id}/usage`;
      await capture('organization-usage', '003', 'OrganizationUsage', path(own), 200, bearer, range);
      const errors: [string, string, number, Record<string, string>, string, Record<string, number>][] = [
        ['UnauthenticatedBody', own, 401, wrong, 'Unauthenticated', range],
        ['ForbiddenBody', other, 403, bearer, 'Forbidden', range],
        ['NotFoundBody', '999999999', 404, bearer, 'ResourceNotFound', range],
        ['ValidationErrorBody', own, 422, bearer, 'ValidationError', { startDate: end, endDate: end - 86_400 }],
      ];
      for (const [type, id, status, headers, error, params] of errors) {
        const body = await capture(`organization-usage-${status}`, '003', type, path(id), status, headers, params);
        expect.soft(body?.error).toBe(error);
      }

      // Seed 004.
      await capture('statements', '004', 'UsageList', '/v2/ocamba/usage', 200, bearer);

      failOn(typeCheck(captured, testInfo.outputPath('bodies')));
    });
  }
});

