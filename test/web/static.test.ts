/**
 * The server hands out the web app: the page with a strict Content-Security-Policy, hashed assets
 * cached for a year, embed.js and sdk.js for other origins, and nothing outside its fixed list.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ensureWebBuild } from "../support/browser.js";
import { startServer, type TestServer } from "../support/harness.js";

let server: TestServer;
before(async () => {
  await ensureWebBuild();
  server = await startServer({ env: { CORS_ORIGINS: "https://timewise.example.com" } });
});
after(async () => {
  await server?.close();
});

test("the page at / comes with a strict Content-Security-Policy and is revalidated", async () => {
  const res = await fetch(`${server.url}/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "no-cache");
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/, "no inline scripts");
  assert.match(csp, /(^|; )img-src 'self' blob:(;|$)/, "pictures from this server and the device only");
  assert.match(csp, /connect-src 'self' ws:\/\/127\.0\.0\.1:\d+ wss:\/\/127\.0\.0\.1:\d+/);
  assert.match(
    csp,
    /frame-ancestors 'self' https:\/\/timewise\.example\.com(;|$)/,
    "only TimeWise may frame it",
  );
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  const html = await res.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)/, "every script is a file");
  const again = await fetch(`${server.url}/`, {
    headers: { "if-none-match": res.headers.get("etag") ?? "" },
  });
  assert.equal(again.status, 304);
});

test("hashed assets are cached for a year and sent gzipped when the browser accepts it", async () => {
  const html = await (await fetch(`${server.url}/`)).text();
  const js = /src="(\/assets\/app-[^"]+\.js)"/.exec(html)?.[1];
  const css = /href="(\/assets\/styles-[^"]+\.css)"/.exec(html)?.[1];
  assert.ok(js && css, "the page links its bundle and stylesheet");
  const script = await fetch(`${server.url}${js}`);
  assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(script.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.equal((await fetch(`${server.url}${css}`)).headers.get("content-type"), "text/css; charset=utf-8");
  // fetch() unpacks the body itself; the header still says how it travelled
  const raw = await fetch(`${server.url}${js}`, { headers: { "accept-encoding": "gzip" } });
  assert.equal(raw.headers.get("content-encoding"), "gzip");
  const plain = await fetch(`${server.url}${js}`, { headers: { "accept-encoding": "identity" } });
  assert.equal(plain.headers.get("content-encoding"), null);
});

test("embed.js and sdk.js can be used from the PHP app's pages", async () => {
  const embed = await fetch(`${server.url}/embed.js`);
  assert.equal(embed.status, 200);
  assert.equal(embed.headers.get("cache-control"), "public, max-age=300");
  assert.equal(embed.headers.get("cross-origin-resource-policy"), "cross-origin");
  const sdk = await fetch(`${server.url}/sdk.js`, { headers: { origin: "https://timewise.example.com" } });
  assert.equal(sdk.status, 200);
  assert.equal(sdk.headers.get("access-control-allow-origin"), "*");
  assert.doesNotMatch(await sdk.text(), /zod/, "the SDK carries no server-side validation code");
});

test("the service worker is at /sw.js, revalidated on every visit, and shows pushes", async () => {
  const res = await fetch(`${server.url}/sw.js`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "no-cache");
  const script = await res.text();
  for (const event of ["push", "notificationclick"]) assert.ok(script.includes(`"${event}"`), event);
});

test("only the app's own files are served; everything else is the JSON API's 404", async () => {
  for (const path of [
    "/assets/nope.js",
    "/assets/../package.json",
    "/assets/%2e%2e/package.json",
    "/dist/web/index.html",
  ]) {
    const res = await fetch(`${server.url}${path}`);
    assert.equal(res.status, 404, path);
    assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8", path);
  }
  const post = await fetch(`${server.url}/`, { method: "POST" });
  assert.equal(post.status, 404, "the page is only for GET and HEAD");
  const head = await fetch(`${server.url}/`, { method: "HEAD" });
  assert.equal(head.status, 200);
});
