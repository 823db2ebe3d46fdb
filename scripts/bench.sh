#!/usr/bin/env bash
# `npm run bench`: makes sure the binaries the bench needs are installed, then runs bench/run.ts.
# redis-server and PostgreSQL as for the tests (the bench starts its own on free ports in temp dirs), and
# wrk, the C load generator of scenario f (bench/lib/wrk.ts), from Debian's apt like the others.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if ((${#missing[@]})); then
  sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  echo "bench.sh: installing ${missing[*]} with apt-get (first run only)" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v wrk >/dev/null 2>&1 || { echo "bench.sh: wrk still not on PATH" >&2; exit 1; }

exec npx tsx bench/run.ts "$@"
