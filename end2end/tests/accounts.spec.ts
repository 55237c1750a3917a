import { test, expect, Page } from '@playwright/test';
import { authPort, users } from '../playwright.config';
import { row, toast, waitForHydration } from './helpers';

// The Beacon with accounts on (playwright.config.ts): every page here is under its
// Content-Security-Policy, as all pages are; a violation would show in the console.
const auth = `http://127.0.0.1:${authPort}`;

function watchForPolicyViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Content-Security-Policy/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}

async function logIn(page: Page, user: { name: string; password: string }, next = '/') {
  await page.goto(`${auth}${next}`);
  // Not logged in: the page sends the browser to the login form, which comes back here.
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel('User name').fill(user.name);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('account')).toContainText(user.name);
}

test('a researcher logs in, runs a job, retries a failure and logs out; a viewer sees no enabled action', async ({ browser }) => {
  const researcher = await browser.newPage();
  const violations = watchForPolicyViolations(researcher);

  // A wrong password is refused without saying which half was wrong.
  await researcher.goto(`${auth}/login`);
  await researcher.getByLabel('User name').fill(users.researcher.name);
  await researcher.getByLabel('Password').fill('not the password');
  await researcher.getByRole('button', { name: 'Log in' }).click();
  await expect(researcher.getByTestId('login-error')).toHaveText('wrong user name or password');

  await logIn(researcher, users.researcher);
  await expect(researcher.getByTestId('account')).toContainText('researcher');
  await waitForHydration(researcher);

  // One question, one region, every model: the demo's us-east starts cold and fails fast.
  await researcher.locator('input[name="questions[]"]').evaluateAll((boxes) =>
    boxes.forEach((box) => ((box as HTMLInputElement).checked = (box as HTMLInputElement).value === 'math_basic')));
  await researcher.locator('input[name="regions[]"]').evaluateAll((boxes) =>
    boxes.forEach((box) => ((box as HTMLInputElement).checked = (box as HTMLInputElement).value === 'US')));
  await researcher.getByRole('button', { name: 'Start job' }).click();
  await expect(researcher).toHaveURL(/\/jobs\//);
  await expect(researcher.getByTestId('created-by')).toContainText('started by rita');
  const jobUrl = researcher.url();
  await waitForHydration(researcher);

  const cell = row(researcher, 'math_basic', 'llama3.2-1b');
  await expect(cell).toHaveAttribute('data-status', 'failed', { timeout: 20_000 });
  await cell.getByRole('button', { name: /^Retry/ }).click();
  await expect(toast(researcher, 'Retry queued: math_basic · llama3.2-1b · us-east')).toBeVisible();

  // The attempt history says who asked for the retry.
  const executionId = await cell.getAttribute('data-execution-id');
  await researcher.goto(`${auth}/executions/${executionId}`);
  await expect(researcher.getByTestId('requested-by')).toContainText('by rita');

  // A viewer, in another browser, sees the job but every action is disabled, with the reason.
  const viewerContext = await browser.newContext();
  const viewer = await viewerContext.newPage();
  watchForPolicyViolations(viewer).forEach((v) => violations.push(v));
  await logIn(viewer, users.viewer, new URL(jobUrl).pathname);
  await waitForHydration(viewer);
  await expect(viewer.getByRole('button', { name: 'Cancel job' })).toBeDisabled();
  await expect(viewer.getByRole('button', { name: /^Retry all failed/ })).toBeDisabled();
  const retries = viewer.locator('button.retry');
  await expect(retries.first()).toBeVisible({ timeout: 20_000 });
  for (const button of await retries.all()) {
    await expect(button).toBeDisabled();
    await expect(button).toHaveAttribute('title', /needs the researcher role/);
  }
  // The server refuses even if the button were enabled.
  const refused = await viewer.request.post(`${auth}/api/v1/jobs`, {
    data: { questions: ['math_basic'], models: ['llama3.2-1b'], regions: ['US'] },
    headers: { origin: auth },
  });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).code).toBe('forbidden');
  await viewer.goto(`${auth}/`);
  await expect(viewer.getByRole('button', { name: 'Start job' })).toBeDisabled();
  await viewerContext.close();

  // Log out: the session is gone, pages ask for a login again.
  await researcher.goto(`${auth}/`);
  await researcher.getByRole('button', { name: 'Log out' }).click();
  await expect(researcher).toHaveURL(/\/login/);
  await researcher.goto(jobUrl);
  await expect(researcher).toHaveURL(/\/login\?next=/);

  expect(violations).toEqual([]);
});

test('a form posted to Beacon from another site is refused and changes nothing', async ({ page }) => {
  // Beacon with accounts off, as a researcher runs it on their laptop.
  await page.goto('/');
  const action = await page.locator('form[action*="create_job"]').getAttribute('action');
  const before = (await (await page.request.get('/api/v1/jobs')).json()).jobs.length;
  const target = new URL(action!, page.url()).toString();

  // A page on another site that posts the new-job form at Beacon as soon as it loads.
  await page.route('http://attacker.test/**', (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<form method="post" action="${target}">
               <input name="questions[]" value="math_basic"><input name="models[]" value="llama3.2-1b">
               <input name="regions[]" value="US"></form>
             <script>document.forms[0].submit()</script>`,
    }));
  const answer = page.waitForResponse((response) => response.url() === target);
  await page.goto('http://attacker.test/');
  expect((await answer).status()).toBe(403);
  await expect(page.locator('body')).toContainText('cross_origin');
  const after = (await (await page.request.get('/api/v1/jobs')).json()).jobs.length;
  expect(after).toBe(before);
});
