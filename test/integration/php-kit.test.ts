/**
 * The PHP kit (integrations/php/TimeWiseChat.php) run by real PHP: its tokens open sockets and
 * tampered ones are refused; its server API calls work end to end; its embed snippet is safe to
 * print. And the example page, served by PHP's own web server, gives a real Chromium a working
 * chat, signed in once with a kit token and once with the PHP session cookie.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import type { ChatFile, RecordSyncBody } from "../../src/protocol/index.js";
import { unsignedFile } from "../support/files.js";
import {
  CHROMIUM,
  craftToken,
  ok,
  request,
  requireService,
  startServer,
  TEST_SECRET,
  type TestServer,
  until,
  waitFor,
} from "../support/harness.js";
import { php } from "../support/php.js";
import { group, person } from "../support/rooms.js";

const KIT = join(import.meta.dirname, "../../integrations/php/TimeWiseChat.php");
const EXAMPLE = join(import.meta.dirname, "../../integrations/php/example");
const KEY = "service-key-for-the-php-kit-tests-0123456789";
/** A 1×1 PNG: its type is read from these bytes, whatever the name says. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

const skip = await requireService("php");

/** Runs PHP code with the kit loaded and `$chat` built for `server`; resolves with its JSON output. */
async function kit(server: TestServer, code: string, args: string[] = [], key = KEY): Promise<unknown> {
  const out = await php(
    `require $argv[1]; $chat = new TimeWiseChat($argv[2], $argv[3], $argv[4]); $args = array_slice($argv, 5);
     try { ${code} } catch (TimeWiseChatError $e) { echo json_encode(["error" => $e->errorCode, "status" => $e->status]); }`,
    [KIT, server.url, TEST_SECRET, key, ...args],
  );
  return JSON.parse(out);
}

