/**
 * Launches Debian's Chromium through playwright-core (no bundled browser
 * download). CHROMIUM_PATH overrides the executable; install it with
 * `apt-get install -y chromium` when /usr/bin/chromium is missing.
 */
import { chromium, type Browser } from 'playwright-core';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
