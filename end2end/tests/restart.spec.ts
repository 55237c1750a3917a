import { test, expect } from '@playwright/test';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { markPage, pageWasNotReloaded, waitForHydration } from './helpers';
import { e2eData } from '../playwright.config';

// A Beacon of this test's own, so it can be killed and started again on the same database.
const port = 8098;
const base = `http://127.0.0.1:${port}`;
const dataDir = path.join(e2eData, 'restart');
fs.mkdirSync(dataDir, { recursive: true });
const env = {
  ...process.env,
  LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
  LEPTOS_SITE_ROOT: '../target/site',
  LEPTOS_ENV: 'PROD',
  DATABASE_URL: `sqlite:${path.join(dataDir, 'beacon.db')}`,
  HYBRID_ROUTER_TIMEOUT: '120',
  BEACON_LEASE_SECONDS: '2',
  DEMO_COLD_REQUESTS: '1',
  DEMO_COLD_FAIL_MS: '200',
  DEMO_COLD_HANG_MS: '120000',
  DEMO_WARM_LATENCY_MS: '200',
  RUST_LOG: 'warn',
};

let server: ChildProcess | undefined;

async function startServer() {
  server = spawn('../target/release/beacon', [], { env, stdio: 'inherit' });
  await expect
    .poll(async () => {
      try {
        return (await fetch(`${base}/health`)).status;
      } catch {
        return 0;
      }
    }, { timeout: 30_000 })
    .toBe(200);
}

test.afterAll(() => {
  server?.kill('SIGKILL');
});

test('a page open across a server crash reconnects and shows what changed meanwhile', async ({ page }) => {
  await startServer();
  // us-east fails at once (cold); eu-west waits for a container that never comes.
  const submitted = await fetch(`${base}/api/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ questions: ['math_basic'], models: ['llama3.2-1b'], regions: ['US', 'EU'] }),
  });
  const id = (await submitted.json()).id;

  await page.goto(`${base}/jobs/${id}`);
  await waitForHydration(page);
  await markPage(page);
  await expect(page.getByTestId('live-state')).toHaveText('● Live');
  const us = page.getByTestId('region-us-east').locator('[data-testid="execution-row"]');
  const eu = page.getByTestId('region-eu-west').locator('[data-testid="execution-row"]');
  await expect(us).toHaveAttribute('data-status', 'failed');
  await expect(eu).toHaveAttribute('data-status', 'running');

  // The server dies mid-call.
  server!.kill('SIGKILL');
  await expect(page.getByTestId('live-state')).toContainText('reconnecting');

  // It comes back; the eu-west call it lost is recovered as interrupted, and a script
  // retries the us-east failure, all before or while the page reconnects.
  await startServer();
  const usId = await us.getAttribute('data-execution-id');
  const retried = await fetch(`${base}/api/v1/executions/${usId}/retry-question`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ region: 'US', question_index: 0 }),
  });
  expect(retried.status).toBe(202);

  await expect(page.getByTestId('live-state')).toHaveText('● Live', { timeout: 15_000 });
  await expect(eu).toHaveAttribute('data-status', 'error', { timeout: 15_000 });
  await expect(eu.locator('.error-code')).toHaveText('INTERRUPTED');
  await expect(us.getByRole('button', { name: /^Retry \(2\/3\)/ })).toBeVisible({ timeout: 15_000 });
  expect(await pageWasNotReloaded(page)).toBe(true);
});
