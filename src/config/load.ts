/**
 * Effective settings: flags, then environment variables, then the config file, then
 * defaults. (Placeholder: INI files and environment land with issue 8.)
 */
import { defaultSettings, type Settings } from "./settings.ts";

export type SettingSource = "flag" | "env" | "file" | "default";

export interface ResolvedSettings {
  settings: Settings;
  /** Where each setting came from. */
  sources: Record<keyof Settings, SettingSource>;
}

/** Merges flag values (undefined = not given) over the defaults. */
export function resolveSettings(
  flags: Partial<Settings>,
  _configPath?: string,
): Promise<ResolvedSettings> {
  const settings = defaultSettings();
  const sources = {} as Record<keyof Settings, SettingSource>;
  for (const k of Object.keys(settings) as (keyof Settings)[]) sources[k] = "default";
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    (settings as unknown as Record<string, unknown>)[k] = v;
    sources[k as keyof Settings] = "flag";
  }
  return Promise.resolve({ settings, sources });
}
