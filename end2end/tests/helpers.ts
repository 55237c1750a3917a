import { expect, Locator, Page } from '@playwright/test';

/** Waits until the WASM has hydrated the page, so clicks reach event handlers. */
export async function waitForHydration(page: Page) {
  await expect(page.locator('.app[data-hydrated="true"]')).toBeVisible();
}

/** Marks the page so that a full reload (which would lose the mark) can be detected. */
export async function markPage(page: Page) {
  await page.evaluate(() => ((window as any).__beaconNotReloaded = true));
}

export async function pageWasNotReloaded(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as any).__beaconNotReloaded === true);
}

export function rows(page: Page) {
  return page.getByTestId('execution-row');
}

export function rowsWithStatus(page: Page, status: string) {
  return page.locator(`[data-testid="execution-row"][data-status="${status}"]`);
}

export function row(page: Page, question: string, model: string) {
  return page.locator(`[data-testid="execution-row"][data-question="${question}"][data-model="${model}"]`);
}

/** The answer opened below a row: a row of its own, the table's full width. */
export function answerBelow(row: Locator) {
  return row.locator('xpath=following-sibling::tr[1][@data-testid="answer-row"]');
}

export function toast(page: Page, text: string | RegExp) {
  return page.getByTestId('toast').filter({ hasText: text });
}

/** Submits a job through the REST API, as a script would, and returns its id. */
export async function submitJob(page: Page, questions: string[], models: string[], regions: string[]): Promise<string> {
  const response = await page.request.post('/api/v1/jobs', { data: { questions, models, regions } });
  expect(response.status()).toBe(202);
  return (await response.json()).id;
}

/** Waits (reloading, for pages without JavaScript) until no row is pending, running or retrying. */
export async function waitUntilSettled(page: Page, jobId: string) {
  await expect
    .poll(async () => {
      const response = await page.request.get(`/api/v1/jobs/${jobId}`);
      const job = await response.json();
      const p = job.progress;
      return p.pending + p.running + p.retrying;
    }, { timeout: 30_000 })
    .toBe(0);
}
