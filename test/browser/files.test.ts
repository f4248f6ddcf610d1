/**
 * Files in a real browser: attach with the button (the upload's progress shows, slowed down by
 * Chromium's own network throttling), cancel an upload, send, and see a file card; paste and drop
 * files; an image with a preview opens full size and closes with Escape; and the messages for a
 * file that is too large or past the quota. Downloads are not checked here (the links are the
 * server's; serving them is covered with the download routes).
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import type { Page } from "playwright-core";
import type { ChatFile, Message } from "../../src/protocol/index.js";
import {
  type BrowserPerson,
  composer,
  newPerson,
  roomButton,
  screenshot,
  signInWithPassword,
  type Ui,
  useBrowser,
} from "../support/browser.js";
import { ok, startServer, type TestServer, until } from "../support/harness.js";

const { skip, browser } = await useBrowser();

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

/** A PDF-looking file of `size` bytes (the server reads its type from the first bytes). */
function pdf(size: number): Buffer {
  const bytes = Buffer.alloc(size, 0x20);
  bytes.write("%PDF-1.4\n");
  return bytes;
}

/** The message with this text in `ui`. */
function message(ui: Ui, text: string) {
  return ui.getByRole("article").filter({ has: ui.locator(".msg-body", { hasText: text }) });
}

/**
 * What the timeline shows for `file`: its preview when the server made one, else its card; both
 * point at the server's links exactly.
 */
function shownFile(ui: Ui, file: ChatFile) {
  return file.thumbnailUrl === null
    ? ui.locator(`a.file-card[href^="${file.url.split("?")[0]}?"]`)
    : ui.locator(`img[src^="${file.thumbnailUrl?.split("?")[0]}?"]`);
}

/** Uploads crawl at this many bytes a second in `page` (Chromium's DevTools throttling). */
async function slowUploads(page: Page, bytesPerSecond: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
}

/** The newest message of a room, as its member `person` is sent it. */
async function newestMessage(server: TestServer, person: BrowserPerson, roomId: string): Promise<Message> {
  const socket = await server.connect(person.user);
  const { messages } = await ok(socket, "message:history", { roomId, limit: 1 });
  socket.close();
  assert.equal(messages.length, 1);
  return messages[0]!;
}

function spoolOf(server: TestServer): string[] {
  const store = server.config.files.store;
  assert.equal(store.kind, "disk");
  const spool = join(store.kind === "disk" ? store.dir : "", ".incoming");
  return existsSync(spool) ? readdirSync(spool) : [];
}

/** Two people in a direct chat, both signed in, both looking at it. */
async function directChat(t: TestContext, server: TestServer) {
  const alice = await newPerson(t, browser(), server, "Alice Files");
  const bob = await newPerson(t, browser(), server, "Bob Files");
  const socket = await server.connect(alice.user);
  const { room } = await ok(socket, "room:direct", { userId: bob.user.id });
  socket.close();
  await signInWithPassword(alice, server);
  await signInWithPassword(bob, server);
  await roomButton(alice.ui, "Bob Files").click();
  await roomButton(bob.ui, "Alice Files").click();
  return { alice, bob, roomId: room.id };
}

