#!/bin/bash
# SPDX-License-Identifier: MIT
# README's "Tested kernels" table, between runs of tests/vm/matrix (which
# checks its rows against a real run): a row for each series the matrix
# runs, and every missing feature it names is a reason the kernel tests
# give (tests/lib/ublk.sh), with the first Linux that has it.
# Run by prove from the top of the tree.
set -u
source "$(dirname "$0")/../lib/tap.sh"

begin=$(sed -n "s/^BEGIN_MARK='\(.*\)'$/\1/p" tests/vm/matrix)
end=$(sed -n "s/^END_MARK='\(.*\)'$/\1/p" tests/vm/matrix)
rows=$(awk -v b="$begin" -v e="$end" '
	$0 == b { on = 1; next }
	$0 == e { on = 0 }
	on && /^\| / && !/^\|---/ && !/^\| Kernel \|/' README.md)
isnt "$begin" "" "tests/vm/matrix names the table's markers"
ok "README.md has the table" grep -qxF "$begin" README.md

# The reasons the kernel tests skip with (LACKS=... in tests/lib/ublk.sh).
mapfile -t reasons < <(sed -n 's/^[[:space:]]*LACKS="\(.*\)"$/\1/p' tests/lib/ublk.sh)
ok "tests/lib/ublk.sh gives reasons" test "${#reasons[@]}" -gt 0
for r in "${reasons[@]}"; do
	like "$r" '^this kernel has no .+ \(Linux >= [0-9]+\.[0-9]+\): .+' \
		"a reason names the feature, the first Linux with it, what it means: $r"
done

for s in $(sed -n 's/^DEFAULT_SERIES=(\(.*\))$/\1/p' tests/vm/matrix); do
	label=$(bash -c "$(sed -n '/^label() {/,/^}/p' tests/vm/matrix); label $s")
	row=$(grep -F "| $label |" <<<"$rows")
	isnt "$row" "" "README has a row for $s ($label)"
	IFS='|' read -r _ _ version works lacks _ <<<"$row"
	like "$version" "^ ${s//./\\.}\\.[0-9]+" "  tested with a $s kernel: $version"
	lacks=${lacks# }
	lacks=${lacks% }
	if [[ $lacks == "—" ]]; then
		is "${works# }" "everything tests/kernel checks " "  everything works"
		continue
	fi
	is "${works# }" "everything else tests/kernel checks " "  everything else works"
	IFS=$'\n' read -r -d '' -a named <<<"${lacks//<br>/$'\n'}" || :
	for n in "${named[@]}"; do
		known=0
		for r in "${reasons[@]}"; do [[ $n == "$r" ]] && known=1; done
		is "$known" 1 "  lacks a feature the tests know: $n"
	done
done
done_testing
