#!/usr/bin/env bash
# Sets up a fresh Debian machine for netmon: Deno from npm, and the tools the tests use.
# Idempotent; run as root (CI does).
set -euo pipefail
DENO_VERSION=2.9.5
export DEBIAN_FRONTEND=noninteractive
need=()
for pair in tshark:tshark editcap:wireshark-common tcpdump:tcpdump trafgen:netsniff-ng ip:iproute2 ss:iproute2 \
  tmux:tmux ping:iputils-ping setcap:libcap2-bin setpriv:util-linux python3:python3 \
  npm:npm nethogs:nethogs curl:curl prlimit:util-linux chromium:chromium; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
# ClickHouse only serves one integration test, which skips with a message without it:
# outside CI a failed install must not stop the setup.
if ! command -v clickhouse-server >/dev/null 2>&1; then
  echo "setup: installing clickhouse-server" >&2
  { apt-get update -qq && apt-get install -y -qq clickhouse-server clickhouse-client >/dev/null; } ||
    echo "setup: clickhouse-server could not be installed; its test will be skipped" >&2
fi
# In CI (CI=true, set by .ci/run) a tool a test needs is an error here, never a skip.
if [ "${CI:-}" = "true" ]; then
  missing=()
  for cmd in clickhouse-server tshark tcpdump trafgen chromium; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: CI needs ${missing[*]}, which could not be installed" >&2
    exit 1
  fi
fi
# scapy (PyPI) rebuilds the crafted captures (fixtures/conformance/make_*.py); a test checks
# that a rerun gives the committed bytes and skips without it.
if ! python3 -c "import scapy" >/dev/null 2>&1; then
  echo "setup: installing scapy (pip)" >&2
  python3 -m pip install -q scapy >/dev/null 2>&1 ||
    python3 -m pip install -q --break-system-packages scapy >/dev/null 2>&1 ||
    echo "setup: scapy could not be installed; the fixture generator test will be skipped" >&2
fi
if ! command -v deno >/dev/null 2>&1 || ! deno --version 2>/dev/null | grep -q "^deno ${DENO_VERSION}"; then
  echo "setup: installing deno@${DENO_VERSION} from npm" >&2
  npm install -g "deno@${DENO_VERSION}" >/dev/null
fi
cd "$(dirname "$0")/.."
# Fetch npm dependencies into Deno's cache once, so tests do not race to download them.
deno install --quiet >/dev/null 2>&1 || deno cache main.ts >/dev/null
# `deno task bundle` needs esbuild from the npm registry: fetch it now, so that the bundle
# test (and the offline fallback to `deno task compile`) works without network later.
bundle_dir=$(mktemp -d)
deno run -A scripts/bundle.ts "$bundle_dir/netmon.js" >/dev/null 2>&1 ||
  { echo "setup: deno task bundle failed (esbuild could not be fetched?)" >&2; rm -rf "$bundle_dir"; exit 1; }
rm -rf "$bundle_dir"
echo "setup: ready ($(deno --version | head -1))" >&2
