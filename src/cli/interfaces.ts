/** `netmon interfaces [NAME] [--json]`: interfaces, addresses and counters (rtnetlink). */
import { Command } from "@commander-js/extra-typings";
import { listInterfaces, type NetInterface } from "../net/interfaces.ts";
import { errorText, RuntimeFailure, UsageError } from "../errors.ts";
import { renderTable } from "./table.ts";

/** Flags as `ip link` shows them: the set ones, RUNNING left out (it is the carrier). */
export function flagList(i: NetInterface): string {
  return Object.entries(i.Flags).filter(([k, v]) => v && k !== "RUNNING").map(([k]) => k).join(
    ",",
  );
}

/** The terminal table: one row per interface, addresses one per line. */
export function interfacesTable(list: NetInterface[]): string {
  return renderTable(
    [
      "Name",
      "Index",
      "State",
      "MTU",
      "MAC",
      "Flags",
      "Addresses",
      "RX bytes/packets",
      "TX bytes/packets",
      "Errors/drops rx tx",
    ],
    list.map((i) => {
      const c = i.Counters;
      return [
        i.Link === null
          ? i.Name
          : `${i.Name}@${typeof i.Link === "number" ? `if${i.Link}` : i.Link}`,
        i.Index,
        i.Operstate,
        i.MTU,
        i.MAC,
        flagList(i).replaceAll(",", "\n"),
        i.Addresses.map((a) => `${a.Address}/${a.Prefix_Length}`).join("\n"),
        c ? `${c.RX_Bytes}\n${c.RX_Packets}` : null,
        c ? `${c.TX_Bytes}\n${c.TX_Packets}` : null,
        c ? `${c.RX_Errors}/${c.RX_Dropped}\n${c.TX_Errors}/${c.TX_Dropped}` : null,
      ];
    }),
  );
}

export function interfacesCommand() {
  return new Command("interfaces")
    .description(
      "List network interfaces: index, MAC, MTU, state, flags, IPv4/IPv6 addresses, counters",
    )
    .argument("[name]", "show only this interface")
    .option("--json", "print a JSON array (for scripts) instead of a table")
    .action((name, o) => {
      let list: NetInterface[];
      try {
        list = listInterfaces();
      } catch (e) {
        throw new RuntimeFailure(
          `interfaces: cannot read interfaces over netlink: ${errorText(e)}`,
        );
      }
      if (name !== undefined) {
        const one = list.filter((i) => i.Name === name);
        if (one.length === 0) {
          const have = list.map((i) => i.Name).join(", ");
          throw new UsageError(`interfaces: no interface '${name}' (have: ${have})`);
        }
        list = one;
      }
      console.log(o.json ? JSON.stringify(list, null, 2) : interfacesTable(list));
    });
}
