import * as fs from 'fs';

// The databases and configuration of this run's Beacons (see playwright.config.ts). A test that
// failed keeps its trace under test-results/, which is where a reader looks, not here.
export default async function globalTeardown(): Promise<void> {
  const dir = process.env.BEACON_E2E_DATA;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