test("attach with the button: progress, cancel, send, and a file card for both", { skip }, async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const { alice, bob, roomId } = await directChat(t, server);
  await slowUploads(alice.page, 400 * 1024);
  const input = alice.ui.getByLabel("Files to attach");

  // an upload that takes a few seconds: its bar moves, then the chip can be removed instead
  await input.setInputFiles({ name: "roster.pdf", mimeType: "application/pdf", buffer: pdf(900 * 1024) });
  const bar = alice.ui.getByRole("progressbar", { name: "Uploading roster.pdf" });
  await bar.waitFor();
  await until(
    async () => {
      const value = Number(await bar.getAttribute("value").catch(() => "0"));
      return value > 0 && value < 100;
    },
    10_000,
    "the progress bar to be partway",
  );
  assert.equal(
    await alice.ui.getByRole("button", { name: "Send" }).isDisabled(),
    true,
    "no sending mid-upload",
  );
  await alice.ui.getByRole("button", { name: "Remove roster.pdf" }).waitFor({ timeout: 15_000 });
  assert.equal(await bar.count(), 0, "the bar goes once uploaded");

  // a second, larger one is cancelled partway: its chip goes and the server keeps nothing of it
  await input.setInputFiles({
    name: "archive.pdf",
    mimeType: "application/pdf",
    buffer: pdf(4 * 1024 * 1024),
  });
  const second = alice.ui.getByRole("progressbar", { name: "Uploading archive.pdf" });
  await until(
    async () => Number(await second.getAttribute("value").catch(() => "0")) > 0,
    10_000,
    "bytes out",
  );
  await alice.ui.getByRole("button", { name: "Cancel uploading archive.pdf" }).click();
  assert.equal(await alice.ui.getByRole("list", { name: "Files to send" }).getByRole("listitem").count(), 1);
  await until(() => spoolOf(server).length === 0, 10_000, "the cancelled upload to be dropped");
  assert.equal(await server.app.store.fileBytesOf(alice.user.id), 900 * 1024, "only roster.pdf is kept");
  await screenshot(alice.page, "desktop-files-attached");

  await composer(alice.ui).fill("The roster for next week");
  await composer(alice.ui).press("Enter");
  await message(bob.ui, "The roster for next week").waitFor();
  assert.equal(
    await alice.ui.getByRole("list", { name: "Files to send" }).count(),
    0,
    "the chips are cleared",
  );

  const sent = await newestMessage(server, bob, roomId);
  assert.equal(sent.files.length, 1);
  const file = sent.files[0]!;
  assert.deepEqual(
    { name: file.name, size: file.size, type: file.type, thumbnailUrl: file.thumbnailUrl },
    { name: "roster.pdf", size: 900 * 1024, type: "application/pdf", thumbnailUrl: null },
  );
  for (const person of [alice, bob]) {
    const card = message(person.ui, "The roster for next week").locator(
      `a.file-card[href^="${file.url.split("?")[0]}?"]`,
    );
    await card.waitFor();
    assert.equal(await card.getAttribute("download"), "roster.pdf");
    assert.deepEqual(
      await Promise.all([".file-icon", ".file-name", ".file-meta"].map((c) => card.locator(c).textContent())),
      ["📕", "Download roster.pdf", "PDF · 900 KB"],
    );
  }
  await screenshot(bob.page, "desktop-files");
  assert.deepEqual(alice.dialogs, []);
  assert.deepEqual(alice.cspErrors, []);
});

test("paste an image and drop a file onto the conversation, then send them together", { skip }, async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const { alice, bob, roomId } = await directChat(t, server);

  // paste: what a screenshot tool puts on the clipboard is a file only
  // (the page's own code, as a string: the tests are type-checked without the DOM library)
  await alice.page.evaluate(`(() => {
    const png = Uint8Array.from(atob(${JSON.stringify(PNG.toString("base64"))}), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([png], "screenshot.png", { type: "image/png" }));
    document.getElementById("composer-input").dispatchEvent(
      new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }),
    );
  })()`);
  await alice.ui.getByRole("button", { name: "Remove screenshot.png" }).waitFor();

  // drop: a file dragged from the desktop onto the messages
  const dragged = await alice.page.evaluateHandle(`(() => {
    const data = new DataTransfer();
    data.items.add(new File(["Anna: early\\nBen: late\\n"], "shifts.txt", { type: "text/plain" }));
    return data;
  })()`);
  const log = alice.ui.getByRole("log", { name: "Messages" });
  await log.dispatchEvent("dragover", { dataTransfer: dragged });
  await alice.ui.getByText("Drop files here to send them").waitFor();
  await log.dispatchEvent("drop", { dataTransfer: dragged });
  await alice.ui.getByRole("button", { name: "Remove shifts.txt" }).waitFor();
  assert.equal(await alice.ui.getByText("Drop files here to send them").count(), 0);

  // sent without any text
  await alice.ui.getByRole("button", { name: "Send" }).click();
  await bob.ui.getByRole("list", { name: "2 files" }).waitFor();
  const sent = await newestMessage(server, bob, roomId);
  assert.equal(sent.body, "");
  assert.deepEqual(
    sent.files.map((f) => [f.name, f.type, f.size]),
    [
      ["screenshot.png", "image/png", PNG.length],
      ["shifts.txt", "text/plain", 22],
    ],
  );
  for (const file of sent.files) await shownFile(bob.ui, file).waitFor();
  assert.equal(await bob.ui.getByRole("list", { name: "2 files" }).count(), 1);
  // the chat list shows the file names for a message without text
  assert.match(
    (await roomButton(bob.ui, "Alice Files").locator(".room-preview").textContent()) ?? "",
    /📎 screenshot\.png, shifts\.txt/,
  );
});

