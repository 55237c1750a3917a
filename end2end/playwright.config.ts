import { defineConfig } from '@playwright/test';
import * as os from 'os';
import * as path from 'path';
import * as fs from 'fs';

// One Beacon (the release build) with a fresh SQLite database and the built-in demo router,
// tuned so a cold start plays out in seconds: us-east fails fast with "app … is stopped",
// eu-west and asia-pacific hang past Beacon's time-out. One provider is broken for good
// (asia-pacific/mistral-7b), so retries there fail again until they run out.
const port = 8097;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'beacon-e2e-'));

export const demoEnv: Record<string, string> = {
  LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
  LEPTOS_SITE_ROOT: '../target/site',
  LEPTOS_ENV: 'PROD',
  DATABASE_URL: `sqlite:${path.join(dataDir, 'beacon.db')}`,
  HYBRID_ROUTER_TIMEOUT: '5',
  BEACON_REGION_CONCURRENCY: '4',
  DEMO_COLD_REQUESTS: '2',
  DEMO_COLD_FAIL_MS: '2500',
  DEMO_DOWN: 'asia-pacific/mistral-7b',
  DEMO_COLD_HANG_MS: '10000',
  DEMO_WARM_LATENCY_MS: '1200',
  RUST_LOG: 'warn',
};

export default defineConfig({
  testDir: './tests',
  timeout: 90_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: '../target/release/beacon',
    url: `http://127.0.0.1:${port}/health`,
    env: { ...process.env, ...demoEnv } as Record<string, string>,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
