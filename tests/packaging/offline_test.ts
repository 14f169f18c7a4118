/** The compile test's "offline" rule: only a failed connection to the runtime download. */
import assert from "node:assert/strict";
import { runtimeDownloadFailed } from "./helpers.ts";

// What deno 2.9.5 printed here without network (host and version as deno wrote them).
const OFFLINE = `error: Writing deno compile executable to temporary file 'x'

Caused by:
    0: Setting up base binary.
    1: error sending request for url (https://dl.deno.land/release/v2.9.5/denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error: failed to lookup address information: Name or service not known
    2: client error (Connect)`;

Deno.test("a failed connection for the denort download is offline; any other failure is not", () => {
  assert.equal(runtimeDownloadFailed(OFFLINE), true);
  assert.equal(runtimeDownloadFailed(`\x1b[31merror\x1b[0m: ${OFFLINE}`), true);
  for (
    const other of [
      // the runtime's host answered: a real failure (a missing release, a bad archive)
      OFFLINE.replace("client error (Connect)", "HTTP status client error (404 Not Found)"),
      // another download: an npm package, a JSR module
      OFFLINE.replace("/release/v2.9.5/denort-x86_64-unknown-linux-gnu.zip", "/left-pad.tgz"),
      "error: request timed out while downloading",
      "error: invalid peer certificate: UnknownIssuer",
      "error: TS2304 [ERROR]: Cannot find name 'x'. download failed? no",
      'error: Module not found "file:///main.ts".',
    ]
  ) assert.equal(runtimeDownloadFailed(other), false, other);
});
