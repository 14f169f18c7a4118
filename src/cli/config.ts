/**
 * `netmon config generate [FILE] [--force]`, `netmon config validate FILE`,
 * `netmon config show [--config FILE] [--json]`.
 */
import { Command } from "@commander-js/extra-typings";
import { readConfigFile, type ResolvedSettings, resolveSettings } from "../config/load.ts";
import { SETTINGS, type Settings } from "../config/settings.ts";
import { configTemplate, formatValue } from "../config/template.ts";
import { errorText, UsageError } from "../errors.ts";
import { renderTable } from "./table.ts";

/** The version written into templates (kept in step with main.ts VERSION). */
const VERSION = "0.1.0";

/** Settings whose value `config show` masks (secrets). */
const SECRET: ReadonlySet<keyof Settings> = new Set(["serverToken", "serveToken"]);

function shown(name: keyof Settings, v: unknown): unknown {
  return SECRET.has(name) && v !== "" ? "(set, hidden)" : v;
}

/** JSON of `config show`: {section: {key: {Value, Source, Origin}}}. */
export function showJson(r: ResolvedSettings): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const spec of SETTINGS) {
    (out[spec.section] ??= {})[spec.key] = {
      Value: shown(spec.name, r.settings[spec.name]),
      Source: r.sources[spec.name],
      Origin: r.origins[spec.name],
    };
  }
  return out;
}

/** The terminal table of `config show`. */
export function showTable(r: ResolvedSettings): string {
  return renderTable(
    ["Section", "Key", "Value", "Source"],
    SETTINGS.map((spec) => [
      spec.section,
      spec.key,
      formatValue(shown(spec.name, r.settings[spec.name])),
      r.origins[spec.name] === r.sources[spec.name]
        ? r.sources[spec.name]
        : `${r.sources[spec.name]} (${r.origins[spec.name]})`,
    ]),
    { compact: true },
  );
}

async function writeNew(path: string, text: string, force: boolean): Promise<void> {
  try {
    await Deno.writeTextFile(path, text, force ? {} : { createNew: true });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(`config generate: ${path} exists (use --force to overwrite it)`);
    }
    throw new UsageError(`config generate: cannot write ${path}: ${errorText(e)}`);
  }
}

export function configCommand() {
  const cmd = new Command("config")
    .description(
      "Configuration file: generate a template, validate a file, show effective settings",
    );
  cmd.command("generate")
    .description("Write a commented INI template of every setting with its default")
    .argument("[file]", "write to FILE instead of stdout")
    .option("--force", "overwrite FILE if it exists")
    .action(async (file, o) => {
      const text = configTemplate(VERSION);
      if (file === undefined) {
        await Deno.stdout.write(new TextEncoder().encode(text));
        return;
      }
      await writeNew(file, text, o.force === true);
      console.error(`netmon: wrote ${file} (${SETTINGS.length} settings)`);
    });
  cmd.command("validate")
    .description(
      "Check a config file: unknown sections or keys and bad values exit 2 with FILE:LINE",
    )
    .argument("<file>", "INI configuration file")
    .action(async (file) => {
      const cfg = await readConfigFile(file);
      const n = Object.keys(cfg.values).length;
      console.log(`${file}: ok (${n} setting${n === 1 ? "" : "s"} set)`);
    });
  cmd.command("show")
    .description("Show the effective settings and where each came from (default, file, env)")
    .option("--config <file>", "INI configuration file")
    .option("--json", "print JSON: {section: {key: {Value, Source, Origin}}}")
    .action(async (o) => {
      const r = await resolveSettings({}, o.config);
      console.log(o.json ? JSON.stringify(showJson(r), null, 2) : showTable(r));
    });
  return cmd;
}
