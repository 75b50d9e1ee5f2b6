#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/bench/aggregate.jq's latency of a point: percentiles over the
# histograms of all its runs taken together (fio's json+ bins), as fio takes
# them; the median of each run's own when a run has no histogram; and the
# QD1 latency targets read from those: strict, within the spread of single
# runs, and the A/A control.  Run by prove from the top of the tree (make
# check-unit).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd -P)
source "$root/tests/lib/tap.sh"
command -v jq >/dev/null || BAIL_OUT "no jq (make deps installs it)"
AGG=$root/tests/bench/aggregate.jq

# run SERVER P50 P99 BINS: one run record of 4k random reads at depth 1
run() {
	printf '{"type":"run","phase":"main","server":"%s","target":"null","variant":"","queues":1,"depth":128,"workload":"randread-4k-qd1","rep":1,"iops":1000,"bw_bytes":4096000,"clat_p50_us":%s,"clat_p99_us":%s,"clat_bins":%s,"counters":{}}\n' "$@"
}
point() { # point SERVER FIELD: that field of the server's point, compact
	jq -s -f "$AGG" | jq -c --arg s "$1" ".points[] | select(.server == \$s) | $2"
}

# Two runs: 100 I/Os at 1 ms, 49 at 2 ms and one at 9 ms; then 90 at 2 ms
# and 10 at 3 ms.  Together 200 I/Os: the 100th is at 2 ms, the 198th at
# 3 ms.  Each run's own p99 (9 and 3 ms) has median 6 ms, which no I/O had.
two=$(run ublk-user 1000 9000 '{"1000000":50,"2000000":49,"9000000":1}'
	run ublk-user 2000 3000 '{"3000000":10,"2000000":90}')
is "$(point ublk-user .clat_p50_us <<<"$two")" 2000 "p50 over both runs' histograms"
is "$(point ublk-user .clat_p99_us <<<"$two")" 3000 "p99 over both runs' histograms, not the median of each run's"
is "$(point ublk-user .clat_p99_runs_us <<<"$two")" '{"median":6000,"min":3000,"max":9000}' \
	"each run's own p99 is kept as the spread"
# Bucket values compare as numbers: 10 ms is above 9 ms, though "10000000"
# sorts before "9000000" as text.
num=$(run ublk-user 0 0 '{"10000000":1,"9000000":99}')
is "$(point ublk-user .clat_p99_us <<<"$num")" 9000 "buckets in numeric order (99 of 100 at 9 ms)"
is "$(point ublk-user .clat_p50_us <<<"$num")" 9000 "p50 in numeric order"
# A run without a histogram (an older raw file): the median of the runs'
old=$(run ublk-user 300 1000 null
	run ublk-user 400 3000 '{"1":1}'
	run ublk-user 500 2000 null)
is "$(point ublk-user .clat_p99_us <<<"$old")" 2000 "without every run's histogram: the median of each run's p99"
is "$(point ublk-user .clat_p50_us <<<"$old")" 400 "and of each run's p50"

# The target: ublk-user's p50 and p99 against the best peer's, each
target() {
	jq -s -f "$AGG" | jq -c '.targets[] | select(.what | test("^ublk-user QD1 p50 and p99 latency <= the best")) | [.points, .met_points, .met]'
}
peer=$(run kublk 0 0 '{"2000000":98,"4000000":2}')
is "$(target <<<"$two$(printf '\n')$peer")" '[1,1,true]' \
	"ublk-user p50 2 ms and p99 3 ms against kublk's 2 and 4 ms: met"
worse=$(run ublk-user 0 0 '{"2000000":98,"5000000":2}')
is "$(target <<<"$worse$(printf '\n')$peer")" '[1,0,false]' \
	"ublk-user p99 5 ms against kublk's 4 ms: missed"

