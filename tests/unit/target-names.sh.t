#!/bin/bash
# SPDX-License-Identifier: MIT
# The target names come from one list, src/server/targets/names.h.  What
# users read must name the same targets in the same order: `add --help`,
# the policy's message for an unknown target, the default policy's
# comment, ublk-user(1) (synopsis and -t) and ublk-user.policy(5).
# Run by prove from the top of the tree, with UBLK_USER_BIN.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd -P)
source "$root/tests/lib/tap.sh"

BIN=${UBLK_USER_BIN:-build/ublk-user}
[[ $BIN == /* ]] || BIN=$root/$BIN
[[ -x $BIN ]] || BAIL_OUT "no binary at $BIN (set UBLK_USER_BIN)"
tmp=$(mktemp -d)
at_exit rm -rf "$tmp"
export XDG_RUNTIME_DIR=$tmp

# names.h: #define UBLK_USER_TARGETS(X) X(null) X(loop) X(mem)
want=$(sed -n 's/^#define UBLK_USER_TARGETS(X) *//p' \
	"$root/src/server/targets/names.h" | grep -oE 'X\([a-z0-9_]+\)' |
	sed 's/^X(\(.*\))$/\1/' | xargs)
[[ -n $want ]] || BAIL_OUT "no UBLK_USER_TARGETS list in names.h"
note "names.h: $want"

# Words of a "a, b, c" or "a | b | c" or "a, b or c" list
words() { tr ',|' '  ' <<<"$1" | sed 's/ or / /g' | xargs; }

run "$BIN" add --help
got=$(sed -n '/^Targets:$/,/^$/{/^  [a-z0-9_]/s/^  \([a-z0-9_]*\).*/\1/p}' \
	<<<"$RUN_OUT" | xargs)
is "$got" "$want" "add --help lists the targets of names.h"

run "$BIN" add
like "$RUN_ERR" "a target is required \\(-t $(sed 's/ /, /g' <<<"$want")\\)" \
	"add without -t names them"

printf '[default]\ntargets = bogus\n' >"$tmp/bogus.conf"
run "$BIN" policy check "$tmp/bogus.conf"
got=$(sed -n "s/.*unknown target 'bogus' (known: \\(.*\\))\$/\\1/p" \
	<<<"$RUN_ERR")
is "$(words "$got")" "$want" "the policy knows the targets of names.h"

got=$(sed -n 's/^# Targets, "any" or a list: \(.*\)\.$/\1/p' \
	"$root/policy/policy.conf")
is "$(words "$got")" "$want" "the default policy's comment lists them"

man1=$root/man/ublk-user.1
# .B ublk-user add / .B \-t / .IR null | loop | mem
got=$(sed -n '/^\.B ublk-user add$/,/^\.IR /{s/^\.IR //p}' "$man1")
is "$(words "$got")" "$want" "ublk-user(1) synopsis of add"
# -t's paragraph: one .B NAME per target, up to the next option
got=$(sed -n '/^\.BI \\-t ", \\-\\-target " TARGET$/,/^\.TP$/{s/^\.B \([a-z0-9_]*\)$/\1/p}' \
	"$man1" | xargs)
is "$got" "$want" "ublk-user(1) describes each target under -t"

got=$(sed -n 's/^The targets the user may serve: \(.*\)\.$/\1/p' \
	"$root/man/ublk-user.policy.5")
is "$(words "$got")" "$want" "ublk-user.policy(5) lists them for targets"

done_testing
