// The browser benchmarks: same server and browser as the tests, other folder.
// npx playwright test --config playwright.bench.config.ts
import base from './playwright.config';
import { defineConfig } from '@playwright/test';

export default defineConfig({ ...base, testDir: './bench', timeout: 180_000 });
