/**
 * Real-browser tests: Debian's Chromium driven by playwright-core (never a downloaded browser),
 * one fresh context per person, the web app as the server serves it, and screenshots of the main
 * screens in test-artifacts/ (and in docs/screenshots/ with UPDATE_SCREENSHOTS=1).
 */
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, type TestContext } from "node:test";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { buildWeb } from "../../scripts/build-web.js";
import { ROOT, type TestServer, type TestUser } from "./harness.js";
import { CHROMIUM, requireService } from "./services.js";

const ARTIFACTS = join(ROOT, "test-artifacts/screenshots");
const DOCS = join(ROOT, "docs/screenshots");

/**
 * Builds the web app if dist/web is missing, so a single test file runs from a fresh clone too
 * (`npm test` builds it before running any test).
 */
export async function ensureWebBuild(): Promise<void> {
  if (!existsSync(join(ROOT, "dist/web/index.html"))) await buildWeb();
}

/** Launches headless Chromium, building the web app first if dist/web is missing. */
export async function launchBrowser(): Promise<Browser> {
  await ensureWebBuild();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // playwright gives every launch a fresh temporary profile (user-data-dir)
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-quic",
      "--disable-sync",
    ],
  });
}

/** The browser a test file shares, and whether its tests run here. */
export interface FileBrowser {
  /** for `{ skip }` of each browser test: false, or why Chromium can't run here */
  skip: string | false;
  /** the launched Chromium; only inside a test, once the file's `before` hook has run */
  browser(): Browser;
}

/**
 * One Chromium for the whole test file: launched before its tests (unless they are skipped) and
 * closed after them, since a launch takes seconds and every test gets fresh contexts anyway.
 * Call once, at the top level of a browser test file (`await useBrowser()`).
 */
export async function useBrowser(): Promise<FileBrowser> {
  const skip = await requireService("chromium");
  let browser: Browser | undefined;
  before(async () => {
    if (!skip) browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });
  return {
    skip,
    browser() {
      if (!browser) throw new Error("the browser is launched in the test file's before hook");
      return browser;
    },
  };
}

/** Where the chat UI lives: the page itself, or the iframe the embed script made. */
export type Ui = Pick<Page, "getByRole" | "getByLabel" | "getByText" | "locator">;

export const DESKTOP = { width: 1200, height: 760 };
export const PHONE = { width: 360, height: 740 };

/** A person with their own browser context, watching for script dialogs and CSP violations. */
export interface BrowserPerson {
  user: TestUser;
  password: string;
  context: BrowserContext;
  page: Page;
  ui: Ui;
  /** alert()/confirm() dialogs that opened (an XSS would show up here) */
  dialogs: string[];
  /** console errors about the Content-Security-Policy */
  cspErrors: string[];
}

export async function newPerson(
  t: TestContext,
  browser: Browser,
  server: TestServer,
  name: string,
  viewport = DESKTOP,
): Promise<BrowserPerson> {
  const password = `pw-${name.toLowerCase().replace(/\W+/g, "-")}`;
  const user = await server.addUser(name, { password });
  const context = await browser.newContext({ viewport, locale: "en-GB", timezoneId: "UTC" });
  context.setDefaultTimeout(10_000);
  t.after(() => context.close());
  const page = await context.newPage();
  const person: BrowserPerson = { user, password, context, page, ui: page, dialogs: [], cspErrors: [] };
  context.on("page", (p) => watch(p, person));
  watch(page, person);
  return person;
}

function watch(page: Page, person: BrowserPerson): void {
  page.on("dialog", (dialog) => {
    person.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("console", (message) => {
    if (message.type() === "error" && /Content.Security.Policy/i.test(message.text())) {
      person.cspErrors.push(message.text());
    }
  });
}

/** Opens the server's page and signs in with the password form. */
/** The box where a message is written in the open room. */
export const composer = (ui: Ui) => ui.getByRole("textbox", { name: "Message" });

/** Writes a message in the open room and sends it with Enter, as a person would. */
export async function say(ui: Ui, text: string): Promise<void> {
  await composer(ui).fill(text);
  await composer(ui).press("Enter");
}

export async function signInWithPassword(person: BrowserPerson, server: TestServer): Promise<void> {
  await person.page.goto(server.url);
  await person.page.getByLabel("Username").fill(person.user.login);
  await person.page.getByLabel("Password").fill(person.password);
  await person.page.getByRole("button", { name: "Sign in" }).click();
  await person.page.getByRole("navigation", { name: "Chats" }).waitFor();
}

/**
 * Opens a page of "the PHP app" on another origin that embeds the chat with one script tag and a
 * token; the person's UI is then the iframe's content.
 */
export async function openEmbedded(t: TestContext, person: BrowserPerson, server: TestServer): Promise<void> {
  const token = await server.token(person.user.id);
  const host = await hostPage(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>TimeWise · Timesheets</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui; margin: 0; padding: 16px; background: #f1f5f9">
<h1 style="font-size: 20px; margin: 0 0 12px">Timesheets</h1>
<script src="${server.url}/embed.js" data-token="${token}" data-height="560px"></script>
</body></html>`,
  );
  t.after(() => new Promise<void>((resolve) => host.close(() => resolve())));
  await person.page.goto(`http://127.0.0.1:${(host.address() as AddressInfo).port}/timesheets.php`);
  person.ui = person.page.frameLocator("iframe.timewise-chat");
  await person.ui.getByRole("navigation", { name: "Chats" }).waitFor();
}

function hostPage(html: string): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** Saves a screenshot as a test artifact, and as the docs' copy with UPDATE_SCREENSHOTS=1. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  if (process.env.UPDATE_SCREENSHOTS === "1") {
    mkdirSync(DOCS, { recursive: true });
    copyFileSync(file, join(DOCS, `${name}.png`));
  }
}

/** The texts of the stored (not pending) messages shown in the open room. */
export function shownMessages(ui: Ui): Promise<string[]> {
  return ui.locator(".msg:not(.pending) .msg-body").allTextContents();
}

/** The chat list entry for a room, found by its title. */
export function roomButton(ui: Ui, title: string) {
  return ui.getByRole("list", { name: "Your chats" }).getByRole("button", { name: new RegExp(`^${title}`) });
}
