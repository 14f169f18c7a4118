/**
 * Filter layers for process attribution (src/attribution): `Process` is the local process of
 * a flow (the originator's when both ends are on this host), `Peer_Process` the responder's
 * when both are. Both appear in packet and flow records alike, so a filter naming only them
 * applies to both record types (`{"Process": {"Name": "curl"}}`).
 */
import type { LayerSchema, ValueKind } from "./schema.ts";

const NUM: ValueKind = { kind: "number" };
const STR: ValueKind = { kind: "string" };

const PROCESS: LayerSchema = {
  record: "any",
  attrs: {
    PID: { kind: "number", max: 4194304 },
    Name: STR,
    Command: STR,
    User: STR,
    UID: { kind: "number", max: 0xffffffff },
    Container_ID: STR,
    Cgroup: STR,
    Netns: NUM,
    Role: { kind: "enum", values: ["originator", "responder"] },
  },
};

export const PROCESS_LAYERS: Readonly<Record<string, LayerSchema>> = {
  Process: PROCESS,
  Peer_Process: PROCESS,
};
