/**
 * A problem the person running the copy can fix (a wrong path or URL, a database that cannot be
 * reached, an older file): the command prints its message as one line and exits with code 1.
 */
export class CopyError extends Error {}
