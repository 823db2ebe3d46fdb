#!/usr/bin/env bash
# Runs the test suite. The tests start their own redis-server and PostgreSQL on free ports in temp dirs
# (test/global-setup.ts), so this script makes sure those binaries are installed, runs the static checks
# (Biome: lint, format, import cycles; tsc), then runs vitest.
set -euo pipefail
cd "$(dirname "$0")/.."

# Highest-versioned Debian PostgreSQL server install, e.g. /usr/lib/postgresql/15/bin (empty if none).
pg_bin_dir() {
  local ctl
  ctl=$(ls -1d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$ctl" ]] && dirname "$ctl"
  return 0
}

install_services() {
  local sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  echo "test.sh: installing redis-server and postgresql with apt-get (first run only)" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # The packages may start their Debian system services; the tests never use them (they pick their own ports).
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server postgresql
}

if ! command -v redis-server >/dev/null 2>&1 || [[ -z "$(pg_bin_dir)" ]]; then
  install_services
fi
# Debian's chromium for the browser tests (test/web, driven by playwright-core).
if [[ ! -x /usr/bin/chromium ]]; then
  sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  echo "test.sh: installing chromium with apt-get (first run only)" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi
[[ -x /usr/bin/chromium ]] || { echo "test.sh: /usr/bin/chromium still missing after install" >&2; exit 1; }
command -v redis-server >/dev/null 2>&1 || { echo "test.sh: redis-server still not on PATH" >&2; exit 1; }
[[ -n "$(pg_bin_dir)" ]] || { echo "test.sh: no /usr/lib/postgresql/*/bin/pg_ctl after install" >&2; exit 1; }

# Static checks first, so a lint error, a format slip, an import cycle or a type error fails CI in seconds.
npx biome ci --error-on-warnings --max-diagnostics=50 .
npx tsc -p tsconfig.json --noEmit
npx tsc -p web/tsconfig.json --noEmit

exec npx vitest run "$@"
