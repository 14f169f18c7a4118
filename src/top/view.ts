/**
 * netmon top as a {@link ViewSource}: processes by traffic (current, 10 s and 40 s averages,
 * totals), and the connections of one process (Enter on it; Esc goes back), with the rows
 * no process could be named for shown as such. The same view code as netmon proc.
 *
 * @module
 */
import type { Key } from "../ui/keys.ts";
import type { RowContext, Screen, SourceAction, TableRow, ViewSource } from "../ui/source.ts";
import { byteRate, bytes } from "../proc/columns.ts";
import type {
  ConnectionRow,
  ProcessRow,
  TopDocument,
  TopModel,
  Traffic,
  UnattributedRow,
} from "./model.ts";

const TABS = ["processes", "connections"] as const;

const RATE_COLUMNS = [
  { title: "Sent/s", align: "right" as const },
  { title: "Recv/s", align: "right" as const },
  { title: "Sent 10s", align: "right" as const },
  { title: "Recv 10s", align: "right" as const },
  { title: "Sent 40s", align: "right" as const },
  { title: "Recv 40s", align: "right" as const },
  { title: "Sent", align: "right" as const },
  { title: "Received", align: "right" as const },
];

function rateCells(t: Traffic): { cells: string[]; keys: number[] } {
  const v = [
    t.Sent_Rate,
    t.Received_Rate,
    t.Sent_Rate_10s,
    t.Received_Rate_10s,
    t.Sent_Rate_40s,
    t.Received_Rate_40s,
  ];
  return {
    cells: [...v.map(byteRate), bytes(t.Sent_Bytes), bytes(t.Received_Bytes)],
    keys: [...v, t.Sent_Bytes, t.Received_Bytes],
  };
}

const processId = (p: ProcessRow) => `pid:${p.Process.PID}`;

export class TopSource implements ViewSource {
  readonly tabs = TABS;
  readonly help = [
    { keys: "Enter", does: "processes: show the connections of the process under the cursor" },
    { keys: "Esc / Backspace", does: "connections: back to every process" },
  ];
  readonly intro = null;
  readonly commands = [];
  readonly #model: TopModel;
  readonly #ended: () => string | null;
  #focus: string | null = null;
  #doc: TopDocument | null = null;

  constructor(model: TopModel, ended: () => string | null = () => null) {
    this.#model = model;
    this.#ended = ended;
  }

  screen(tab: string, tick: boolean): Screen {
    if (tick || this.#doc === null) this.#doc = this.#model.document();
    const d = this.#doc;
    const unknown = d.Unattributed.reduce((n, u) => n + u.Sent_Bytes + u.Received_Bytes, 0);
    const title = `netmon top -i ${d.Interface}`;
    if (tab === "connections") return this.#connections(d, title);
    this.#focus = null; // back on the process list: the next visit shows every connection
    const rows: TableRow[] = d.Processes.map((p) => {
      const r = rateCells(p);
      return {
        id: processId(p),
        cells: [
          p.Process.Name,
          String(p.Process.PID),
          p.Process.User,
          ...r.cells,
          String(p.Connections.length),
          p.Process.Container_ID?.slice(0, 12) ?? "-",
          p.Process.Command,
        ],
        keys: [
          p.Process.Name,
          p.Process.PID,
          p.Process.User,
          ...r.keys,
          p.Connections.length,
          p.Process.Container_ID ?? "",
          p.Process.Command,
        ],
      };
    });
    for (const u of d.Unattributed) rows.push(this.#unattributed(u));
    return {
      title,
      info: `${d.Processes.length} processes, ${bytes(unknown)} unattributed  |  ` +
        `rates: current ${2} s, 10 s, 40 s averages  |  Enter: connections of a process`,
      tables: [{
        columns: [
          { title: "Process" },
          { title: "PID", align: "right" },
          { title: "User" },
          ...RATE_COLUMNS,
          { title: "Conns", align: "right" },
          { title: "Container" },
          { title: "Command" },
        ],
        rows,
      }],
    };
  }

  #unattributed(u: UnattributedRow): TableRow {
    const r = rateCells(u);
    return {
      id: `kind:${u.Kind}`,
      cells: [`[${u.Kind}]`, "-", "-", ...r.cells, String(u.Connections), "-", "-"],
      keys: [`[${u.Kind}]`, null, null, ...r.keys, u.Connections, null, null],
    };
  }

  #connections(d: TopDocument, title: string): Screen {
    const focus = this.#focus;
    const procs = focus === null ? d.Processes : d.Processes.filter((p) => processId(p) === focus);
    const rows: TableRow[] = [];
    for (const p of procs) {
      for (const c of p.Connections) rows.push(this.#conn(p, c));
    }
    const who = focus === null
      ? "every process"
      : procs[0] !== undefined
      ? `${procs[0].Process.Name} (${procs[0].Process.PID})`
      : `${focus.slice(4)} (no traffic now)`;
    return {
      title,
      info: `connections of ${who}: ${rows.length}${
        focus !== null ? "  |  Esc: every process" : ""
      }`,
      tables: [{
        columns: [
          { title: "Remote host" },
          { title: "Port", align: "right" },
          { title: "Proto" },
          { title: "Process" },
          { title: "PID", align: "right" },
          { title: "Local" },
          ...RATE_COLUMNS,
        ],
        rows,
      }],
    };
  }

  #conn(p: ProcessRow, c: ConnectionRow): TableRow {
    const r = rateCells(c);
    return {
      cells: [
        c.Remote_Address,
        String(c.Remote_Port),
        c.Protocol,
        p.Process.Name,
        String(p.Process.PID),
        `${c.Local_Address}:${c.Local_Port}`,
        ...r.cells,
      ],
      keys: [
        c.Remote_Address,
        c.Remote_Port,
        c.Protocol,
        p.Process.Name,
        p.Process.PID,
        `${c.Local_Address}:${c.Local_Port}`,
        ...r.keys,
      ],
    };
  }

  key(key: Key, at: RowContext): SourceAction | null {
    if (key.name === "enter" && at.tab === "processes" && at.row?.id?.startsWith("pid:")) {
      this.#focus = at.row.id;
      return { effect: "refresh", tab: "connections" };
    }
    if ((key.name === "escape" || key.name === "backspace") && at.tab === "connections") {
      if (this.#focus === null) return null;
      this.#focus = null;
      return { effect: "refresh", tab: "processes" };
    }
    return null;
  }

  command(): SourceAction | null {
    return null;
  }

  ended(): string | null {
    return this.#ended();
  }

  close(): void {}
}