# The same for ublk-user with add --poll-us (the ublk-user-poll rows)
poll_target() {
	jq -s -f "$AGG" | jq -c '.targets[] | select(.what | test("^ublk-user --poll-us QD1 p50 and p99 latency")) | [.points, .met_points, .met]'
}
polled=$(sed 's/"server":"ublk-user"/"server":"ublk-user-poll"/' <<<"$two")
is "$(poll_target <<<"$worse$(printf '\n')$peer$(printf '\n')$polled")" '[1,1,true]' \
	"--poll-us: its own p50 2 ms and p99 3 ms against kublk's 2 and 4 ms: met"
is "$(target <<<"$worse$(printf '\n')$peer$(printf '\n')$polled")" '[1,0,false]' \
	"  while ublk-user without it still misses"
is "$(poll_target <<<"$two$(printf '\n')$peer$(printf '\n')$(sed 's/"server":"ublk-user"/"server":"ublk-user-poll"/' <<<"$worse")")" '[1,0,false]' \
	"--poll-us: p99 5 ms against kublk's 4 ms: missed"
is "$(poll_target <<<"$two$(printf '\n')$peer")" '[0,0,null]' \
	"--poll-us: not measured without ublk-user-poll rows"

# The same where the runs tell them apart: each run's own p50 and p99
# (the fields run() sets) as a range against each peer's.
spread() {
	jq -s -f "$AGG" | jq -c '.targets[] | select(.what | test("beyond the spread")) | [.points, .met_points, .met]'
}
bins=null # pooled percentiles: the median of the runs'
uu=$(run ublk-user 340 1600 "$bins"
	run ublk-user 330 2200 "$bins")
kb=$(run kublk 330 1400 "$bins"
	run kublk 335 1700 "$bins")
is "$(target <<<"$uu$(printf '\n')$kb")" '[1,0,false]' \
	"a higher p99 over all runs misses the strict target"
is "$(spread <<<"$uu$(printf '\n')$kb")" '[1,1,true]' \
	"but ublk-user's best run (p50 330, p99 1600) is within kublk's worst (335, 1700)"
far=$(run ublk-user 340 1800 "$bins"
	run ublk-user 338 2200 "$bins")
is "$(spread <<<"$far$(printf '\n')$kb")" '[1,0,false]' \
	"p50 338-340 against kublk's 330-335: apart, missed"
is "$(point ublk-user .clat_p50_runs_us <<<"$far")" '{"median":339,"min":338,"max":340}' \
	"each run's own p50 is kept as the spread"
slow99=$(run ublk-user 330 1800 "$bins"
	run ublk-user 330 1900 "$bins")
is "$(spread <<<"$slow99$(printf '\n')$kb")" '[1,0,false]' \
	"p99 1800-1900 against kublk's 1400-1700: apart, missed"
ub=$(run ublksrv 330 1750 "$bins")
is "$(spread <<<"$uu$(printf '\n')$kb$(printf '\n')$ub")" '[1,1,true]' \
	"within every peer's spread: met"
is "$(spread <<<"$far$(printf '\n')$kb$(printf '\n')$(run ublksrv 345 2000 "$bins")")" '[1,0,false]' \
	"apart from one peer (kublk) is enough to miss"

# The A/A control: only when the base is the revision measured
aa() {
	jq -s -f "$AGG" | jq -c '[.targets[] | select(.what | test("A/A control")) | [.points, .met_points, .met]]'
}
info() { printf '{"type":"info","source":"git %s","base":"git %s"}\n' "$@"; }
base=$(sed 's/"server":"kublk"/"server":"ublk-user-base"/' <<<"$kb")
is "$(aa <<<"$(info abc abc)$(printf '\n')$uu$(printf '\n')$kb$(printf '\n')$base")" '[[1,0,false]]' \
	"A/A: the same build as ublk-user-base, with a lower p99 here: missed"
is "$(aa <<<"$(info abc abc)$(printf '\n')$slow99$(printf '\n')$kb$(printf '\n')$(sed 's/"server":"ublk-user"/"server":"ublk-user-base"/' <<<"$slow99")")" '[[1,1,true]]' \
	"A/A: equal latency: met"
is "$(aa <<<"$(info abc def)$(printf '\n')$uu$(printf '\n')$kb$(printf '\n')$base")" '[]' \
	"no A/A line when the base is another revision"

done_testing
