/**
 * Process attribution: which process, user and container own the local end of the traffic a
 * live capture sees (`Process` / `Peer_Process` in packet and flow records). See
 * docs/attribution.md.
 *
 * @module
 */
import { findLink } from "../capture/interfaces.ts";
import { ARPHRD_LOOPBACK } from "../../ffi/constants.ts";
import type { Logger } from "../log/mod.ts";
import { attributionUnavailable, ProcessResolver, type ResolverOptions } from "./resolver.ts";

export { attributionUnavailable, ProcessResolver } from "./resolver.ts";
export type { Conn, RecordProcess, ResolverOptions, ResolverStats } from "./resolver.ts";
export type { ProcessInfo } from "./procinfo.ts";

/**
 * A resolver for live capture on `ifName` (with its SYN tap), or null with a log line when
 * attribution cannot run here (no privileges to read other processes, `--user`).
 */
export function openResolver(
  ifName: string,
  log: Logger,
  opts: { dropsPrivileges?: boolean } & ResolverOptions = {},
): ProcessResolver | null {
  if (opts.dropsPrivileges) {
    log.info("process attribution off: --user drops the privileges it needs");
    return null;
  }
  const why = attributionUnavailable(opts.procRoot);
  if (why !== null) {
    log.info(why);
    return null;
  }
  const link = findLink(ifName);
  return new ProcessResolver({
    ...opts,
    log,
    tapInterface: opts.tapInterface === undefined
      ? { name: link.name, index: link.index, loopback: link.type === ARPHRD_LOOPBACK }
      : opts.tapInterface,
  });
}
