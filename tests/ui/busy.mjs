// The admin UI rides out the server's admission control: with every GraphQL execution slot
// held (by the Rust test driving this script) requests are refused `503 RATE_LIMITED` with
// `Retry-After`, and the page waits and retries instead of showing an error. Prints `refused` at the first
// refusal, then `ok …` on success, `FAIL …` otherwise.
import { chromium } from 'playwright-core';

const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const browser = await chromium.launch({
  executablePath: CHROMIUM_PATH,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage();
  const statuses = [];
  page.on('response', (r) => {
    if (!r.url().endsWith('/graphql')) return;
    statuses.push(r.status());
    // The driving test frees the server's slot once it reads this.
    if (r.status() === 503 && statuses.filter((s) => s === 503).length === 1) console.log('refused');
  });
  await page.goto(`${BASE_URL}/#/`);
  await page.getByLabel('Email').fill(process.env.ADMIN_EMAIL);
  await page.getByLabel('Password').fill(process.env.ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor({ timeout: 30000 });
  const refused = statuses.filter((s) => s === 503).length;
  if (refused === 0) throw new Error(`no request was refused while the server was busy: ${statuses}`);
  const alerts = await page.getByRole('alert').allInnerTexts();
  if (alerts.some((t) => /busy|try again/i.test(t))) throw new Error(`an error was shown: ${alerts}`);
  console.log(`ok busy server: signed in after ${refused} refused requests (statuses ${statuses.join(' ')})`);
} catch (e) {
  console.log(`FAIL busy server: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
