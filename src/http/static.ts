/**
 * Serves the built web app (dist/web): the page at `/`, hashed assets under `/assets/` (cached for
 * a year), `/embed.js` for PHP pages, `/sdk.js`, the client SDK as an ES module, and `/sw.js`,
 * the service worker for Web Push (v2.3). The page gets a strict Content-Security-Policy: scripts
 * and styles only from this server, connections only back to it, and only the pages in
 * CORS_ORIGINS may frame it; the page is told that list too (a meta tag), so the embedded chat only
 * takes a token from a parent page on it. Files are read once, on the first request, from a fixed list; no path
 * from a request ever reaches the file system.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { basename, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { PARENT_ORIGINS_META } from "./origins.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** Files with fixed names (the rest live under /assets/ with a content hash in the name). */
const PUBLIC_NAMES = new Set(["/index.html", "/embed.js", "/sdk.js", "/sw.js"]);

interface Asset {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  cacheControl: string;
  etag: string;
}

export interface WebAssets {
  /** Answers GET/HEAD for the web app's paths; returns false for every other request. */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
}

/**
 * Where the build puts the app: `dist/web`, found from this file whether it runs from `src/`
 * (tsx) or from `dist/src/` (the compiled server).
 */
export function defaultWebRoot(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const top = join(here, "../..");
  return basename(top) === "dist" ? join(top, "web") : join(top, "dist/web");
}

export function createWebAssets(options: { root?: string; frameAncestors: readonly string[] }): WebAssets {
  let assets: Map<string, Asset> | null = null;
  const frameAncestors = ["'self'", ...options.frameAncestors].join(" ");

  return {
    serve(req, res) {
      if (req.method !== "GET" && req.method !== "HEAD") return false;
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      const name = path === "/" ? "/index.html" : path;
      if (!PUBLIC_NAMES.has(name) && !name.startsWith("/assets/")) return false;
      assets ??= load(options.root ?? defaultWebRoot(), options.frameAncestors);
      const asset = assets.get(name);
      if (!asset) {
        if (name !== "/index.html") return false;
        res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
        res.end("The TimeWise Chat web app has not been built yet. Run `npm run build`, then restart.\n");
        return true;
      }
      const headers: Record<string, string> = {
        "content-type": asset.type,
        "cache-control": asset.cacheControl,
        etag: asset.etag,
        "x-content-type-options": "nosniff",
        vary: "Accept-Encoding",
      };
      if (name === "/index.html") Object.assign(headers, pageHeaders(req, frameAncestors));
      // embed.js and sdk.js run on the PHP app's pages, which live on another origin; a module
      // script (sdk.js) is fetched with CORS, and it holds nothing private
      if (name === "/embed.js" || name === "/sdk.js")
        headers["cross-origin-resource-policy"] = "cross-origin";
      if (name === "/sdk.js") headers["access-control-allow-origin"] = "*";
      if (req.headers["if-none-match"] === asset.etag) {
        res.writeHead(304, headers);
        res.end();
        return true;
      }
      const gzip =
        asset.gzip && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? "")) ? asset.gzip : null;
      if (gzip) headers["content-encoding"] = "gzip";
      const body = gzip ?? asset.body;
      headers["content-length"] = String(body.length);
      res.writeHead(200, headers);
      res.end(req.method === "HEAD" ? undefined : body);
      return true;
    },
  };
}

/** The security headers of the page itself. */
function pageHeaders(req: IncomingMessage, frameAncestors: string): Record<string, string> {
  // 'self' covers same-origin WebSockets in current browsers; older Safari needs them spelled out
  const host = req.headers.host;
  const sockets = host && /^[a-z0-9.-]+(:\d{1,5})?$/i.test(host) ? ` ws://${host} wss://${host}` : "";
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // pictures only from this server's own signed links, and blob: for a picture still on the
    // device; never another site (a tracking pixel in a message) and never data:
    "img-src 'self' blob:",
    `connect-src 'self'${sockets}`,
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join("; ");
  return {
    "content-security-policy": csp,
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
  };
}

/** Reads index.html, embed.js and assets/* once; an unbuilt app gives an empty map. */
function load(root: string, parentOrigins: readonly string[]): Map<string, Asset> {
  const files = new Map<string, Asset>();
  const add = (urlPath: string, file: string, cacheControl: string, edit?: (text: string) => string) => {
    const type = TYPES[extname(file)];
    if (!type || !existsSync(file)) return;
    const body = edit ? Buffer.from(edit(readFileSync(file, "utf8"))) : readFileSync(file);
    const compressible = type.startsWith("text/") || type.includes("json") || type.includes("svg");
    files.set(urlPath, {
      body,
      gzip: compressible && body.length > 1024 ? gzipSync(body) : null,
      type,
      cacheControl,
      etag: `"${body.length.toString(36)}-${hash(body)}"`,
    });
  };
  // origins were validated by the configuration; escaped all the same, as anything put into HTML
  const meta = `<meta name="${PARENT_ORIGINS_META}" content="${escapeAttribute(parentOrigins.join(","))}" />`;
  add("/index.html", join(root, "index.html"), "no-cache", (html) =>
    html.replace("</head>", `    ${meta}\n  </head>`),
  );
  add("/embed.js", join(root, "embed.js"), "public, max-age=300");
  add("/sdk.js", join(root, "sdk.js"), "public, max-age=300");
  // (v2.3) browsers look for a new worker on every visit; no-cache lets an update reach them at once
  add("/sw.js", join(root, "sw.js"), "no-cache");
  const assetDir = join(root, "assets");
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir)) {
      add(`/assets/${name}`, join(assetDir, name), "public, max-age=31536000, immutable");
    }
  }
  return files;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A short content hash for ETags (FNV-1a; not for security). */
function hash(body: Buffer): string {
  let h = 0x811c9dc5;
  for (const byte of body) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h.toString(36);
}
