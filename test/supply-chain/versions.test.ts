/**
 * The packages that parse what strangers send (Socket.io packets, Engine.IO requests, WebSocket
 * frames) must be at or above the releases that fixed their known crash and memory-exhaustion
 * advisories. Checked in the lockfile (every copy, nested ones included, as `npm ci` installs it)
 * and in node_modules (what actually runs). `npm audit --omit=dev --audit-level=high` in .ci/run
 * catches advisories published after this list was written.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The lowest safe version of each package, and the advisories that set it. */
const MINIMUM: Record<string, { version: string; advisories: string }> = {
  // GHSA-2m8v-j782-fhvr (CVE-2026-69185): buffering many binary attachments exhausts memory, fixed 4.2.7
  // GHSA-677m-j7p3-52f9 (CVE-2026-33151): unbounded binary attachments, fixed 4.2.6
  // GHSA-cqmj-92xf-r6r9 (CVE-2023-32695): insufficient validation, uncaught exception, fixed 4.2.3
  // GHSA-qm95-pgcg-qqfq (CVE-2022-2421): attachment placeholder validation, fixed 4.2.1
  "socket.io-parser": { version: "4.2.7", advisories: "GHSA-2m8v-j782-fhvr, GHSA-677m-j7p3-52f9" },
  // GHSA-2gc4-cqfq-p2gv (CVE-2026-102599): protocol revision mismatch on upgrade crashes, fixed 6.6.10
  // GHSA-gr94-w7qr-f4j3: WebTransport session id `__proto__` crashes (fixed by 6.6.9)
  // GHSA-r635-g3xr-vw7x (CVE-2026-59725): invalid binary polling POST leaks connections, fixed 6.6.7
  // GHSA-q9mw-68c2-j6m5 (CVE-2023-31125): uncaught exception on crafted request, fixed 6.4.2
  // GHSA-r7qp-cfhv-p84w (CVE-2022-41940): uncaught exception, fixed 6.2.1
  // GHSA-273r-mgr4-v34f (CVE-2022-21676): uncaught exception on bad frame, fixed 6.1.1
  "engine.io": { version: "6.6.10", advisories: "GHSA-2gc4-cqfq-p2gv, GHSA-r635-g3xr-vw7x" },
  // CVE-2026-62389: incomplete fragmented messages exhaust memory, fixed 8.21.1
  // GHSA-96hv-2xvq-fx4p (CVE-2026-48779): tiny fragments exhaust memory, fixed 8.21.0
  // GHSA-3h5v-q93c-6h6q (CVE-2024-37890): many HTTP headers crash the server, fixed 8.17.1
  ws: { version: "8.21.1", advisories: "CVE-2026-62389, GHSA-96hv-2xvq-fx4p" },
};

/** Compares dotted numeric versions (pre-release tags count as below the release). */
function atLeast(actual: string, minimum: string): boolean {
  const [core = "", pre] = actual.split("-", 2);
  const a = core.split(".").map(Number);
  const m = minimum.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const x = a[i] ?? 0;
    const y = m[i] ?? 0;
    if (Number.isNaN(x)) return false;
    if (x !== y) return x > y;
  }
  return pre === undefined;
}

describe("supply chain: minimum versions of the packages that parse network input", () => {
  test("the version comparison itself", () => {
    assert.equal(atLeast("4.2.7", "4.2.7"), true);
    assert.equal(atLeast("4.10.0", "4.2.7"), true);
    assert.equal(atLeast("5.0.0", "4.2.7"), true);
    assert.equal(atLeast("4.2.6", "4.2.7"), false);
    assert.equal(atLeast("3.9.9", "4.2.7"), false);
    assert.equal(atLeast("4.2.7-rc.1", "4.2.7"), false);
    assert.equal(atLeast("x.y.z", "4.2.7"), false);
  });

  test("every copy in package-lock.json is at or above the patched release", () => {
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string }>;
    };
    for (const [name, { version, advisories }] of Object.entries(MINIMUM)) {
      const copies = Object.entries(lock.packages).filter(([path]) => path.endsWith(`node_modules/${name}`));
      assert.ok(copies.length > 0, `${name} is not in package-lock.json`);
      for (const [path, entry] of copies) {
        assert.ok(
          entry.version !== undefined && atLeast(entry.version, version),
          `${path} is ${entry.version}; ${version} or later is needed (${advisories})`,
        );
      }
    }
  });

  test("the installed copies are at or above the patched release", () => {
    for (const [name, { version, advisories }] of Object.entries(MINIMUM)) {
      const manifest = join(ROOT, "node_modules", name, "package.json");
      assert.ok(existsSync(manifest), `${name} is not installed`);
      const installed = (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
      assert.ok(
        atLeast(installed, version),
        `node_modules/${name} is ${installed}; ${version} or later is needed (${advisories})`,
      );
    }
  });
});
