#!/bin/bash
# SPDX-License-Identifier: MIT
# ublk-user(1) and the commands' --help agree: every long option a
# command's --help lists is in the man page, and where --help shows a
# value ("--nbd-timeout SECONDS") the man page names it the same way
# wherever it shows one.  Run by prove from the top of the tree.
set -u
source "$(dirname "$0")/../lib/tap.sh"

BUILD=${BUILD:-build}
CLI=${UBLK_USER_BIN:-$BUILD/ublk-user}
MAN=man/ublk-user.1
[[ -x $CLI && -r $MAN ]] || BAIL_OUT "no $CLI or $MAN: run make first"

# The commands `ublk-user help` lists, and what each --help shows
commands=$("$CLI" help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p')
like "$(tr '\n' ' ' <<<"$commands")" '^add .*version $' "ublk-user help lists the commands"
help_opts=$(for c in $commands; do "$CLI" "$c" --help 2>&1; done |
	grep -oE -- '^ +(-[a-zA-Z], )?--[a-z][a-z-]*( [A-Z][A-Z_]*)?' |
	grep -oE -- '--[a-z][a-z-]*( [A-Z][A-Z_]*)?' | sort -u)
like "$help_opts" '--nbd-timeout SECONDS' "the helps show options with their values"

# The man page as plain words: no fonts, no macros, no section titles,
# one line (a synopsis puts an option and its value on two lines)
text=$(sed -e '/^\.S[HS] /d' -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' \
	-e 's/^\.[A-Z][A-Z]*//' -e 's/["()[]//g' -e 's/]//g' "$MAN" |
	tr '\n' ' ' | tr -s ' ')
# Every "--option VALUE" the man page shows: a value is a word in capitals
# of two letters or more, or N
man_vals=$(grep -oE -- '--[a-z][a-z-]* ([A-Z][A-Z_]+|N)\b' <<<"$text" | sort -u)

# others OPT VAL: the values other than VAL the man page gives OPT
others() {
	grep -E -- "^$1 " <<<"$man_vals" | grep -vxF -- "$1 $2" |
		tr '\n' ',' | sed 's/,$//'
}

while read -r opt val; do
	[[ -n $opt ]] || continue
	ok "$opt is in $MAN" grep -qF -- " $opt" <<<"$text"
	[[ -n $val ]] || continue
	is "$(others "$opt" "$val")" "" "$opt $val: the man page names its value $val too"
done <<<"$help_opts"

# And the check sees a value named otherwise (as --help had it before)
is "$(others --nbd-timeout S)" "--nbd-timeout SECONDS" \
	"a --help that said --nbd-timeout S would be caught"
done_testing
