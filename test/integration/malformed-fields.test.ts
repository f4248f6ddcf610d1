/**
 * Malformed fields, table-tested: for every client→server event, each field of an otherwise valid
 * payload set to a wrong value gets an ack with BAD_REQUEST (PAYLOAD_TOO_LARGE for an oversized
 * body) — never a crash, a timeout or INTERNAL — and the socket keeps working afterwards.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Answer, fixture, run, SPEC_ENTRIES, stillWorks, useKit, withValid } from "./malformed-cases.js";

const kit = useKit();

for (const [event, spec] of SPEC_ENTRIES) {
  for (const [field, cases] of Object.entries(spec.fields)) {
    test(`${event} answers BAD_REQUEST to every malformed ${field} and the socket keeps working`, async () => {
      const f = await fixture(kit());
      const valid = spec.valid(f);
      const table = cases(f).map(([label, value, expect]): [string, unknown, Answer] => [
        `${field} ${label}`,
        withValid(valid, field, value),
        expect,
      ]);
      assert.deepEqual(await run(f, event, table), [], `${event}: unexpected answers`);
      await stillWorks(f);
    });
  }
}
