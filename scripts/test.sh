#!/usr/bin/env bash
# `npm test`: sets up everything the tests need on a fresh Debian/Ubuntu machine (skipping what is already
# there), then runs typecheck, lint, the build, and unit + integration + browser e2e tests.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

# --- system packages: sshd and dockerd for the integration tests, Chromium for e2e, asciinema to check that an
# exported cast plays, numpy for the checkpoint diff's fast path, slurm-wlm + munge for the SLURM test cluster
declare -A need=(
  [openssh-server]=/usr/sbin/sshd
  [docker.io]=/usr/sbin/dockerd
  [busybox-static]=/bin/busybox
  [chromium]=/usr/bin/chromium
  [debootstrap]=/usr/sbin/debootstrap
  [asciinema]=/usr/bin/asciinema
  [python3-numpy]=/usr/lib/python3/dist-packages/numpy/__init__.py
  [slurm-wlm]=/usr/sbin/slurmctld
  [munge]=/usr/sbin/munged
)
missing=()
for pkg in "${!need[@]}"; do
  if [ "$pkg" = busybox-static ]; then
    dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  elif [ ! -e "${need[$pkg]}" ]; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
      if sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo="none"; fi
    fi
    if [ "$sudo" = none ]; then
      echo "Cannot install ${missing[*]} (not root, no passwordless sudo). Install them with:"
      echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}"
    else
      say "installing ${missing[*]}"
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
      # docker.io's maintainer scripts try to start a system daemon; the tests start their own instead.
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
  else
    echo "Not a Debian-like system: install OpenSSH server, Docker engine, a static busybox and Chromium yourself."
  fi
fi

# --- node modules -----------------------------------------------------------------------------------------
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.ptw-lock-hash ] || [ "$(cat node_modules/.ptw-lock-hash)" != "$lock_hash" ]; then
  say "npm ci"
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
  echo "$lock_hash" > node_modules/.ptw-lock-hash
fi

say "typecheck"
npx tsc -p tsconfig.json --noEmit
npx tsc -p tsconfig.shared.json --noEmit

say "lint and format"
npx eslint --max-warnings 0 .
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }

say "build"
node scripts/build.mjs --quiet

say "tests (unit, integration with real sshd + dockerd, e2e in Chromium)"
mkdir -p test-results
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest-report.json || status=$?
node scripts/test-summary.mjs test-results/vitest-report.json || status=$((status == 0 ? 1 : status))
exit "$status"
