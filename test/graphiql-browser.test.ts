import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type LiveServer } from './helpers/live-server.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// Debian's chromium (.ci/run installs it); nothing is downloaded.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUTPUT = new URL('output/', import.meta.url).pathname;

let t: TestApp;
let live: LiveServer;
let context: BrowserContext;
let profile: string;
/** Every request the page made to a host other than the test server. */
const outside: string[] = [];
beforeAll(async () => {
  t = await createTestApp();
  live = await serve(t);
  profile = mkdtempSync(path.join(tmpdir(), 'alertwire-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
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
  // Offline: anything but the server itself is refused, as on a machine without internet.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'blob:' || url.protocol === 'data:' || url.host === new URL(live.url).host) return route.continue();
    outside.push(route.request().url());
    return route.abort('internetdisconnected');
  });
});
afterAll(async () => {
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
  await live.close();
  await t.close();
});

async function openGraphiQL(): Promise<Page> {
  const page = await context.newPage();
  await page.goto(live.url, { waitUntil: 'load' });
  await page.locator('.graphiql-container').first().waitFor({ timeout: 20_000 });
  return page;
}

/** An editor's text with Monaco's non-breaking spaces and line numbers' breaks made plain. */
async function textOf(page: Page, selector: string): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's locator.innerText, not the DOM property
  return (await page.locator(selector).first().innerText()).replace(/\u00a0/g, ' ');
}

describe('GraphiQL', () => {
  it('renders offline, titled Alertwire, opening with a register mutation', async () => {
    const page = await openGraphiQL();
    expect(await page.title()).toBe('Alertwire');
    await expect.poll(() => textOf(page, '.graphiql-query-editor'), { timeout: 10_000 }).toContain('mutation Register($input: RegisterInput!)');
    expect(outside).toEqual([]);
    await page.close();
  });

  it('runs a query typed into it with an X-API-Key header', async () => {
    const { apiKey, userId } = await t.register('Browser User');
    const page = await openGraphiQL();
    // A fresh tab: the first one holds the register mutation.
    await page.getByRole('button', { name: /new tab/i }).click();
    const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('query Me { viewer { id name } }');

    await page.getByRole('button', { name: /^headers$/i }).click();
    const headers = page.locator('.graphiql-editor-tool .monaco-editor').last();
    await headers.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(JSON.stringify({ 'X-API-Key': apiKey }));

    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => textOf(page, '.graphiql-response'), { timeout: 15_000 }).toContain(userId);
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, 'graphiql.png'), fullPage: true });
    expect(await textOf(page, '.graphiql-response')).toContain('"name": "Browser User"');
    expect(outside).toEqual([]);
    await page.close();
  });
});
