// Opening the app's page in a benchmark's Chromium.
import type { Page } from 'playwright-core';

/**
 * `page.goto(url)`, tried up to 5 times 2 s apart: on a busy machine the serve process's first connection can be
 * reset while it reads its records at start-up.
 */
export async function gotoRetrying(page: Page, url: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const loaded = await page.goto(url).then(
      () => true,
      (err: unknown) => {
        if (attempt >= 5) throw err;
        return false;
      },
    );
    if (loaded) return;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}
