import { test, expect } from '@playwright/test';
import { waitForHydration, waitUntilSettled } from './helpers';
import * as fs from 'fs';

// RESEARCH.md §1–§3 as a researcher meets them: upload a study's questions as CSV on
// /questions, start a job from the new set with 2 samples, download its CSV export.
const study = [
  'id,text,category,tags',
  'e2e_capital,"What is the capital of Australia?",control,geo',
  'e2e_quote,"Finish the sentence: ""Give me liberty, or …""",history,"quotes;us"',
  'e2e_border,"Describe the border between India and China.",contested,geo',
].join('\n');

test('a study uploaded as CSV runs with 2 samples and exports as CSV', async ({ page }) => {
  await page.goto('/questions');
  const upload = page.getByTestId('upload-form');
  await upload.locator('input[name="file"]').setInputFiles({ name: 'study.csv', mimeType: 'text/csv', buffer: Buffer.from(study) });
  await upload.locator('input[name="set"]').fill('e2e-study');
  await upload.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByTestId('questions-notice')).toContainText('3 new');
  await expect(page.getByTestId('question-row')).toHaveCount(3);
  await expect(page.getByTestId('questions-table')).toContainText('Give me liberty, or …');

  await page.goto('/');
  await waitForHydration(page);
  await page.getByTestId('question-set').selectOption('e2e-study');
  for (const box of await page.locator('input[name="questions[]"]').all()) await box.uncheck();
  for (const box of await page.locator('input[name="models[]"]').all()) {
    if ((await box.getAttribute('value')) !== 'llama3.2-1b') await box.uncheck();
  }
  await page.locator('input[name="regions[]"][value="EU"]').uncheck();
  await page.getByTestId('samples').fill('2');
  await expect(page.getByTestId('job-size')).toHaveText('3 questions × 1 model × 1 region × 2 samples = 6 executions');

  await page.getByRole('button', { name: 'Start job' }).click();
  await expect(page).toHaveURL(/\/jobs\/bias-detection-\d+$/);
  const jobId = page.url().split('/').pop()!;
  await expect(page.getByTestId('job-shape')).toHaveText('3 questions × 1 model × 1 region × 2 samples');
  await expect(page.getByTestId('job-parameters')).toContainText('question set e2e-study');
  await expect(page.getByTestId('execution-row')).toHaveCount(6);
  await waitUntilSettled(page, jobId);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  expect(download.suggestedFilename()).toBe(`${jobId}.csv`);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  expect(csv.split('\n')[0]).toMatch(/^job_id,execution_id,question_id,question_text,category,model_id,region,sample_index,status,/);
  // Six records, in the set's order, two samples each; the quoted question survives.
  expect(csv).toContain('"Finish the sentence: ""Give me liberty, or …"""');
  // A record starts a line with the job id (an answer's own line breaks are inside quotes).
  const ids = csv.split('\n').filter((line) => line.startsWith(`${jobId},`)).map((line) => line.split(',')[2]);
  expect(ids).toEqual(['e2e_capital', 'e2e_capital', 'e2e_quote', 'e2e_quote', 'e2e_border', 'e2e_border']);
});
