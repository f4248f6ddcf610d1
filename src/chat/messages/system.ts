/**
 * The sender of messages the TimeWise app itself posts through the server API: `senderId` "0",
 * shown as "TimeWise". No PHP user has id 0 (ids start at 1), and it is never a room member, so
 * its messages count as unread for everyone and nobody can edit them.
 */
export const SYSTEM_SENDER = { id: "0", name: "TimeWise" } as const;
