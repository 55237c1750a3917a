import { expect, Page } from '@playwright/test';

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
