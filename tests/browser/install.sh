#!/usr/bin/env bash
# Installs the pinned playwright-core (package-lock.json) into .leadrelay/node/ (git-ignored).
# playwright-core never downloads a browser: the tests drive Debian's /usr/bin/chromium.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:-$here/../../.leadrelay/node}"
mkdir -p "$target"
if [ -f "$target/node_modules/playwright-core/package.json" ] && cmp -s "$here/package-lock.json" "$target/package-lock.json"; then
  exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$target/"
cd "$target"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
