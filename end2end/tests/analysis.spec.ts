import { test, expect } from '@playwright/test';
import { researchPort } from '../playwright.config';
import { markPage, pageWasNotReloaded, submitJob, waitForHydration, waitUntilSettled } from './helpers';

// Its own Beacon (playwright.config.ts), so this study does not warm the others' providers.
const base = `http://127.0.0.1:${researchPort}`;
test.use({ baseURL: base });

// RESEARCH.md §4–§5 in the browser: the compare page fills in while the job runs, the
// diverging filter narrows it, and the analysis page's charts are there with JavaScript and
// without. The demo router's scripted answers (README: "The demo's script") make the rows
// disagree: qwen2.5-1.5b refuses the contested questions in asia-pacific.
test('answers fill in side by side as they arrive; the analysis charts need no JavaScript', async ({ page, browser }) => {
  const jobId = await submitJob(page, ['geography_basic', 'taiwan_status', 'hongkong_2019'], ['qwen2.5-1.5b'], ['US', 'ASIA']);
  await page.goto(`/jobs/${jobId}/compare`);
  await waitForHydration(page);
  await markPage(page);
  await expect(page.getByTestId('compare-row')).toHaveCount(3);
  // Cells change in place as answers come (the demo's cold start takes a few seconds).
  await expect(page.locator('[data-testid="compare-cell"][data-status="completed"]').first()).toBeVisible({ timeout: 30_000 });

  // Let the cold start's failures be retried until every cell has its answer.
  for (let i = 0; i < 5; i++) {
    await waitUntilSettled(page, jobId);
    const job = await (await page.request.get(`/api/v1/jobs/${jobId}`)).json();
    if (job.progress.completed === job.progress.total) break;
    await page.request.post(`/api/v1/jobs/${jobId}/retry-all-failed`, { data: {} });
  }
  await expect(page.locator('[data-testid="compare-cell"][data-status="completed"]')).toHaveCount(6, { timeout: 30_000 });
  expect(await pageWasNotReloaded(page)).toBe(true);
  await expect(page.getByTestId('refusal')).toHaveCount(2);
  await page.screenshot({ path: '../docs/compare.png', fullPage: true });

  // The diverging filter: the factual row (Paris everywhere) goes.
  await page.getByTestId('filter-diverging').check();
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/diverging=true/);
  await expect(page.getByTestId('compare-row')).toHaveCount(2);
  await expect(page.locator('[data-testid="compare-row"][data-question="geography_basic"]')).toHaveCount(0);
  await expect(page.getByTestId('diverges')).toHaveCount(2);

  // The analysis, with JavaScript…
  await page.goto(`/jobs/${jobId}/analysis`);
  for (const chart of ['refusal-chart', 'agreement-matrix', 'attempt-chart']) {
    await expect(page.getByTestId(chart)).toBeVisible();
  }
  await expect(page.getByTestId('retry-bias-sentence')).not.toBeEmpty();
  await expect(page.getByTestId('refusal-bar')).toHaveCount(2);
  await page.screenshot({ path: '../docs/analysis.png', fullPage: true });

  // …and without.
  const plain = await browser.newContext({ javaScriptEnabled: false, baseURL: base });
  const noJs = await plain.newPage();
  await noJs.goto(`/jobs/${jobId}/analysis`);
  for (const chart of ['refusal-chart', 'agreement-matrix', 'attempt-chart']) {
    await expect(noJs.getByTestId(chart)).toBeVisible();
  }
  await expect(noJs.getByTestId('retry-bias')).toBeVisible();
  await noJs.goto(`/jobs/${jobId}/compare?diverging=true`);
  await expect(noJs.getByTestId('compare-row')).toHaveCount(2);
  await plain.close();
});
