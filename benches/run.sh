#!/usr/bin/env bash
# The benchmark. Builds the release binary, runs every scenario against it and against the
# ceilings (nginx serving the same bytes, diesel doing the same writes), and writes BENCHMARKS.md
# with docs/benchmark.svg.
#
#   benches/run.sh           10 s per scenario, lists of up to 100,000 todos (about 20 minutes)
#   benches/run.sh --streams-only, --cluster-only, --caldav-only, --postgres-only,
#                  --compression-only: that part alone, printed
#   benches/run.sh --quick   1 s per scenario, small lists; writes to target/bench-quick/ (CI)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v wrk >/dev/null || packages+=(wrk)
[[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null || packages+=(nginx)
if ((${#packages[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# The CalDAV peer: Radicale from PyPI, in a virtualenv of its own.
if [[ ! -x target/radicale-venv/bin/radicale ]]; then
  python3 -m venv target/radicale-venv
  target/radicale-venv/bin/pip install --quiet --disable-pip-version-check "radicale==3.9.0"
fi

cargo build --release --locked
# Thousands of live streams: as many open files as the machine allows.
ulimit -n "$(ulimit -Hn)"
cargo bench --locked --bench harness -- "$@"
