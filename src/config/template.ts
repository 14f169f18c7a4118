/**
 * The commented INI template `netmon config generate` writes: every setting of the
 * {@link SETTINGS} table with its help, type, bounds, environment variable and default,
 * commented out (`; key = default`) so an untouched template changes nothing and defaults
 * that depend on the run (flows on only when shipping) keep working.
 *
 * @example
 * ```ts
 * import { configTemplate } from "./template.ts";
 * console.log(configTemplate()); // ...[capture]\n# Interface to capture on ...\n; interface =\n...
 * ```
 * @module
 */
import { defaultSettings, SETTINGS, type Settings, type SettingSpec } from "./settings.ts";
import { iniValue } from "./ini.ts";

/** Settings whose default depends on the environment: the comment says how. */
const COMPUTED: ReadonlySet<keyof Settings> = new Set(["spoolDir"]);

/** Example items shown (commented) for list settings, whose default is empty. */
const LIST_EXAMPLES: Readonly<Partial<Record<keyof Settings, string[]>>> = {
  filter: ["/etc/netmon/keep.jsonc", '{"TCP": {"Port": 443}}'],
  exclude: ['{"UDP": {"Port": 53}}'],
  udpPorts: ["vxlan:4789,8472,9999"],
};

function typeLine(spec: SettingSpec): string {
  switch (spec.type) {
    case "int":
      return `integer ${spec.min ?? ""}..${spec.max ?? ""}`;
    case "number":
      return `number ${spec.min ?? ""}..${spec.max ?? ""}`;
    case "bool":
      return "true or false";
    case "enum":
      return `one of ${(spec.values ?? []).join(", ")}`;
    case "list":
      return `list: one '${spec.key}[] = ...' line per item`;
    case "string":
      return "text";
  }
}

/** Formats a value as it would be written in the file. */
export function formatValue(v: unknown): string {
  if (Array.isArray(v)) return v.join(", ");
  return iniValue(String(v));
}

/** The template text (ends with a newline). */
export function configTemplate(version = ""): string {
  const d = defaultSettings() as unknown as Record<string, unknown>;
  const out: string[] = [
    `# netmon configuration${version ? ` (written by netmon ${version})` : ""}.`,
    "#",
    "# Precedence: command-line flags > environment variables > this file > built-in defaults.",
    "# Every setting is listed, commented out ('; key = value'), with its built-in default: remove",
    "# the '; ' to set it. A setting left commented follows netmon's default, which for some",
    "# (e.g. [flow] enabled) depends on the run: set it only to override that.",
    "# Booleans: true/false (also yes/no, on/off, 1/0). Quote a value that contains ';' or '#'.",
    "# Lists (filter, exclude): one 'key[] = item' line per item ('key = item' repeated works too);",
    "# relative file paths are relative to netmon's working directory.",
    "# Check a file with: netmon config validate FILE; see the result: netmon config show --config FILE",
  ];
  let section = "";
  for (const spec of SETTINGS) {
    if (spec.section !== section) {
      section = spec.section;
      out.push("", `[${section}]`);
    }
    out.push(`# ${spec.help}`);
    const env = spec.env ? `; environment: ${spec.env}` : "";
    out.push(`# Type: ${typeLine(spec)}${env}.`);
    const value = d[spec.name];
    if (spec.type === "list") {
      out.push("# Default: none. Examples:");
      for (const ex of LIST_EXAMPLES[spec.name] ?? ["..."]) {
        out.push(`; ${spec.key}[] = ${iniValue(ex)}`);
      }
    } else if (COMPUTED.has(spec.name)) {
      out.push("# Default: $XDG_STATE_HOME/netmon/spool, else ~/.local/state/netmon/spool.");
      out.push(`; ${spec.key} = ${formatValue(value)}`);
    } else {
      const text = formatValue(value);
      out.push(text === "" ? `; ${spec.key} =` : `; ${spec.key} = ${text}`);
    }
  }
  return out.join("\n") + "\n";
}
