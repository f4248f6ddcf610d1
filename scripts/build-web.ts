/**
 * Builds the web app into dist/web: index.html, a hashed app bundle and stylesheet under assets/
 * (cached for a year), embed.js, the one-tag loader for PHP pages, sdk.js, the client SDK as one
 * ES module, and sw.js, the service worker that shows Web Push notifications (stable names, short cache).
 * Run with `npm run build:web`; `npm run build` and `npm test` run it too.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build, type Metafile } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** What was built, for the size report and the tests. */
export interface WebBuild {
  outDir: string;
  files: { path: string; bytes: number; gzipBytes: number }[];
  /** gzipped bytes of all JavaScript a page loads (app bundle; embed.js runs on the host page) */
  appJsGzipBytes: number;
}

export async function buildWeb(outDir = join(root, "dist/web")): Promise<WebBuild> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const common: BuildOptions = {
    bundle: true,
    minify: true,
    legalComments: "none",
    // <dialog> and `dvh` need Safari 15.4; older browsers are not worth the bundle size
    target: ["es2020", "chrome100", "firefox100", "safari15.4"],
    logLevel: "warning",
    metafile: true,
  };
  const app = await build({
    ...common,
    entryPoints: { app: join(root, "web/main.tsx"), styles: join(root, "web/styles.css") },
    outdir: join(outDir, "assets"),
    entryNames: "[name]-[hash]",
    format: "esm",
    jsx: "automatic",
    jsxImportSource: "preact",
    tsconfig: join(root, "web/tsconfig.json"),
  });
  const embed = await build({
    ...common,
    entryPoints: [join(root, "web/embed.ts")],
    outfile: join(outDir, "embed.js"),
    format: "iife",
  });
  // the SDK on its own, for pages that build their own chat UI: `import { ChatClient } from ".../sdk.js"`
  const sdk = await build({
    ...common,
    entryPoints: [join(root, "src/sdk/index.ts")],
    outfile: join(outDir, "sdk.js"),
    format: "esm",
  });
  // (v2.3) the service worker: a classic script at a fixed address, as browsers register it
  const sw = await build({
    ...common,
    entryPoints: [join(root, "web/sw.ts")],
    outfile: join(outDir, "sw.js"),
    format: "iife",
  });
  const outputs = [
    ...outputNames(app.metafile),
    ...outputNames(embed.metafile),
    ...outputNames(sdk.metafile),
    ...outputNames(sw.metafile),
  ];
  const js = outputs.find((p) => /assets\/app-[^/]+\.js$/.test(p));
  const css = outputs.find((p) => /assets\/styles-[^/]+\.css$/.test(p));
  if (!js || !css) throw new Error(`the build did not produce the app bundle: ${outputs.join(", ")}`);
  const html = readFileSync(join(root, "web/index.html"), "utf8")
    .replace("%JS%", `/${relative(outDir, js)}`)
    .replace("%CSS%", `/${relative(outDir, css)}`);
  writeFileSync(join(outDir, "index.html"), html);

  const files = [...outputs, join(outDir, "index.html")].map((path) => {
    const body = readFileSync(path);
    return { path: relative(outDir, path), bytes: body.length, gzipBytes: gzipSync(body).length };
  });
  const appJsGzipBytes = files
    .filter((f) => f.path.startsWith("assets/") && f.path.endsWith(".js"))
    .reduce((sum, f) => sum + f.gzipBytes, 0);
  return { outDir, files, appJsGzipBytes };
}

function outputNames(metafile: Metafile | undefined): string[] {
  return Object.keys(metafile?.outputs ?? {}).map((p) => join(process.cwd(), p));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await buildWeb();
  for (const f of result.files) {
    process.stdout.write(
      `${f.path.padEnd(40)} ${String(f.bytes).padStart(8)} B  ${String(f.gzipBytes).padStart(7)} B gzipped\n`,
    );
  }
  process.stdout.write(`app JavaScript, gzipped: ${(result.appJsGzipBytes / 1024).toFixed(1)} KB\n`);
}
