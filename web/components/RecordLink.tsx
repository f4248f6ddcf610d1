/** The header line of a record's conversation: what record it is about, with a link back to it. */
import type { RoomRecord } from "../../src/sdk/index.js";
import { safeRecordUrl } from "../records.js";

export function RecordLink({ record }: { record: RoomRecord }) {
  const href = safeRecordUrl(record.url);
  return (
    <p class="record-line">
      <span class="record-kind">{record.kind}</span>{" "}
      {href ? (
        // a new tab: the chat stays open; noopener so the record's page can't steer this one
        <a class="record-link" href={href} target="_blank" rel="noopener noreferrer">
          Open <bdi>{record.title}</bdi> in TimeWise
        </a>
      ) : (
        <bdi>{record.title}</bdi>
      )}
    </p>
  );
}