describe("the PHP kit under real PHP", { skip }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ env: { SERVICE_API_KEY: KEY } });
  });
  after(() => server.close());

  test("a token minted by the kit opens a socket; tampered and foreign ones are refused", async () => {
    const ann = await server.addUser("Ann Kit");
    const token = (await kit(server, "echo json_encode($chat->token((int) $args[0], 600));", [
      ann.id,
    ])) as string;
    (await server.connect({ token })).close();

    const [h, p, s] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(claims).sort(), ["aud", "exp", "iat", "iss", "sub"]);
    assert.equal(claims.iss, "timewise");
    assert.equal(claims.aud, "timewise-chat");
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: String(Number(ann.id) + 1) })).toString(
      "base64url",
    );
    // the first character: the last one of a base64url HS256 signature carries two unused bits
    const flip = `${s.startsWith("A") ? "B" : "A"}${s.slice(1)}`;
    for (const bad of [
      `${h}.${forged}.${s}`,
      `${h}.${p}.${flip}`,
      `${h}.${p}.`,
      craftToken(claims, { secret: `${TEST_SECRET}-other` }),
      craftToken(claims, { alg: "none" }),
    ]) {
      assert.equal((await server.connectRefused({ token: bad })).code, "AUTH_INVALID");
    }
  });

  test("the kit's server API calls work: sync a room, post, badge, mint, disconnect", async () => {
    const ann = await person(server, "Ann Api");
    const bob = await person(server, "Bob Api");
    const synced = (await kit(
      server,
      'echo json_encode($chat->syncRoom("team:kit", "Kit team", [$args[0], (int) $args[1]]));',
      [ann.id, bob.id],
    )) as { created: boolean; room: { id: string } };
    assert.equal(synced.created, true);
    const again = (await kit(
      server,
      'echo json_encode($chat->syncRoom("team:kit", "Kit team", [$args[0], $args[1]]));',
      [ann.id, bob.id],
    )) as { changed: boolean };
    assert.equal(again.changed, false);

    const bobSees = waitFor(bob.socket, "message:new", (m) => m.body === "Deploy finished");
    const posted = (await kit(
      server,
      'echo json_encode($chat->postMessage("team:kit", "Deploy finished", "deploy-1"));',
    )) as {
      senderId: string;
    };
    assert.equal(posted.senderId, "0");
    await bobSees;
    const annSees = waitFor(ann.socket, "message:new", (m) => m.body === "From Bob, via PHP");
    await kit(
      server,
      "echo json_encode($chat->postMessage((int) $args[0], 'From Bob, via PHP', null, $args[1]));",
      [synced.room.id, bob.id],
    );
    assert.equal((await annSees).senderId, bob.id);

    const badge = (await kit(server, "echo json_encode($chat->unread($args[0]));", [ann.id])) as {
      total: number;
    };
    assert.equal(badge.total, 2);
    const found = (await kit(
      server,
      'echo json_encode([$chat->room("team:kit")["id"], $chat->room("team:none")]);',
    )) as unknown[];
    assert.deepEqual(found, [synced.room.id, null]);

    const minted = (await kit(server, "echo json_encode($chat->mintToken($args[0], 600));", [ann.id])) as {
      token: string;
    };
    const extra = await server.connect({ token: minted.token });
    const closed = new Promise<void>((resolve) => extra.once("disconnect", () => resolve()));
    await kit(server, 'echo json_encode($chat->disconnect($args[0]) ?? "done");', [ann.id]);
    await closed;
    assert.equal((await server.connectRefused({ token: minted.token })).code, "AUTH_INVALID");

    assert.deepEqual(await kit(server, "echo json_encode($chat->unread(1));", [], `${KEY}-wrong`), {
      error: "AUTH_INVALID",
      status: 401,
    });
    assert.deepEqual(await kit(server, 'echo json_encode($chat->mintToken("987654321"));'), {
      error: "NOT_FOUND",
      status: 404,
    });
  });

  test("the kit uploads a file as a user and posts a message with it; a file it can't read is BAD_REQUEST", async () => {
    const ann = await person(server, "Ann Files");
    const bob = await person(server, "Bob Files");
    const room = (await kit(
      server,
      'echo json_encode($chat->syncRoom("team:files", "Files team", [$args[0], $args[1]]));',
      [ann.id, bob.id],
    )) as { room: { id: string } };
    const dir = mkdtempSync(join(tmpdir(), "twc-kit-file-"));
    try {
      const path = join(dir, "upload.bin");
      writeFileSync(path, PNG);
      const bobSees = waitFor(bob.socket, "message:new", (m) => m.roomId === room.room.id);
      const out = (await kit(
        server,
        `$file = $chat->uploadFile($args[0], $args[1], 'Beleg "März".png');
         echo json_encode(["file" => $file, "message" => $chat->postMessage("team:files", "", "receipt-1", $args[0], [$file["id"]])]);`,
        [ann.id, path],
      )) as {
        file: ChatFile;
        message: { senderId: string; files: ChatFile[] };
      };
      assert.deepEqual(
        [out.file.name, out.file.size, out.file.type],
        ["Beleg %22März%22.png", PNG.length, "image/png"],
      );
      assert.equal(out.message.senderId, ann.id);
      // links are signed for each reader: the files are compared by the paths they name
      assert.deepEqual(out.message.files.map(unsignedFile), [unsignedFile(out.file)]);
      assert.deepEqual((await bobSees).files.map(unsignedFile), [unsignedFile(out.file)]);
      assert.equal((await server.app.store.file(out.file.id))?.uploaderId, ann.id);
      assert.deepEqual(
        await kit(server, "echo json_encode($chat->uploadFile($args[0], $args[1]));", [
          ann.id,
          join(dir, "missing.bin"),
        ]),
        { error: "BAD_REQUEST", status: 0 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("recordConversation attaches one conversation per record and syncs its members", async () => {
    const ann = await person(server, "Ann Record");
    const bob = await person(server, "Bob Record");
    const call = (members: string[], url = "https://timewise.example.com/timesheets/77") =>
      kit(
        server,
        'echo json_encode($chat->recordConversation("timesheet", 77, "Timesheet 77", $args[0], json_decode($args[1])));',
        [url, JSON.stringify(members)],
      ) as Promise<RecordSyncBody | { error: string; status: number }>;
    const bobTold = waitFor(bob.socket, "room:updated", (r) => r.record?.id === "77");
    const made = (await call([ann.id, bob.id])) as RecordSyncBody;
    assert.equal(made.created, true);
    assert.deepEqual(made.room.record, {
      kind: "timesheet",
      id: "77",
      title: "Timesheet 77",
      url: "https://timewise.example.com/timesheets/77",
    });
    assert.equal((await bobTold).id, made.room.id);
    const again = (await call([ann.id, bob.id])) as RecordSyncBody;
    assert.deepEqual([again.room.id, again.created, again.changed], [made.room.id, false, false]);

    const bobRemoved = waitFor(bob.socket, "room:removed", (p) => p.roomId === made.room.id);
    const synced = (await call([ann.id])) as RecordSyncBody;
    assert.deepEqual([synced.added, synced.removed], [[], [bob.id]]);
    await bobRemoved;
    const found = await request(ann.socket, "room:record", { kind: "timesheet", recordId: "77" });
    assert.equal(found.ok && found.room.id, made.room.id);
    const refused = await request(bob.socket, "room:record", { kind: "timesheet", recordId: "77" });
    assert.equal(!refused.ok && refused.error.code, "NOT_FOUND");

    assert.deepEqual(await call([ann.id], "javascript:alert(1)"), { error: "BAD_REQUEST", status: 400 });
    assert.deepEqual(await call(["987654321"]), { error: "NOT_FOUND", status: 404 });
  });

  test("the embed snippet loads the client the chat server serves, and cannot be broken out of", async () => {
    const html = (await kit(
      server,
      'echo json_encode($chat->embed(["token" => "</script><script>alert(1)</script>"]));',
    )) as string;
    assert.ok(!html.includes("</script><script>alert"), "the token is escaped inside the script");
    const src = /<script src="([^"]+)"/.exec(html)?.[1];
    assert.equal(src, `${server.url}/socket.io/socket.io.min.js`);
    const client = await fetch(src!);
    assert.equal(client.status, 200);
    assert.match(client.headers.get("content-type") ?? "", /javascript/);
  });
});

// Monday 7 December 2026, 19:00 in Lisbon (UTC in winter): after an office day of 08:00-16:30
const MONDAY_EVENING = Date.parse("2026-12-07T19:00:00Z");

describe("working hours through the PHP kit", { skip }, () => {
  let server: TestServer;
  let at = MONDAY_EVENING;
  before(async () => {
    server = await startServer({ env: { SERVICE_API_KEY: KEY }, app: { now: () => at } });
  });
  after(() => server?.close());

  test("setSchedule puts a user off work for colleagues, null brings them back; bad ones are refused", async () => {
    at = MONDAY_EVENING;
    const dee = await person(server, "Dee Kit Hours");
    const eli = await person(server, "Eli Kit Colleague");
    await group(eli, [dee], "Kit shift team");
    const set = (code: string, args: string[] = []) => kit(server, code, [dee.id, ...args]);
    const office = await set(
      `echo json_encode($chat->setSchedule($args[0], ['timeZone' => 'Europe/Lisbon',
        'weekly' => ['mon' => [['08:00', '16:30']], 'tue' => [['08:00', '16:30']]]]));`,
    );
    assert.deepEqual(office, {
      userId: dee.id,
      schedule: {
        timeZone: "Europe/Lisbon",
        weekly: { mon: [["08:00", "16:30"]], tue: [["08:00", "16:30"]] },
      },
      available: false,
      availableAt: "2026-12-08T08:00:00.000Z",
    });
    const presence = (await ok(eli.socket, "presence:get", { userIds: [dee.id] })).presence[dee.id];
    assert.deepEqual([presence?.available, presence?.availableAt], [false, "2026-12-08T08:00:00.000Z"]);
    const found = (await ok(eli.socket, "user:search", { query: "Dee Kit Hours" })).users;
    assert.deepEqual(
      found.map((u) => [u.id, u.available, u.availableAt]),
      [[dee.id, false, "2026-12-08T08:00:00.000Z"]],
    );

    // a roster's shifts work the same way: the next one starts tomorrow at 06:00
    const shifts = await set(
      `echo json_encode($chat->setSchedule($args[0], ['timeZone' => 'Europe/Lisbon',
        'shifts' => [['start' => '2026-12-08T06:00:00Z', 'end' => '2026-12-08T14:00:00Z']]]));`,
    );
    assert.deepEqual(
      [(shifts as { available: boolean }).available, (shifts as { availableAt: string }).availableAt],
      [false, "2026-12-08T06:00:00.000Z"],
    );

    assert.deepEqual(await set("echo json_encode($chat->setSchedule($args[0], null));"), {
      userId: dee.id,
      schedule: null,
      available: true,
      availableAt: null,
    });
    const back = (await ok(eli.socket, "user:search", { query: "Dee Kit Hours" })).users[0];
    assert.deepEqual([back?.available, back?.availableAt], [true, null]);

    assert.deepEqual(
      await set(
        "echo json_encode($chat->setSchedule($args[0], ['timeZone' => 'Mars/Olympus', 'weekly' => ['mon' => [['08:00', '16:00']]]]));",
      ),
      { error: "BAD_REQUEST", status: 400 },
    );
    assert.deepEqual(
      await kit(
        server,
        "echo json_encode($chat->setSchedule('987654321', ['timeZone' => 'Europe/Lisbon', 'weekly' => ['mon' => [['08:00', '16:00']]]]));",
      ),
      { error: "NOT_FOUND", status: 404 },
    );
    // the refused ones changed nothing: the schedule is still removed
    assert.equal((await server.app.store.hoursOf([dee.id])).get(dee.id)?.schedule ?? null, null);
  });

  test("an urgent post from the kit is listed by urgentMessages, from a given time on", async () => {
    at = MONDAY_EVENING;
    const fay = await person(server, "Fay Kit Urgent");
    const gus = await person(server, "Gus Kit Urgent");
    const room = (await kit(
      server,
      'echo json_encode($chat->syncRoom("team:urgent", "Urgent team", [$args[0], $args[1]], ["ownerId" => $args[0]]));',
      [fay.id, gus.id],
    )) as { room: { id: string } };
    const before = (await kit(server, "echo json_encode($chat->urgentMessages());")) as unknown[];

    const gusSees = waitFor(gus.socket, "message:new", (m) => m.body === "The payroll run failed");
    const urgent = (await kit(
      server,
      'echo json_encode($chat->postMessage("team:urgent", "The payroll run failed", "payroll-1", $args[0], [], true));',
      [fay.id],
    )) as { id: string };
    await gusSees;
    at = MONDAY_EVENING + 60_000;
    const plain = (await kit(
      server,
      'echo json_encode($chat->postMessage("team:urgent", "It is fixed", "payroll-2", $args[0]));',
      [fay.id],
    )) as { id: string };
    assert.notEqual(plain.id, urgent.id);
    at = MONDAY_EVENING + 120_000;
    const fromTimeWise = (await kit(
      server,
      'echo json_encode($chat->postMessage("team:urgent", "Servers down", "outage-1", null, [], true));',
    )) as { id: string };

    const entry = {
      messageId: urgent.id,
      roomId: room.room.id,
      senderId: fay.id,
      at: "2026-12-07T19:00:00.000Z",
    };
    const system = {
      messageId: fromTimeWise.id,
      roomId: room.room.id,
      senderId: "0",
      at: "2026-12-07T19:02:00.000Z",
    };
    assert.deepEqual(await kit(server, "echo json_encode($chat->urgentMessages());"), [
      ...before,
      entry,
      system,
    ]);
    // a DateTimeInterface in any zone (with a limit), or an ISO time just after the first one
    assert.deepEqual(
      await kit(
        server,
        "echo json_encode($chat->urgentMessages(new DateTimeImmutable('2026-12-07 20:00:00', new DateTimeZone('Europe/Berlin')), 1));",
      ),
      [entry],
    );
    assert.deepEqual(
      await kit(server, "echo json_encode($chat->urgentMessages('2026-12-07T19:00:00.001Z'));"),
      [system],
    );
    assert.deepEqual(await kit(server, "echo json_encode($chat->urgentMessages('yesterday'));"), {
      error: "BAD_REQUEST",
      status: 400,
    });
  });
});

/** A free local port (PHP's web server needs one given). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** `php -S` serving the example page, as a PHP developer would run it. */
async function servePhp(
  env: Record<string, string>,
  sessionDir: string,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    "php",
    ["-d", `session.save_path=${sessionDir}`, "-S", `127.0.0.1:${port}`, "-t", EXAMPLE],
    {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: "ignore",
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await until(
    () =>
      fetch(`${url}/webhook.php`, { method: "HEAD" }).then(
        () => true,
        () => false,
      ),
    10_000,
    "php -S to start",
  );
  return { url, child };
}

const noBrowser = await requireService("chromium");

describe("the example page in a real browser", { skip: skip || noBrowser }, () => {
  let server: TestServer;
  let sessionDir: string;
  before(async () => {
    sessionDir = mkdtempSync(join(tmpdir(), "twc-page-sessions-"));
    // the default development CORS_ORIGINS allow http://127.0.0.1:* (PHP's web server)
    server = await startServer({
      env: { SERVICE_API_KEY: KEY, PHP_SESSION_STORE: "files", PHP_SESSION_PATH: sessionDir },
    });
  });
  after(async () => {
    await server.close();
    rmSync(sessionDir, { recursive: true, force: true });
  });

  test("signed in with a kit token and with the PHP session cookie, the page lists rooms, shows and sends messages", async () => {
    const pageUser = await server.addUser("Page User");
    assert.equal(pageUser.id, "1", "the example page signs in user 1");
    const colleague = await person(server, "Colleague");
    await kit(server, 'echo json_encode($chat->syncRoom("team:page", "Team Page", [1, $args[0]]));', [
      colleague.id,
    ]);
    await kit(
      server,
      'echo json_encode($chat->postMessage("team:page", "Welcome to the team", "welcome-1"));',
    );

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    const servers: ChildProcess[] = [];
    try {
      for (const mode of ["token", "cookie"] as const) {
        const env = { CHAT_URL: server.url, AUTH_JWT_SECRET: TEST_SECRET, SERVICE_API_KEY: KEY };
        const site = await servePhp(mode === "cookie" ? { ...env, CHAT_SIGN_IN: "cookie" } : env, sessionDir);
        servers.push(site.child);
        const context = await browser.newContext();
        const page = await context.newPage();
        const problems: string[] = [];
        // what a developer would see in the console; the browser's own favicon request aside
        page.on("console", (m) => {
          if (
            (m.type() === "warning" || m.type() === "error") &&
            !m.text().startsWith("Failed to load resource")
          ) {
            problems.push(m.text());
          }
        });
        page.on("response", (r) => {
          if (r.status() >= 400 && !r.url().endsWith("/favicon.ico"))
            problems.push(`${r.status()} ${r.url()}`);
        });
        await page.goto(site.url);
        if (mode === "token")
          assert.equal(await page.textContent("#badge"), "(1)", "the unread badge from the server API");
        await page.getByRole("button", { name: /Team Page/ }).click({ timeout: 10_000 });
        await page.getByText("TimeWise: Welcome to the team").waitFor({ timeout: 10_000 });
        const body = `Hello from the ${mode} page`;
        const arrives = waitFor(colleague.socket, "message:new", (m) => m.body === body, 10_000);
        await page.fill("input[name=body]", body);
        await page.click("text=Send");
        const message = await arrives;
        assert.equal(message.senderId, "1", `${mode}: sent as the page's user`);
        await page.getByText(`#1: ${body}`).waitFor({ timeout: 10_000 });
        assert.deepEqual(problems, [], `${mode}: no console warnings`);
        await context.close();
      }
    } finally {
      await browser.close();
      for (const child of servers) child.kill();
    }
  });
});

describe("the timesheet example page in a real browser", { skip: skip || noBrowser }, () => {
  let server: TestServer;
  let sessionDir: string;
  before(async () => {
    sessionDir = mkdtempSync(join(tmpdir(), "twc-timesheet-sessions-"));
    server = await startServer({ env: { SERVICE_API_KEY: KEY } });
  });
  after(async () => {
    await server.close();
    rmSync(sessionDir, { recursive: true, force: true });
  });

  test("'Discuss this timesheet' attaches the conversation for the employee and approver, and the page chats in it", async () => {
    const employee = await server.addUser("Page Employee");
    const approver = await person(server, "Page Approver");
    assert.deepEqual([employee.id, approver.id], ["1", "2"], "the example signs in user 1; user 2 approves");
    const site = await servePhp(
      { CHAT_URL: server.url, AUTH_JWT_SECRET: TEST_SECRET, SERVICE_API_KEY: KEY },
      sessionDir,
    );
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const page = await (await browser.newContext()).newPage();
      const problems: string[] = [];
      page.on("console", (m) => {
        // the browser's own favicon request aside, which the response check below covers
        const favicon = m.text().startsWith("Failed to load resource");
        if ((m.type() === "warning" || m.type() === "error") && !favicon) problems.push(m.text());
      });
      page.on("response", (r) => {
        if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) problems.push(`${r.status()} ${r.url()}`);
      });
      await page.goto(`${site.url}/timesheet.php?id=42`);
      const button = page.getByRole("button", { name: "Discuss this timesheet" });
      await button.waitFor({ timeout: 10_000 });
      // before the button is pressed, there is no conversation on the timesheet
      assert.equal(await page.isHidden("#conversation"), true);

      const approverTold = waitFor(approver.socket, "room:updated", (r) => r.record?.id === "42", 10_000);
      await button.click();
      await page.getByRole("heading", { name: "Conversation" }).waitFor({ timeout: 10_000 });
      const room = await approverTold;
      assert.deepEqual(room.record, {
        kind: "timesheet",
        id: "42",
        title: "Timesheet 42, week 49",
        url: `${site.url}/timesheet.php?id=42`,
      });
      assert.deepEqual(room.members.map((m) => m.userId).sort(), ["1", "2"]);
      assert.equal(new URL(page.url()).pathname, "/timesheet.php", "redirected back after the form");

      const fromPage = waitFor(
        approver.socket,
        "message:new",
        (m) => m.body === "Tuesday was a long one",
        10_000,
      );
      await page.getByRole("textbox", { name: "Message" }).fill("Tuesday was a long one");
      await page.getByRole("button", { name: "Send" }).click();
      assert.equal((await fromPage).senderId, "1");
      await request(approver.socket, "message:send", {
        roomId: room.id,
        body: "Approved, thanks",
        clientId: "approver-1",
      });
      await page.getByText("#2: Approved, thanks").waitFor({ timeout: 10_000 });

      // pressing the button again (another tab) keeps the one conversation
      await page.goto(`${site.url}/timesheet.php?id=42`);
      await page.getByText("#1: Tuesday was a long one").waitFor({ timeout: 10_000 });
      assert.equal(await page.isHidden("#discuss"), true);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      site.child.kill();
    }
  });
});
