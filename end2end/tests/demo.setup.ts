// Before the specs: Acme's sums at their whole period's amounts, whatever day it is.
//
// The demo records each sum evenly over its billing period up to the moment it is loaded
// (src/server/process/demo.rs), so on the 2nd of the month Acme has used a 30th of what it will.
// The specs that check bands, banners and the cost card need the same figures on every
// day: this tops each of Acme's sums up, through the events API, to what its period comes
// to (API calls 52 000 = 52 %, bandwidth 962 GB = 96.2 % red, e-mails 13 000 = 130 %, over
// by 3 000). Gauges (storage, seats, webhook endpoints) are the same on every day already.
import { test as setup, expect } from '@playwright/test';
import { signInRequest } from './helpers';

/** Acme's sums and what each comes to over its whole period (the demo's own table). */
export const ACME_PERIOD: Record<string, number> = {
  apiCalls: 52000,
  bandwidth: 962,
  emails: 13000,
  webhooks: 5210,
  sms: 120,
  whatsapp: 310,
  email: 4000,
  sage: 150,
};

setup('Acme has used its whole period of every sum', async ({ request }) => {
  await signInRequest(request);
  const created = await request.post('/api/v1/api-keys', { data: { name: 'end-to-end set-up', role: 'admin' } });
  expect(created.status()).toBe(201);
  const key = (await created.json()).key as string;
  const headers = { 'x-api-key': key };

  const usage = await request.get('/api/billing/usage', { headers });
  expect(usage.status()).toBe(200);
  const metrics = (await usage.json()).data.metrics as Record<string, { used: number }>;
  const events = Object.entries(ACME_PERIOD)
    .map(([metric, whole]) => ({ metric, quantity: whole - metrics[metric].used }))
    .filter(({ quantity }) => quantity > 0)
    .map((event) => ({ id: `end-to-end-${event.metric}`, ...event }));
  const sent = await request.post('/api/v1/events', { headers, data: { events } });
  expect(sent.status()).toBe(200);
  expect((await sent.json()).rejected).toEqual([]);

  const after = (await (await request.get('/api/billing/usage', { headers })).json()).data.metrics;
  for (const [metric, whole] of Object.entries(ACME_PERIOD)) expect(after[metric].used).toBe(whole);
});
