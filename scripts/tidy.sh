#!/usr/bin/env bash
# clang-tidy (.clang-tidy at the root; warnings are errors) over the
# project's translation units in BUILD_DIR/compile_commands.json, two at a
# time. Headers under daemon/ adapters/ tests/ bench/ fuzz/ are checked
# through the files that include them (HeaderFilterRegex).
#
#   scripts/tidy.sh BUILD_DIR --all           every translation unit
#   scripts/tidy.sh BUILD_DIR [BASE]          those changed since BASE (default: the commit in
#                                             .ci/tidy-base), and those that include a changed header
#
# A full run takes 15 to 25 minutes on 2 cores (clang-analyzer is most of
# it), so CI checks the files changed since .ci/tidy-base, the last commit
# at which a full run was clean. After a clean --all run, write HEAD there.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/tidy.sh BUILD_DIR [--all | BASE]}
mode=${2:-}
jobs=${TIDY_JOBS:-$(nproc)}
mapfile -t units < <(python3 - "$build/compile_commands.json" <<'PY'
import json, os, sys
root = os.getcwd() + "/"
for e in json.load(open(sys.argv[1])):
    f = e["file"]
    if f.startswith(root) and not f.startswith(root + "build"):
        print(f[len(root):])
PY
)
if [ "$mode" = --all ]; then
  selected=("${units[@]}")
else
  base=${mode:-$(cat .ci/tidy-base 2>/dev/null || true)}
  if [ -z "$base" ] || ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
    echo "clang-tidy: base '$base' is not a commit here; checking every file"
    selected=("${units[@]}")
  else
    mapfile -t changed < <(git diff --name-only "$base" -- '*.cpp' '*.h')
    selected=()
    for u in "${units[@]}"; do
      hit=0
      for c in "${changed[@]}"; do
        if [ "$u" = "$c" ]; then hit=1; break; fi
        if [[ $c == *.h ]] && grep -q "#include \"$c\"" "$u"; then hit=1; break; fi
      done
      ((hit)) && selected+=("$u")
    done
    echo "clang-tidy: ${#selected[@]} of ${#units[@]} translation units changed since ${base:0:12} (or include a changed header)"
  fi
fi
((${#selected[@]})) || { echo "clang-tidy: nothing to check"; exit 0; }
out=$(mktemp -d)
status=0
# One output file per translation unit; the failed ones are listed in $out/failed.
# shellcheck disable=SC2016  # $1..$3 belong to the inner sh
printf '%s\n' "${selected[@]}" |
  xargs -P "$jobs" -I{} sh -c 'clang-tidy -p "$1" --quiet "$2" >"$3/$(echo "$2" | tr / _).log" 2>&1 ||
    echo "$2" >>"$3/failed"' _ "$build" {} "$out" || status=1
cat "$out"/*.log | grep -v "warnings generated\|^Suppressed\|^Use -header-filter\|^[0-9]* warning.* treated as error" || true
if [ -s "$out/failed" ]; then
  echo "clang-tidy: findings in $(wc -l <"$out/failed") file(s):"
  sed 's/^/  /' "$out/failed"
  status=1
fi
rm -rf "$out"
[ "$status" -eq 0 ] && echo "clang-tidy: ${#selected[@]} translation unit(s) clean"
exit "$status"
