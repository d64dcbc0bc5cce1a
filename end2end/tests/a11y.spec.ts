// Every page: no console or page errors, no serious or critical axe-core violations in light
// and dark mode, screenshots at 1280 and 375 px; Brazilian Portuguese on /usage.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { OPERATOR, PAGES, collectErrors, signIn, waitForHydration } from './helpers';

const OPERATOR_PAGES = ['/admin', '/admin/organizations/acme', '/admin/licenses', '/admin/licenses/new', '/admin/audit', '/admin/users'];

for (const colorScheme of ['light', 'dark'] as const) {
  for (const [path] of [...PAGES, ['/account'], ['/login'], ...OPERATOR_PAGES.map((p) => [p])]) {
    test(`${path} in ${colorScheme} mode has no serious accessibility violations`, async ({ page }, testInfo) => {
      const errors = collectErrors(page);
      await page.emulateMedia({ colorScheme });
      if (OPERATOR_PAGES.includes(path)) await signIn(page, OPERATOR);
      else if (path !== '/login') await signIn(page);
      await page.goto(path);
      await waitForHydration(page);

      const results = await new AxeBuilder({ page }).analyze();
      const serious = results.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
      expect(serious).toEqual([]);
      expect(errors).toEqual([]);

      const name = path.replace(/\//g, '_').replace(/^_/, '');
      for (const width of [1280, 375]) {
        await page.setViewportSize({ width, height: 900 });
        await page.screenshot({ path: testInfo.outputPath(`${name}-${colorScheme}-${width}.png`), fullPage: true });
      }
      // Nothing sticks out sideways at phone width.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
    });
  }
}

test.describe('in Brazilian Portuguese', () => {
  test.use({ locale: 'pt-BR' });

  test('/usage speaks Portuguese and writes numbers, dates and money the Brazilian way', async ({ page }) => {
    await signIn(page);
    await page.goto('/usage');

    await expect(page.locator('html')).toHaveAttribute('lang', 'pt-BR');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Uso de \d{1,2} [a-z]{3} \d{4} – /);
    await expect(page.locator('[data-metric="apiCalls"] .usage-bar__amount')).toHaveText('52.000 / 100.000 requests');
    await expect(page.getByRole('region', { name: 'Custo estimado' })).toContainText('29,00 USD');
    await expect(page.locator('[data-metric="storage"] .usage-bar__status')).toHaveText('Atenção');
  });

  test('the language chosen in the footer wins over the browser', async ({ page }) => {
    await signIn(page);
    await page.goto('/usage');
    await waitForHydration(page);

    await page.getByLabel('Idioma').selectOption('en');
    await page.getByRole('contentinfo').getByRole('button', { name: 'Aplicar' }).click();

    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Usage for /);
  });
});