test("an image with a preview shows it in the timeline and full size; Escape closes", { skip }, async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const { alice, bob, roomId } = await directChat(t, server);
  // a stored image record with a thumbnail, as the upload of a photo makes it, and a file whose
  // name is markup (it must show as text and run nothing)
  const record = (name: string, type: string, image: boolean) =>
    server.app.store.createFile(
      {
        uploaderId: alice.user.id,
        name,
        size: 123_456,
        type,
        width: image ? 1200 : null,
        height: image ? 900 : null,
        hasThumbnail: image,
        storeKey: `aa/${name.length}-test`,
        at: new Date().toISOString(),
      },
      server.config.files.quotaBytes,
    );
  const photo = await record("receipt.jpg", "image/jpeg", true);
  const hostile = await record("<img src=x onerror=alert(1)>.txt", "text/plain", false);
  const socket = await server.connect(alice.user);
  const { message: sent } = await ok(socket, "message:send", {
    roomId,
    body: "Lunch receipt",
    clientId: "receipt-1",
    fileIds: [photo.id, hostile.id],
  });
  socket.close();
  const file = sent.files[0]!;
  assert.notEqual(file.thumbnailUrl, null);

  const preview = message(bob.ui, "Lunch receipt").locator(
    `img[src^="${file.thumbnailUrl?.split("?")[0]}?"]`,
  );
  await preview.waitFor();
  assert.equal(await preview.getAttribute("alt"), "receipt.jpg");
  assert.deepEqual(
    [await preview.getAttribute("width"), await preview.getAttribute("height")],
    ["360", "270"],
  );

  // keyboard: focus the preview's button and press Enter
  const open = bob.ui.getByRole("button", { name: "Show receipt.jpg full size" });
  await open.focus();
  await open.press("Enter");
  const viewer = bob.ui.getByRole("dialog", { name: "receipt.jpg" });
  await viewer.waitFor();
  // links are signed for each reader: bob's link names the same file, signed for bob
  assert.equal((await viewer.locator("img").getAttribute("src"))?.split("?")[0], file.url.split("?")[0]);
  assert.equal(
    (await viewer.getByRole("link", { name: /^Download/ }).getAttribute("href"))?.split("?")[0],
    file.url.split("?")[0],
  );
  await bob.page.keyboard.press("Escape");
  await viewer.waitFor({ state: "detached" });
  assert.equal(
    await bob.page.evaluate('document.activeElement?.getAttribute("aria-label")'),
    "Show receipt.jpg full size",
    "the focus goes back to the preview",
  );
  const card = message(bob.ui, "Lunch receipt").locator(
    `a.file-card[href^="${sent.files[1]!.url.split("?")[0]}?"]`,
  );
  assert.equal(await card.locator(".file-name").textContent(), "Download <img src=x onerror=alert(1)>.txt");
  assert.equal(
    await message(bob.ui, "Lunch receipt").locator(".msg-files img").count(),
    1,
    "only the preview",
  );
  assert.deepEqual(bob.dialogs, []);
});

