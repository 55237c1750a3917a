import { defineConfig } from '@playwright/test';
import * as os from 'os';
import * as path from 'path';
import * as fs from 'fs';

// One Beacon (the release build) with a fresh SQLite database and the built-in demo router,
// tuned so a cold start plays out in seconds: us-east fails fast with "app … is stopped",
// eu-west and asia-pacific hang past Beacon's time-out. One provider is broken for good
// (asia-pacific/mistral-7b), so retries there fail again until they run out.
const port = 8097;

// Playwright evaluates this file in its main process and again in each worker: the run's data
// directory is made once and handed down through the environment, so every evaluation names the
// same folders and global-teardown.ts can remove them all.
process.env.BEACON_E2E_DATA ??= fs.mkdtempSync(path.join(os.tmpdir(), 'beacon-e2e-'));
export const e2eData = process.env.BEACON_E2E_DATA;
function dataFolder(name: string): string {
  const dir = path.join(e2eData, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
const dataDir = dataFolder('demo');

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

// A second Beacon with accounts on (SAFETY.md §1), its own database and demo router, and two
// users made with `beacon users add` before it starts.
export const authPort = 8099;
const authDir = dataFolder('auth');
export const authEnv: Record<string, string> = {
  ...demoEnv,
  LEPTOS_SITE_ADDR: `127.0.0.1:${authPort}`,
  DATABASE_URL: `sqlite:${path.join(authDir, 'beacon.db')}`,
  BEACON_AUTH: 'on',
  // Required with accounts on (SAFETY.md §7).
  BEACON_METRICS_TOKEN: 'e2e-metrics-token',
};
export const users = {
  researcher: { name: 'rita', password: 'rita-password-1' },
  viewer: { name: 'vera', password: 'vera-password-1' },
};

// A third Beacon, configured by a beacon.toml (PROVIDERS.md): one region whose provider is the
// demo router's OpenAI-compatible endpoint (a fourth process), with automatic retries.
export const providersPort = 8100;
const demoOpenAiPort = 8096;
const providersDir = dataFolder('providers');
const providersConfig = path.join(providersDir, 'beacon.toml');
fs.writeFileSync(providersConfig, `
[defaults]
auto_retries = 2
auto_retry_backoff_seconds = [3]

[[regions]]
id = "us-east"
label = "United States (demo)"
aliases = ["US"]

[[models]]
id = "llama3.2-1b"
name = "Llama 3.2-1B Instruct"

[[models]]
id = "qwen2.5-1.5b"
name = "Qwen 2.5-1.5B Instruct"

[[providers]]
id = "demo-openai-us"
kind = "openai"
region = "us-east"
base_url = "http://127.0.0.1:${demoOpenAiPort}/openai/us-east/v1"
models = { "llama3.2-1b" = "llama3.2-1b", "qwen2.5-1.5b" = "qwen2.5-1.5b" }
timeout_seconds = 5
`);
const demoOpenAiEnv: Record<string, string> = {
  DEMO_COLD_REQUESTS: '1',
  DEMO_COLD_FAIL_MS: '300',
  DEMO_WARM_LATENCY_MS: '500',
  RUST_LOG: 'warn',
};
export const providersEnv: Record<string, string> = {
  ...demoEnv,
  LEPTOS_SITE_ADDR: `127.0.0.1:${providersPort}`,
  DATABASE_URL: `sqlite:${path.join(providersDir, 'beacon.db')}`,
  BEACON_CONFIG: providersConfig,
};

// A fifth Beacon for the research pages (compare, analysis), with its own database and demo
// router, so its jobs do not warm the first Beacon's providers before job_run.spec's cold start.
export const researchPort = 8101;
const researchDir = dataFolder('research');
export const researchEnv: Record<string, string> = {
  ...demoEnv,
  LEPTOS_SITE_ADDR: `127.0.0.1:${researchPort}`,
  DATABASE_URL: `sqlite:${path.join(researchDir, 'beacon.db')}`,
};

export default defineConfig({
  testDir: './tests',
  globalTeardown: './global-teardown.ts',
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
  webServer: [
    {
      command: '../target/release/beacon',
      url: `http://127.0.0.1:${researchPort}/health`,
      env: { ...process.env, ...researchEnv } as Record<string, string>,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      command: '../target/release/beacon',
      url: `http://127.0.0.1:${port}/health`,
      env: { ...process.env, ...demoEnv } as Record<string, string>,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      command:
        `printf '%s\\n' '${users.researcher.password}' | ../target/release/beacon users add ${users.researcher.name} --role researcher && ` +
        `printf '%s\\n' '${users.viewer.password}' | ../target/release/beacon users add ${users.viewer.name} --role viewer && ` +
        'exec ../target/release/beacon',
      url: `http://127.0.0.1:${authPort}/health`,
      env: { ...process.env, ...authEnv } as Record<string, string>,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      command: `../target/release/beacon demo-router --addr 127.0.0.1:${demoOpenAiPort}`,
      url: `http://127.0.0.1:${demoOpenAiPort}/health`,
      env: { ...process.env, ...demoOpenAiEnv } as Record<string, string>,
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      command: '../target/release/beacon',
      url: `http://127.0.0.1:${providersPort}/health`,
      env: { ...process.env, ...providersEnv } as Record<string, string>,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
  ],
});
