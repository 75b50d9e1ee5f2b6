#!/bin/bash
# SPDX-License-Identifier: MIT
# build/tests/jget, and tests/lib/ublk.sh's jget() that calls it before
# jq: for every path, what jq -r prints, exactly; a path or value jget
# does not take (exit 3) is left to jq, without a byte printed.  Run by
# prove from the top of the tree (make check-unit).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd -P)
source "$root/tests/lib/tap.sh"

build=${BUILD:-build}
[[ $build == /* ]] || build=$root/$build
JG=$build/tests/jget
[[ -x $JG ]] || BAIL_OUT "no $JG: make check-unit builds it"
command -v jq >/dev/null || BAIL_OUT "no jq (make deps installs it)"

doc='{"dev_id": 3, "server_pid": 1234, "state": "live", "neg": -7,
 "s": "two\nlines \"quoted\" \u00e9", "t": true, "f": false, "n": null,
 "big": 9007199254740993, "frac": 2.5, "obj": {"a": {"b": [10, "x", null]}},
 "list": [{"state": "dead"}, {"state": "live", "id": 0}], "_u": 1}'

# Paths jget answers itself: the same bytes as jq -r, and exit 0
for path in .dev_id .server_pid .state .neg .s .t .f .n .missing \
	.obj.a.b[0] .obj.a.b[1] .obj.a.b[2] .obj.a.b[7] .obj.zz.b[0] \
	.list[1].state .list[0].id .list[1].id .n.x._u ._u; do
	want=$(jq -r "$path" <<<"$doc"; echo "rc=$?")
	got=$("$JG" "$path" <<<"$doc"; echo "rc=$?")
	is "$got" "$want" "jget $path prints what jq -r prints"
done
is "$("$JG" '.[1].state' <<<'[{"state":"a"},{"state":"b"}]')" b ".[1].state on an array"

# What it leaves to jq: exit 3 and no output
for path in .big .frac .obj .obj.a.b .list '.list[0]' '.obj.a.b.[0]' \
	'.[0]' '.dev_id.x' '.s[0]' 'length' '.a | .b' '.a,.b' '[0]' \
	'.a-b' '.a.b[x]' '.' ''; do
	out=$("$JG" "$path" <<<"$doc" 2>&1)
	is "$?:$out" "3:" "jget '$path' leaves it to jq"
done
for input in '' 'null' '{"a": 1} {"a": 2}' '{"a": ' '{"a": 1} x' '[1, 2'; do
	out=$("$JG" .a <<<"$input" 2>&1)
	is "$?:$out" "3:" "jget leaves the input '$input' to jq"
done

# The library's jget(): jq's answer for every filter the tests use
UBLK_USER_TEST_ROOT=$root
BUILD_JGET=$JG
source "$root/tests/lib/ublk.sh"
JGET=$BUILD_JGET
for filter in .dev_id .s .list[1].state .big .frac .obj.a.b '.list | length' \
	'[.list[].state] | join(",")' '.obj.a.b[0]' '.nope.deeper[3]'; do
	want=$(jq -r "$filter" <<<"$doc"; echo "rc=$?")
	got=$(jget "$doc" "$filter"; echo "rc=$?")
	is "$got" "$want" "ublk.sh jget '$filter' = jq -r"
done
want=$(jq -r '.dev_id.x' <<<"$doc" 2>/dev/null; echo "rc=$?")
got=$(jget "$doc" '.dev_id.x' 2>/dev/null; echo "rc=$?")
is "$got" "$want" "ublk.sh jget: jq's error and status where jget leaves it"
done_testing
