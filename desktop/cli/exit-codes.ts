/**
 * `studiovault`'s exit codes: one table, read by the commands, the help footer and README's CLI
 * section, so a script can tell "done" from "refused", "bad arguments", "try again when online" and
 * "done, but look at the conflict inbox".
 */
export const EXIT = {
  done: 0,
  /** A rule refused a local write; the server refused (token refused or expired, role, device revoked, token used by another install, app too old, a refused bootstrap); no database; an unexpected error. */
  refused: 1,
  /** Bad arguments: nothing was done. */
  usage: 2,
  /** The server could not be reached, or sync did not finish in time: nothing was lost, try again when online. */
  unreachable: 3,
  /** `sync` finished, but the server rejected some of the changes it sent (or a queued change could not be read). */
  rejected: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The table as help prints it (README's CLI section has the same table). */
export const EXIT_CODE_LINES: readonly string[] = [
  `${EXIT.done}  done`,
  `${EXIT.refused}  refused: a rule refused a local write; the server refused (token refused or expired, your role, device revoked,`,
  `   token used by another install, app too old, bootstrap refused); no database here; an unexpected error`,
  `${EXIT.usage}  bad arguments (nothing was done)`,
  `${EXIT.unreachable}  server unreachable or sync timed out: nothing lost, try again when online (init: the database is bound)`,
  `${EXIT.rejected}  sync finished, but the server rejected some changes: see \`studiovault conflicts\` and \`studiovault queue --status rejected\``,
];
