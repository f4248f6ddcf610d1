/**
 * The Web Push settings (PUSH_*): both keys or neither, a pair that belongs together, an address
 * push services accept, and one line naming the variable for each bad value.
 */
import assert from "node:assert/strict";
import { createECDH } from "node:crypto";
import { describe, test } from "node:test";
import { loadConfig } from "../../src/config/index.js";
import { FALLBACK_PUSH_SUBJECT } from "../../src/config/push.js";
import { configProblems } from "../support/harness.js";

const BASE = { NODE_ENV: "test", AUTH_JWT_SECRET: "x".repeat(40) };
const problems = (env: Record<string, string>) => configProblems({ ...BASE, ...env });

function pair() {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  return {
    PUSH_VAPID_PUBLIC_KEY: ecdh.getPublicKey().toString("base64url"),
    PUSH_VAPID_PRIVATE_KEY: ecdh.getPrivateKey().toString("base64url"),
  };
}

describe("push settings", () => {
  test("unset, the keys come from the chat database, quietly outside production", () => {
    const config = loadConfig(BASE);
    assert.deepEqual(config.push, { keys: null, subject: FALLBACK_PUSH_SUBJECT });
    assert.ok(!config.warnings.some((w) => w.startsWith("PUSH_SUBJECT")));
  });

  test("unset in production, a warning asks for PUSH_SUBJECT", () => {
    const config = loadConfig({
      ...BASE,
      NODE_ENV: "production",
      CORS_ORIGINS: "https://timewise.example.com",
    });
    assert.equal(config.push.subject, FALLBACK_PUSH_SUBJECT);
    assert.ok(config.warnings.some((w) => w.startsWith("PUSH_SUBJECT is not set")));
  });

  test("a matching pair and a subject are taken as given", () => {
    const keys = pair();
    const config = loadConfig({ ...BASE, ...keys, PUSH_SUBJECT: "mailto:ops@example.com" });
    assert.deepEqual(config.push, {
      keys: { publicKey: keys.PUSH_VAPID_PUBLIC_KEY, privateKey: keys.PUSH_VAPID_PRIVATE_KEY },
      subject: "mailto:ops@example.com",
    });
    assert.ok(!config.warnings.some((w) => w.startsWith("PUSH_SUBJECT")));
  });

  test("without PUSH_SUBJECT an https CHAT_PUBLIC_URL is the subject", () => {
    const config = loadConfig({ ...BASE, CHAT_PUBLIC_URL: "https://chat.example.com/" });
    assert.equal(config.push.subject, "https://chat.example.com");
  });

  const KEYS = pair();
  const OTHER = pair();
  const cases: { name: string; env: Record<string, string>; variable: string }[] = [
    {
      name: "a public key without its private key",
      env: { PUSH_VAPID_PUBLIC_KEY: KEYS.PUSH_VAPID_PUBLIC_KEY },
      variable: "PUSH_VAPID_PRIVATE_KEY",
    },
    {
      name: "a private key without its public key",
      env: { PUSH_VAPID_PRIVATE_KEY: KEYS.PUSH_VAPID_PRIVATE_KEY },
      variable: "PUSH_VAPID_PUBLIC_KEY",
    },
    {
      name: "a private key that is too short",
      env: { ...KEYS, PUSH_VAPID_PRIVATE_KEY: "abc" },
      variable: "PUSH_VAPID_PRIVATE_KEY",
    },
    {
      name: "a public key that is not base64url",
      env: { ...KEYS, PUSH_VAPID_PUBLIC_KEY: "not a key!" },
      variable: "PUSH_VAPID_PUBLIC_KEY",
    },
    {
      name: "a public key of another pair",
      env: { ...KEYS, PUSH_VAPID_PUBLIC_KEY: OTHER.PUSH_VAPID_PUBLIC_KEY },
      variable: "PUSH_VAPID_PUBLIC_KEY",
    },
    { name: "a subject that is no address", env: { PUSH_SUBJECT: "ops team" }, variable: "PUSH_SUBJECT" },
    { name: "an http subject", env: { PUSH_SUBJECT: "http://example.com" }, variable: "PUSH_SUBJECT" },
  ];
  for (const c of cases) {
    test(`${c.name} stops start-up with one line naming ${c.variable}`, () => {
      const lines = problems(c.env);
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.ok(lines[0]!.startsWith(`${c.variable}: `), lines[0]);
      // a private key is never echoed back
      assert.ok(!lines[0]!.includes(KEYS.PUSH_VAPID_PRIVATE_KEY));
    });
  }
});
