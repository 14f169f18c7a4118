/**
 * Imports every protocol file so that each registers itself in registry.ts.
 * Adding a protocol: write src/decode/<proto>.ts with its `register(...)` calls, add one import here.
 */
import "./vlan.ts";
