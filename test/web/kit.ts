// The browser tests' harness: the app built by scripts/build-web.ts into a temp folder, a real gateway
// serving it at /app/ over a private copy of the seeded database and the run's redis-server, and one
// headless Debian chromium (installed by scripts/test.sh) per test file, driven by playwright-core.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, inject } from 'vitest';
import { buildWeb } from '../../scripts/build-web.ts';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { createCustomers, type Customer } from '../ticketing/kit.ts';

export const CHROMIUM = '/usr/bin/chromium';

export interface WebFixture {
  database: TestDatabase;
  gateway: TestGateway;
  browser: Browser;
  customers: Customer[];
  /** http://127.0.0.1:<port>/app/ */
  appUrl: string;
  /** Console errors and CSP violations of every page opened through `open`. */
  pageErrors: string[];
}

export function useWebFixture(customers: number): WebFixture {
  const fixture = { pageErrors: [] as string[] } as WebFixture;
  let webDir: string | undefined;
  beforeAll(async () => {
    webDir = await mkdtemp(join(tmpdir(), 'cachegate-web-'));
    const [database, browser] = await Promise.all([
      createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase')),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] }),
      buildWeb(join(webDir, 'dist')),
    ]);
    fixture.database = database;
    fixture.browser = browser;
    fixture.gateway = await startTestGateway({
      databaseUrl: database.url,
      redisUrl: inject('redisUrl'),
      env: { WEB_DIR: join(webDir, 'dist'), TICKETING_COALESCE_MS: '5' },
    });
    fixture.appUrl = fixture.gateway.url.replace(/\/graphql$/, '/app/');
    fixture.customers = await createCustomers(database.url, customers);
  });
  afterAll(async () => {
    await fixture.browser?.close();
    await fixture.gateway?.stop();
    await fixture.database?.drop();
    if (webDir) await rm(webDir, { recursive: true, force: true });
  });
  return fixture;
}

/** A browser context (its own storage, like a separate person) signed in with `token`, or anonymous. */
export async function openContext(
  fixture: WebFixture,
  token: string | undefined,
  viewport = { width: 1000, height: 800 },
): Promise<BrowserContext> {
  const context = await fixture.browser.newContext({ viewport });
  // Runs inside the page (serialised), so it names nothing of this module.
  const remember = (t: string): void =>
    (globalThis as never as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem(
      'cachegate.token',
      t,
    );
  if (token) await context.addInitScript(remember, token);
  return context;
}

const sentFrames = new WeakMap<Page, string[]>();
const sentDocuments: string[] = [];

/** Every GraphQL document any page sent, over HTTP or graphql-ws. */
export function documentsSent(): readonly string[] {
  return sentDocuments;
}

/** The graphql-ws messages a page sent, parsed, in order. */
export function framesSent(page: Page): { type: string; payload?: { variables?: Record<string, unknown> } }[] {
  return (sentFrames.get(page) ?? []).map((text) => JSON.parse(text));
}

/** Opens `hash` (e.g. #/event/<id>) of the app in a new page of `context`, recording its errors and frames. */
export async function open(fixture: WebFixture, context: BrowserContext, hash: string): Promise<Page> {
  const page = await context.newPage();
  const sent: string[] = [];
  sentFrames.set(page, sent);
  page.on('websocket', (socket) =>
    socket.on('framesent', (frame) => {
      sent.push(String(frame.payload));
      const message = JSON.parse(String(frame.payload)) as { type: string; payload?: { query?: string } };
      if (message.type === 'subscribe' && message.payload?.query) sentDocuments.push(message.payload.query);
    }),
  );
  page.on('request', (request) => {
    const body = request.url().endsWith('/graphql') ? request.postDataJSON() : undefined;
    if (typeof body?.query === 'string') sentDocuments.push(body.query);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') fixture.pageErrors.push(message.text());
  });
  page.on('pageerror', (error) => fixture.pageErrors.push(error.message));
  await page.goto(`${fixture.appUrl}${hash}`);
  return page;
}

/** What the functions run inside the page use (the tests compile without the DOM's types). */
interface Attributes {
  getAttribute(name: string): string | null;
}
/** Every seat's status as the page shows it, by seat id. */
export function shownSeats(page: Page): Promise<Record<string, string>> {
  return page.$$eval('[data-seat-id]', (buttons: Attributes[]) =>
    Object.fromEntries(buttons.map((b) => [b.getAttribute('data-seat-id'), b.getAttribute('data-status')])),
  );
}

/** Waits until the page shows every seat of `ids` with `status`, for at most `timeout` ms. */
export async function waitForStatus(page: Page, ids: string[], status: string, timeout: number): Promise<void> {
  await page.waitForFunction(
    ([seatIds, wanted]) =>
      seatIds.every(
        (id) =>
          (globalThis as never as { document: { querySelector(s: string): Attributes | null } }).document
            .querySelector(`[data-seat-id="${id}"]`)
            ?.getAttribute('data-status') === wanted,
      ),
    [ids, status] as const,
    { timeout },
  );
}

export const seatButton = (page: Page, id: string) => page.locator(`[data-seat-id="${id}"]`);
