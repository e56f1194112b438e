#!/usr/bin/env bash
# Compares one bench's rows between two builds by alternating runs: the method behind the
# "a–b → c–d ns (n alternating runs)" figures in benches/README.md (before this script, each
# round ran the base first).
#
#   benches/compare.sh <base-rev> <bench> <rounds> <regex>
#
# builds bench target <bench> (`overhead`, `http_server`, ...) at git revision <base-rev> (in a
# temporary worktree) and from the working tree as it is, then runs the two binaries in turn,
# <rounds> times each, on the criterion rows matching <regex>, and prints every run's median
# and, per row, the median of each side's medians.
#
# Why alternate two builds: this VM's speed drifts by several percent within minutes, so runs
# of one build after the other's compare two moments as much as two builds; alternating
# spreads the drift over both. Use an even number of rounds (see the loop). Why two builds
# rather than a switch inside one: a run-time switch adds its own check to the path it
# measures, and moves the code around it (the fourteenth session's box spare read 8 ns better
# switched than built). Two medians of one binary read 1-2 ns apart on a 185 ns row: a smaller
# difference is not a finding.
#
# Environment: CARGO_TARGET_DIR (default /tmp/target-compare; each side builds in a directory
# of its own under it, see `build`), FEATURES (cargo features for both builds, default none),
# MEASUREMENT_SECS (criterion's measurement time per row, default 3). Needs git, cargo, awk.

set -euo pipefail

if [[ $# -ne 4 ]]; then
  sed -n '6,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
base_rev=$1 bench=$2 rounds=$3 regex=$4

repo=$(git rev-parse --show-toplevel)
target_root=${CARGO_TARGET_DIR:-/tmp/target-compare}
features=${FEATURES:-}
measurement_secs=${MEASUREMENT_SECS:-3}
work=$(mktemp -d)
worktree="$work/base"
cleanup() {
  git -C "$repo" worktree remove --force "$worktree" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Builds the bench in directory $1 into target directory $2 and copies its binary to $3.
#
# One target directory per side: sharing one, the working tree's build found the base's
# artifact (same crate, same hash) newer than its own edited sources, which were saved before
# the base was built, and kept it: two byte-identical binaries, compared as two builds.
build() {
  local dir=$1 target=$2 out=$3 executable
  executable=$(cd "$dir" && CARGO_TARGET_DIR="$target" \
    cargo bench --features "$features" --bench "$bench" --no-run 2>&1 |
    tee "$work/build.log" |
    sed -n 's/^ *Executable .*(\(.*\))$/\1/p' | tail -n 1)
  if [[ -z $executable ]]; then
    cat "$work/build.log" >&2
    echo "compare.sh: no bench binary built in $dir" >&2
    exit 1
  fi
  cp "$executable" "$out"
}

git -C "$repo" worktree add --quiet --detach "$worktree" "$base_rev"
echo "building $bench at $base_rev and from the working tree (in $target_root)" >&2
build "$worktree" "$target_root/compare-base" "$work/base-bin"
build "$repo" "$target_root/compare-new" "$work/new-bin"
if cmp -s "$work/base-bin" "$work/new-bin"; then
  echo "the two binaries are byte-identical: what differs below is the machine's noise" >&2
fi

# Prints "<round> <side> <median in ns> ns <row>" for each row criterion reports (criterion
# picks a unit per figure: 998 ns and 1.002 µs are put in one).
run() {
  local round=$1 side=$2
  "$work/$side-bin" --bench --warm-up-time 1 --measurement-time "$measurement_secs" "$regex" \
    2>/dev/null |
    awk -v round="$round" -v side="$side" '
      BEGIN { ns["ps"] = 0.001; ns["ns"] = 1; ns["µs"] = 1e3; ns["us"] = 1e3; ns["ms"] = 1e6; ns["s"] = 1e9 }
      NF == 1 && $1 ~ /\// { row = $1; next }
      {
        for (i = 1; i <= NF; i++) if ($i == "time:") {
          if (i > 1) row = $1
          printf "%d %s %.2f ns %s\n", round, side, $(i + 3) * ns[$(i + 4)], row
        }
      }'
}

# Odd rounds run the base first, even rounds the working tree's: the second run of a pair
# tends to read slower (the same binary twice read 2-3 ns apart on a 185 ns row, the second
# run slower in 4 pairs of 5), and taking turns cancels that as the drift.
for round in $(seq 1 "$rounds"); do
  if ((round % 2)); then
    run "$round" base
    run "$round" new
  else
    run "$round" new
    run "$round" base
  fi
done | tee "$work/runs.txt"

echo
echo "row | side | medians, run by run | median of them"
sort -k5,5 -k2,2 -k1,1n "$work/runs.txt" | awk '
  function flush(   n, sorted, i, j, t, mid) {
    if (key == "") return
    n = split(values, sorted, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && sorted[j - 1] + 0 > sorted[j] + 0; j--) {
      t = sorted[j]; sorted[j] = sorted[j - 1]; sorted[j - 1] = t
    }
    mid = (n % 2) ? sorted[(n + 1) / 2] : (sorted[n / 2] + sorted[n / 2 + 1]) / 2
    printf "%s | %s | %s %s\n", key, values, mid, unit
  }
  { k = $5 " | " $2; if (k != key) { flush(); key = k; values = "" } values = values (values == "" ? "" : " ") $3; unit = $4 }
  END { flush() }'
