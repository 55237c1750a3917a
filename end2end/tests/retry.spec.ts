import { test, expect } from '@playwright/test';
import { answerBelow, markPage, pageWasNotReloaded, row, rows, submitJob, toast, waitForHydration, waitUntilSettled } from './helpers';

// asia-pacific starts cold (its first two requests per model time out); its mistral-7b
// provider is broken for good (see playwright.config.ts).

test('a cold-start failure is retried from its row and completes, without a reload', async ({ page }) => {
  const id = await submitJob(page, ['math_basic', 'taiwan_status'], ['llama3.2-1b'], ['ASIA']);
  await page.goto(`/jobs/${id}`);
  await waitForHydration(page);
  await markPage(page);

  const cell = row(page, 'math_basic', 'llama3.2-1b');
  await expect(cell).toHaveAttribute('data-status', 'timeout');
  await cell.getByRole('button', { name: /^Retry/ }).click();

  await expect(cell.getByRole('button', { name: 'Retrying…' })).toBeDisabled();
  await expect(toast(page, 'Retry queued: math_basic · llama3.2-1b · asia-pacific')).toBeVisible();
  const succeeded = toast(page, 'Retry succeeded: math_basic · llama3.2-1b · asia-pacific');
  await expect(succeeded).toBeVisible();
  await expect(cell).toHaveAttribute('data-status', 'completed');
  // A toast can be dismissed before its time.
  await succeeded.getByRole('button', { name: 'Dismiss notification' }).click();
  await expect(succeeded).toHaveCount(0);
  await cell.getByTestId('answer-toggle').click();
  await expect(answerBelow(cell).getByTestId('answer-text')).toContainText('2 + 2 = 4.');
  expect(await pageWasNotReloaded(page)).toBe(true);

  // Toasts go away by themselves after 5 s.
  await expect(page.getByTestId('toast')).toHaveCount(0, { timeout: 8_000 });
});

test('retries that fail again count up to the maximum; every tab and reload agrees', async ({ page, context }) => {
  const id = await submitJob(page, ['greatest_leader'], ['mistral-7b'], ['ASIA']);
  await page.goto(`/jobs/${id}`);
  await waitForHydration(page);
  const cell = row(page, 'greatest_leader', 'mistral-7b');
  await expect(cell).toHaveAttribute('data-status', 'failed');
  await expect(cell.locator('.error-code')).toHaveText('ROUTER_ERROR');

  // First retry: "Retry".
  await cell.getByRole('button', { name: /^Retry:/ }).click();
  await expect(cell.getByRole('button', { name: 'Retrying…' })).toBeDisabled();

  // A reload, and a second tab, show the same server state.
  await page.reload();
  await expect(cell.getByRole('button', { name: 'Retrying…' })).toBeDisabled();
  const other = await context.newPage();
  await other.goto(`/jobs/${id}`);
  await expect(row(other, 'greatest_leader', 'mistral-7b').getByRole('button', { name: 'Retrying…' })).toBeDisabled();
  await waitForHydration(page);

  await expect(toast(page, /Retry failed again: greatest_leader · mistral-7b · asia-pacific — app for invoked web endpoint is stopped/)).toBeVisible();
  await expect(cell.getByRole('button', { name: /^Retry \(2\/3\)/ })).toBeEnabled();
  await expect(row(other, 'greatest_leader', 'mistral-7b').getByRole('button', { name: /^Retry \(2\/3\)/ })).toBeVisible();

  await cell.getByRole('button', { name: /^Retry \(2\/3\)/ }).click();
  await expect(cell.getByRole('button', { name: /^Retry \(3\/3\)/ })).toBeEnabled({ timeout: 15_000 });
  await cell.getByRole('button', { name: /^Retry \(3\/3\)/ }).click();
  await expect(cell.getByText('Max retries reached')).toBeVisible({ timeout: 15_000 });
  await expect(cell.getByRole('button')).toHaveCount(0);

  // The history lists every attempt with its outcome, the original error at a glance.
  await cell.getByRole('link', { name: '4' }).click();
  await expect(page.getByTestId('attempt-row')).toHaveCount(4);
  await expect(page.getByTestId('original-error')).toContainText('ROUTER_ERROR');
  await expect(page.getByTestId('attempt-row').nth(0)).toContainText('initial');
  await expect(page.getByTestId('attempt-row').nth(3)).toContainText('manual');
  await expect(page.locator('[data-testid="attempt-row"][data-status="failed"]')).toHaveCount(4);
});

test('"Retry all failed" queues every failed row with one toast', async ({ page }) => {
  const id = await submitJob(page, ['math_basic', 'geography_basic', 'identity_basic'], ['mistral-7b'], ['ASIA']);
  await page.goto(`/jobs/${id}`);
  await waitForHydration(page);
  await waitUntilSettled(page, id);
  await expect(page.locator('[data-testid="execution-row"][data-status="failed"]')).toHaveCount(3);

  await page.getByRole('button', { name: 'Retry all failed (3)' }).click();
  await expect(toast(page, '3 queued')).toBeVisible();
  // Every failed row is now retrying (or already back with its outcome).
  await expect(page.locator('[data-testid="execution-row"][data-status="failed"]')).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Retry \(2\/3\)/ })).toHaveCount(3, { timeout: 20_000 });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('Retry is a form post that returns to the page', async ({ page }) => {
    const id = await submitJob(page, ['hongkong_2019'], ['mistral-7b'], ['ASIA']);
    await waitUntilSettled(page, id);
    await page.goto(`/jobs/${id}`);
    await expect(rows(page)).toHaveCount(1);
    const cell = row(page, 'hongkong_2019', 'mistral-7b');
    await cell.getByRole('button', { name: /^Retry:/ }).click();
    await expect(page).toHaveURL(new RegExp(`/jobs/${id}\\?notice=`));
    await expect(page.getByRole('status').filter({ hasText: 'Retry queued: hongkong_2019 · mistral-7b · asia-pacific' })).toBeVisible();
    await expect(cell.getByRole('button', { name: 'Retrying…' })).toBeDisabled();
  });
});
