#!/usr/bin/env bash
# Installs the Debian 12 packages cdrd needs to build, run and test.
# Only calls apt-get when something is missing.
set -euo pipefail
PACKAGES=(
  build-essential cmake pkg-config git
  libevent-dev libpqxx-dev libpq-dev libisal-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libsystemd-dev rapidjson-dev libpugixml-dev libcli11-dev libssl-dev zlib1g-dev
  postgresql postgresql-client
  libbenchmark-dev
  libphonenumber-dev libicu-dev  # E.164 numbers, number types and country names (adapters/numbers)
  libgmp-dev  # exact rational arithmetic for money (daemon/rating)
  libsodium-dev  # Argon2id password hashes of API users (daemon/auth)
  libhowardhinnant-date-dev  # IANA time zones from the system tz database (daemon/api)
  python3-yaml python3-jsonschema  # tests/openapi/check_responses.py (Debian's, not pip)
  clang-format clang-tidy systemd
  ccache  # scripts/build.sh: rebuilds of unchanged sources come from the cache
  libfaketime  # tests/faults: the clock-jump phase (LD_PRELOAD)
  clang-14 libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer harnesses (fuzz/)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The postgresql package may start its own cluster; cdrd and the tests run their own servers.
if command -v pg_ctlcluster >/dev/null && [ "$(id -u)" -eq 0 ]; then
  for c in $(pg_lsclusters -h 2>/dev/null | awk '$4=="online"{print $1"/"$2}'); do
    pg_ctlcluster "${c%/*}" "${c#*/}" stop || true
  done
fi