test("the page shows pictures from its own server and blob: only, never from elsewhere or data:", {
  skip,
}, async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const { alice } = await directChat(t, server);
  // a real PNG uploaded by alice: its signed link is a picture on the page's own origin
  const form = new FormData();
  form.append("file", new Blob([PNG]), "dot.png");
  const res = await fetch(`${server.url}/api/files`, {
    method: "POST",
    headers: { authorization: `Bearer ${await server.token(alice.user.id)}` },
    body: form,
  });
  assert.equal(res.status, 201);
  const { file } = (await res.json()) as { file: ChatFile };
  const own = new URL(file.url, server.url);
  // the same server by another name is another origin to the browser
  const elsewhere = new URL(own.href);
  elsewhere.hostname = "localhost";
  // page code as text: the tests are compiled without the DOM's types
  const shows = (src: string): Promise<string> =>
    alice.page.evaluate(`new Promise((resolve) => {
      const img = document.createElement("img");
      img.onload = () => resolve("loaded " + img.naturalWidth + "×" + img.naturalHeight);
      img.onerror = () => resolve("refused");
      img.src = ${JSON.stringify(src)};
      document.body.append(img);
    })`);
  const blobUrl: string = await alice.page.evaluate(
    `URL.createObjectURL(new Blob([Uint8Array.from(atob(${JSON.stringify(PNG.toString("base64"))}), (c) => c.charCodeAt(0))], { type: "image/png" }))`,
  );
  assert.deepEqual(
    {
      own: await shows(own.href),
      blob: await shows(blobUrl),
      elsewhere: await shows(elsewhere.href),
      data: await shows(`data:image/png;base64,${PNG.toString("base64")}`),
    },
    { own: "loaded 1×1", blob: "loaded 1×1", elsewhere: "refused", data: "refused" },
  );
  // refused by the Content-Security-Policy, not by the server: one report for each of the two
  await until(() => alice.cspErrors.length === 2);
  assert.equal(alice.cspErrors.length, 2);
  assert.ok(
    alice.cspErrors.some((e) => e.includes(elsewhere.origin)),
    alice.cspErrors.join("\n"),
  );
  assert.ok(
    alice.cspErrors.some((e) => e.includes("data:")),
    alice.cspErrors.join("\n"),
  );
});

test("a file too large, and one past the quota, are refused in everyday words", { skip }, async (t) => {
  const server = await startServer({
    env: { FILES_MAX_BYTES: "65536", FILES_QUOTA_BYTES: "102400", RATE_LIMIT_UPLOADS: "3" },
  });
  t.after(() => server.close());
  const { alice } = await directChat(t, server);
  const input = alice.ui.getByLabel("Files to attach");

  await input.setInputFiles({
    name: "video.mp4",
    mimeType: "video/mp4",
    buffer: Buffer.alloc(300 * 1024, 1),
  });
  const chip = alice.ui.getByRole("list", { name: "Files to send" }).getByRole("listitem");
  await chip.getByRole("alert").waitFor();
  assert.equal(
    await chip.getByRole("alert").textContent(),
    "“video.mp4” is too large to send. Files can be at most 64 KB.",
  );
  await alice.ui.getByRole("button", { name: "Remove video.mp4" }).click();
  assert.equal(await chip.count(), 0);

  await input.setInputFiles({
    name: "one.bin",
    mimeType: "application/octet-stream",
    buffer: Buffer.alloc(60_000, 2),
  });
  await alice.ui.getByRole("button", { name: "Remove one.bin" }).waitFor();
  await until(async () => (await alice.ui.getByRole("progressbar").count()) === 0, 5000, "the first upload");
  await input.setInputFiles({
    name: "two.bin",
    mimeType: "application/octet-stream",
    buffer: Buffer.alloc(60_000, 3),
  });
  const refused = alice.ui.getByRole("listitem").filter({ hasText: "two.bin" }).getByRole("alert");
  await refused.waitFor();
  assert.equal(
    await refused.textContent(),
    "There is no room left for “two.bin”: your files use all the space you have (100 KB). Delete some messages with files, or ask your TimeWise administrator for more space.",
  );
  // the uploaded one can still be sent on its own
  assert.equal(await alice.ui.getByRole("button", { name: "Send" }).isDisabled(), false);
  // a fourth upload within the minute is one too many: that one can be tried again later
  await input.setInputFiles({ name: "three.txt", mimeType: "text/plain", buffer: Buffer.from("three") });
  const limited = alice.ui.getByRole("listitem").filter({ hasText: "three.txt" });
  await limited.getByRole("alert").waitFor();
  assert.equal(
    await limited.getByRole("alert").textContent(),
    "You are sending files too quickly. Wait a moment, then try again.",
  );
  assert.equal(await limited.getByRole("button", { name: "Try again" }).count(), 1);
  assert.equal(
    await alice.ui
      .getByRole("listitem")
      .filter({ hasText: "two.bin" })
      .getByRole("button", { name: "Try again" })
      .count(),
    0,
    "a full quota is not worth trying again",
  );
  await screenshot(alice.page, "desktop-files-refused");
});
