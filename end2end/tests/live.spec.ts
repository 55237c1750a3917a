import { test, expect } from '@playwright/test';
import { markPage, pageWasNotReloaded, row, submitJob, toast, waitForHydration, waitUntilSettled } from './helpers';

test('a retry started outside the page appears in it within a second, and so does its outcome', async ({ page }) => {
  const id = await submitJob(page, ['tiananmen_neutral'], ['mistral-7b'], ['ASIA']);
  await waitUntilSettled(page, id);
  await page.goto(`/jobs/${id}`);
  await waitForHydration(page);
  await markPage(page);
  await expect(page.getByTestId('live-state')).toHaveText('● Live');
  const cell = row(page, 'tiananmen_neutral', 'mistral-7b');
  await expect(cell).toHaveAttribute('data-status', 'failed');

  // A script retries it through the REST API, as curl would.
  const executionId = await cell.getAttribute('data-execution-id');
  const response = await page.request.post(`/api/v1/executions/${executionId}/retry-question`, {
    data: { region: 'asia-pacific', question_index: 0 },
  });
  expect(response.status()).toBe(202);
  const accepted = Date.now();
  await expect(cell.getByRole('button', { name: 'Retrying…' })).toBeVisible({ timeout: 1_000 });
  const shown = Date.now();
  expect(shown - accepted).toBeLessThan(1_000);

  await expect(toast(page, /Retry failed again: tiananmen_neutral · mistral-7b · asia-pacific/)).toBeVisible();
  await expect(cell.getByRole('button', { name: /^Retry \(2\/3\)/ })).toBeVisible();
  expect(await pageWasNotReloaded(page)).toBe(true);
});

test('the jobs list shows new jobs and their progress as they run', async ({ page }) => {
  await page.goto('/');
  await waitForHydration(page);
  await markPage(page);
  const id = await submitJob(page, ['math_basic', 'geography_basic'], ['llama3.2-1b'], ['US']);
  const jobRow = page.locator(`[data-testid="job-row"][data-job-id="${id}"]`);
  await expect(jobRow).toBeVisible();
  await expect(jobRow.getByTestId('job-row-status')).toContainText('completed · 2/2 succeeded');
  await expect(jobRow.getByTestId('progress-text')).toHaveText('2/2 done · 2 completed');
  expect(await pageWasNotReloaded(page)).toBe(true);
});

test('the job header moves with its rows and agrees with the API within a second', async ({ page }) => {
  const questions = ['math_basic', 'geography_basic', 'identity_basic', 'tiananmen_neutral', 'taiwan_status', 'greatest_invention', 'greatest_leader'];
  const id = await submitJob(page, questions, ['llama3.2-1b', 'qwen2.5-1.5b'], ['US', 'EU']);
  await page.goto(`/jobs/${id}`);
  await waitForHydration(page);
  await expect(page.getByTestId('live-state')).toHaveText('● Live');
  const header = page.locator('.job-header');
  const bar = header.locator('[role="progressbar"]');
  const total = questions.length * 2 * 2;
  // Three moments while it runs: whatever the API says then, the header says within a second.
  const moments: number[] = [];
  while (moments.length < 3) {
    const job = await (await page.request.get(`/api/v1/jobs/${id}`)).json();
    const p = job.progress;
    const done = p.completed + p.failed + p.cancelled;
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 1_000 }).toBeGreaterThanOrEqual(done);
    await expect(header.getByTestId('progress-text')).toContainText(`/${total} done`, { timeout: 1_000 });
    if (done > 0 && done < total && !moments.includes(done)) moments.push(done);
    if (done === total) break;
    await page.waitForTimeout(700);
  }
  expect(moments.length, `moments seen while running: ${moments}`).toBeGreaterThanOrEqual(2);
  await waitUntilSettled(page, id);
  const job = await (await page.request.get(`/api/v1/jobs/${id}`)).json();
  const done = job.progress.completed + job.progress.failed + job.progress.cancelled;
  await expect(bar).toHaveAttribute('aria-valuenow', String(done), { timeout: 1_000 });
  await expect(header.getByTestId('job-status')).toContainText(`${job.progress.completed}/${total} succeeded`, { timeout: 1_000 });
});
