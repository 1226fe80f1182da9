/**
 * Debian's Chromium driven by playwright-core (browser downloads do not work here, so Playwright's
 * own browsers are never used): its path is CHROMIUM_PATH or /usr/bin/chromium, installed by
 * scripts/test.sh when missing. The flags are those that make it start on a machine without a
 * network (no background fetches, no component updates) and as root (no sandbox).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. On CI a missing browser is a failure. */
export function chromiumMissing(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  const why = `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH; scripts/test.sh installs it)`;
  if (process.env.CI === 'true') throw new Error(why);
  return why;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    chromiumSandbox: false,
    args: [
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
