/**
 * What the web page says about files: sizes as file managers show them, a word and an icon per
 * type, and a sentence for each way the server can refuse an upload.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ChatAuthError, ChatError } from "../../src/sdk/index.js";
import { fileKind, formatSize, previewSize, uploadErrorText } from "../../web/files.js";

test("sizes read as bytes, KB, MB and GB, with one decimal only below 10", () => {
  assert.deepEqual(
    [0, 1, 1023, 1024, 1536, 10 * 1024 - 1, 65536, 900 * 1024, 25 * 1024 * 1024, 3.5 * 1024 ** 3].map(
      formatSize,
    ),
    ["0 bytes", "1 byte", "1023 bytes", "1 KB", "1.5 KB", "10 KB", "64 KB", "900 KB", "25 MB", "3.5 GB"],
  );
});

test("each type gets a plain word", () => {
  const types = [
    "image/png",
    "application/pdf",
    "audio/mpeg",
    "video/mp4",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/zip",
    "text/plain",
    "application/octet-stream",
  ];
  assert.deepEqual(
    types.map((t) => fileKind(t).label),
    [
      "Image",
      "PDF",
      "Audio",
      "Video",
      "Spreadsheet",
      "Spreadsheet",
      "Slides",
      "Document",
      "Archive",
      "Text",
      "File",
    ],
  );
});

test("a preview keeps the image's shape with its longest side at most 360", () => {
  const file = { id: "1", name: "a", size: 1, type: "image/png", url: "/a", thumbnailUrl: "/t" };
  assert.deepEqual(previewSize({ ...file, width: 1200, height: 900 }), { width: 360, height: 270 });
  assert.deepEqual(previewSize({ ...file, width: 100, height: 800 }), { width: 45, height: 360 });
  assert.deepEqual(previewSize({ ...file, width: 200, height: 100 }), { width: 200, height: 100 });
  assert.equal(previewSize({ ...file, width: null, height: null }), null);
});

test("every refusal has its own sentence", () => {
  const refused = (code: ConstructorParameters<typeof ChatError>[0]["code"], details?: unknown) =>
    uploadErrorText(new ChatError({ code, message: "The file is empty.", details }), "plan.pdf");
  assert.equal(
    refused("PAYLOAD_TOO_LARGE", { maxBytes: 26_214_400 }),
    "“plan.pdf” is too large to send. Files can be at most 25 MB.",
  );
  assert.equal(refused("PAYLOAD_TOO_LARGE"), "“plan.pdf” is too large to send.");
  assert.equal(
    refused("QUOTA_EXCEEDED", { usedBytes: 5, quotaBytes: 1024 ** 3 }),
    "There is no room left for “plan.pdf”: your files use all the space you have (1 GB). Delete some messages with files, or ask your TimeWise administrator for more space.",
  );
  assert.equal(refused("FORBIDDEN"), "You are not allowed to send “plan.pdf” here.");
  assert.equal(refused("RATE_LIMITED"), "You are sending files too quickly. Wait a moment, then try again.");
  assert.equal(
    refused("UNAVAILABLE"),
    "“plan.pdf” could not be uploaded right now. Check your connection and try again.",
  );
  assert.equal(refused("BAD_REQUEST"), "“plan.pdf” could not be sent: The file is empty.");
  assert.equal(refused("INTERNAL"), "“plan.pdf” could not be uploaded. Please try again.");
  assert.equal(
    uploadErrorText(new ChatAuthError("AUTH_EXPIRED", "expired"), "plan.pdf"),
    "Your sign-in has expired. Reload the page and sign in again to send files.",
  );
});
