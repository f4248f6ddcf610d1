/**
 * (v2.3) The PHP kit's `serveServiceWorker()` under PHP's own web server: one line in a PHP route
 * answers the chat's service worker from the PHP app's origin, with the headers a worker needs,
 * the page a click opens put in front, and a copy kept so the chat server is asked once.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ensureWebBuild } from "../support/browser.js";
import { requireService, startServer, type TestServer, until } from "../support/harness.js";

const KIT = join(import.meta.dirname, "../../integrations/php/TimeWiseChat.php");
const skip = await requireService("php");

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("the PHP kit's service worker route", { skip }, () => {
  let server: TestServer;
  let dir: string;
  let cache: string;
  let php: ChildProcess;
  let site = "";

  before(async () => {
    await ensureWebBuild();
    server = await startServer();
    dir = mkdtempSync(join(tmpdir(), "twc-php-sw-"));
    cache = mkdtempSync(join(tmpdir(), "twc-php-sw-cache-"));
    const setup = `require ${JSON.stringify(KIT)}; $chat = new TimeWiseChat(getenv('CHAT_URL'));`;
    const options = `'cacheDir' => getenv('SW_CACHE')`;
    writeFileSync(join(dir, "sw.php"), `<?php ${setup} $chat->serveServiceWorker([${options}]);`);
    writeFileSync(
      join(dir, "page-sw.php"),
      `<?php ${setup} $chat->serveServiceWorker([${options}, 'page' => '/chat.php', 'scope' => '/']);`,
    );
    writeFileSync(
      join(dir, "bad-page.php"),
      `<?php ${setup} try { $chat->serveServiceWorker([${options}, 'page' => 'https://evil.example.com/']); } catch (TimeWiseChatError $e) { http_response_code(500); echo $e->errorCode; }`,
    );
    const port = await freePort();
    php = spawn("php", ["-S", `127.0.0.1:${port}`, "-t", dir], {
      env: { PATH: process.env.PATH ?? "", CHAT_URL: server.url, SW_CACHE: cache },
      stdio: "ignore",
    });
    site = `http://127.0.0.1:${port}`;
    await until(
      () =>
        fetch(`${site}/missing.txt`, { method: "HEAD" }).then(
          () => true,
          () => false,
        ),
      10_000,
      "php -S to start",
    );
  });
  after(async () => {
    php?.kill();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  test("one line answers the chat's own worker, as JavaScript that is revalidated", async () => {
    const chat = await (await fetch(`${server.url}/sw.js`)).text();
    const res = await fetch(`${site}/sw.php`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-cache");
    assert.equal(res.headers.get("service-worker-allowed"), null);
    assert.equal(await res.text(), chat);
  });

  test("with a page, the worker opens it on a click and may control the whole site", async () => {
    const res = await fetch(`${site}/page-sw.php`);
    assert.equal(res.headers.get("service-worker-allowed"), "/");
    const script = await res.text();
    assert.ok(script.startsWith('self.__twcPage="/chat.php";\n'), script.slice(0, 60));
    assert.ok(script.endsWith(await (await fetch(`${server.url}/sw.js`)).text()));
  });

  test("a page that is not a path on the site is refused", async () => {
    const res = await fetch(`${site}/bad-page.php`);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), "BAD_REQUEST");
  });

  test("the script is kept, so the chat server being away does not stop the route", async () => {
    assert.equal(readdirSync(cache).filter((f) => f.endsWith(".js")).length, 1);
    await server.close();
    const res = await fetch(`${site}/sw.php`);
    assert.equal(res.status, 200);
    assert.ok((await res.text()).includes('"notificationclick"'));
  });
});
