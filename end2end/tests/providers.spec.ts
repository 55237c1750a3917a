import { test, expect } from '@playwright/test';
import { providersPort } from '../playwright.config';
import { row, waitForHydration } from './helpers';

// The Beacon configured by a beacon.toml (playwright.config.ts): one region served by the demo
// router's OpenAI-compatible endpoint, whose providers fail their first request (cold start),
// with two automatic retries 3 s apart.
const base = `http://127.0.0.1:${providersPort}`;

test('a cold start on an OpenAI-compatible provider is retried automatically: the row shows the wait, then completes', async ({ page }) => {
  await page.goto(`${base}/`);
  // The form offers the configuration's regions and models.
  await expect(page.getByText('United States (demo) (us-east)')).toBeVisible();
  const created = await page.request.post(`${base}/api/v1/jobs`, {
    data: { questions: ['math_basic'], models: ['llama3.2-1b'], regions: ['US'] },
  });
  expect(created.status()).toBe(202);
  const id = (await created.json()).id;
  await page.goto(`${base}/jobs/${id}`);
  await waitForHydration(page);
  await expect(page.getByTestId('auto-retries')).toContainText('up to 2 automatic retries');

  const cell = row(page, 'math_basic', 'llama3.2-1b');
  const waiting = cell.getByTestId('auto-retry');
  await expect(waiting).toContainText(/Retrying automatically \(1\/2\) in \d+ s/);
  await expect(waiting).toBeDisabled();
  await expect(cell).toHaveAttribute('data-status', 'completed', { timeout: 20_000 });

  // The history shows the automatic attempt, its wait and where it was served.
  await cell.locator('a[title="Attempt history"]').click();
  const attempts = page.getByTestId('attempt-row');
  await expect(attempts).toHaveCount(2);
  await expect(attempts.nth(1)).toContainText('auto');
  await expect(attempts.nth(1).getByTestId('backoff')).toContainText('after waiting');
  await expect(attempts.nth(1).getByTestId('provenance')).toContainText('demo-openai-us (openai)');
});

test('warm-up runs before the first question and is shown on the job page', async ({ page }) => {
  await page.goto(`${base}/`);
  await waitForHydration(page);
  await page.locator('input[name="questions[]"]').evaluateAll((boxes) =>
    boxes.forEach((box) => ((box as HTMLInputElement).checked = (box as HTMLInputElement).value === 'geography_basic')));
  await page.locator('input[name="models[]"]').evaluateAll((boxes) =>
    boxes.forEach((box) => ((box as HTMLInputElement).checked = (box as HTMLInputElement).value === 'qwen2.5-1.5b')));
  await page.getByLabel('Warm each provider up first').check();
  await page.getByRole('button', { name: 'Start job' }).click();
  await expect(page).toHaveURL(/\/jobs\//);

  const panel = page.getByTestId('warmups');
  await expect(panel).toBeVisible();
  await expect(panel.locator('li[data-provider="demo-openai-us"]')).toHaveAttribute('data-status', 'ok', { timeout: 20_000 });
  await expect(panel).toContainText('us-east / qwen2.5-1.5b warm after 2 requests');
  // The cold start was spent on the warm-up: the question itself answers at once.
  const cell = row(page, 'geography_basic', 'qwen2.5-1.5b');
  await expect(cell).toHaveAttribute('data-status', 'completed', { timeout: 20_000 });
  await expect(cell.locator('a[title="Attempt history"]')).toHaveText('1');
});
