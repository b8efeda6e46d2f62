#!/usr/bin/env bash
# Supply-chain checks with cargo-deny (pinned; built once into the cache
# dir): licenses and sources outside deny.toml's allow lists fail, a new
# duplicate version warns. The RustSec advisories are not checked: the
# advisory database is fetched with git, which this machine and CI cannot
# reach (deny.toml). `npm audit` is skipped for the same reason: it asks
# the npm registry's audit service, which the registry mirror here does not
# serve; run both where the internet is reachable.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
version=0.20.2
root="$HOME/.cache/tablero/cargo-deny-$version"
if [ ! -x "$root/bin/cargo-deny" ]; then
    echo "==> building cargo-deny $version into $root (once)"
    CARGO_TARGET_DIR="$root/target" cargo install --locked --quiet --root "$root" "cargo-deny@$version"
    rm -rf "$root/target"
fi
echo "==> cargo deny check bans licenses sources"
"$root/bin/cargo-deny" --locked check bans licenses sources
