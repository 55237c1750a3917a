import { test, expect } from '@playwright/test';
import { answerBelow, markPage, pageWasNotReloaded, rows, rowsWithStatus, waitForHydration } from './helpers';

test('a researcher starts the prefilled job and watches it run, without reloading', async ({ page }) => {
  await page.goto('/');
  await waitForHydration(page);

  // Prefilled: every question, every model, US and EU.
  await expect(page.locator('input[name="questions[]"]:checked')).toHaveCount(8);
  await expect(page.locator('input[name="models[]"]:checked')).toHaveCount(3);
  await expect(page.locator('input[name="regions[]"]:checked')).toHaveCount(2);

  await page.getByRole('button', { name: 'Start job' }).click();
  await expect(page).toHaveURL(/\/jobs\/bias-detection-\d+$/);
  await waitForHydration(page);
  await markPage(page);

  // The same job opened from its address as it starts: the server renders running and pending
  // rows while changes stream in, and the page must still hydrate.
  const second = await page.context().newPage();
  await second.goto(page.url());
  await waitForHydration(second);
  await expect(rows(second)).toHaveCount(48);
  await second.close();

  await expect(page.getByTestId('job-shape')).toHaveText('8 questions × 3 models × 2 regions × 1 sample');
  await expect(rows(page)).toHaveCount(48);

  // The cold start plays out in place: us-east answers "app … is stopped", eu-west times out,
  // then the warm providers answer.
  await expect(rowsWithStatus(page, 'completed').first()).toBeVisible();
  await expect(rowsWithStatus(page, 'failed').first()).toBeVisible();
  await expect(rowsWithStatus(page, 'timeout').first()).toBeVisible();

  await expect(page.getByTestId('job-status')).toContainText('completed', { timeout: 60_000 });
  await expect(rowsWithStatus(page, 'completed')).toHaveCount(36);
  await expect(rowsWithStatus(page, 'failed')).toHaveCount(6);
  await expect(rowsWithStatus(page, 'timeout')).toHaveCount(6);
  await expect(page.getByTestId('job-status')).toHaveText('completed · 36/48 succeeded · 12 failed');
  await expect(page.getByTestId('progress-text').first()).toContainText('48/48 done');
  expect(await pageWasNotReloaded(page)).toBe(true);

  // Failures say why.
  const failed = rowsWithStatus(page, 'failed').first();
  await expect(failed.locator('.error-code')).toHaveText('ROUTER_ERROR');
  await expect(rowsWithStatus(page, 'timeout').first().locator('.error-code')).toHaveText('ROUTER_TIMEOUT');

  // Open an answer: shown as text, markup and all.
  const completed = rowsWithStatus(page, 'completed').first();
  const toggle = completed.getByTestId('answer-toggle');
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await toggle.click();
  await expect(toggle).toHaveText('Hide answer');
  const below = answerBelow(completed);
  const answer = below.getByTestId('answer-text');
  await expect(answer).toBeVisible();
  await expect(answer).toContainText('<b>[');
  await expect(below.locator('.answer-text b')).toHaveCount(0);
  // The opened answer spans the table, not the action column.
  const [rowBox, answerBox] = [await completed.boundingBox(), await below.boundingBox()];
  expect(answerBox!.width).toBeGreaterThan(rowBox!.width * 0.95);
  expect(answerBox!.y).toBeGreaterThanOrEqual(rowBox!.y + rowBox!.height - 1);

  await page.screenshot({ path: 'screenshots/job-page.png', fullPage: true });
  await page.screenshot({ path: '../docs/job-page.png', fullPage: true });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the job page is complete in the server HTML', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Start job' }).click();
    await expect(page).toHaveURL(/\/jobs\/bias-detection-\d+$/);
    await expect(rows(page)).toHaveCount(48);
    await expect(page.getByRole('heading', { name: 'United States (us-east)' })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Europe (eu-west)' })).toBeVisible();
  });
});
