/** `netmon gateways [--json]`: gateways of every routing table, IPv4 and IPv6 (rtnetlink). */
import { Command } from "@commander-js/extra-typings";
import { type Gateway, listGateways } from "../net/routes.ts";
import { errorText, RuntimeFailure } from "../errors.ts";
import { renderTable } from "./table.ts";

/** The terminal table: grouped by interface, default routes marked with "*". */
export function gatewaysTable(list: Gateway[]): string {
  return renderTable(
    [
      "Interface",
      "Family",
      "Default",
      "Destination",
      "Gateway",
      "Table",
      "Metric",
      "Protocol",
      "Weight",
    ],
    list.map((g) => [
      g.Interface,
      g.Family,
      g.Default ? "*" : "",
      g.Destination,
      g.Gateway,
      g.Table_Name === String(g.Table) ? String(g.Table) : `${g.Table_Name} (${g.Table})`,
      g.Metric,
      g.Protocol,
      g.Weight,
    ]),
    { compact: true },
  );
}

export function gatewaysCommand() {
  return new Command("gateways")
    .description(
      "List gateways per interface for IPv4 and IPv6 from every routing table (default routes marked)",
    )
    .option("--json", "print a JSON array (for scripts) instead of a table")
    .option("--default", "only default routes")
    .action((o) => {
      let list: Gateway[];
      try {
        list = listGateways();
      } catch (e) {
        throw new RuntimeFailure(`gateways: cannot read routes over netlink: ${errorText(e)}`);
      }
      if (o.default) list = list.filter((g) => g.Default);
      console.log(o.json ? JSON.stringify(list, null, 2) : gatewaysTable(list));
    });
}
