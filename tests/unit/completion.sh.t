#!/bin/bash
# SPDX-License-Identifier: MIT
# bash completion (completion/ublk-user.bash.in, as make builds it):
# commands, options and targets as ublk-user's own help gives them, disk
# files for up, file names where a command wants a file, nothing where
# only the user knows the value.  Device ids and named disks that are up
# need a kernel: tests/kernel/11-disks.t completes those.  Run by prove
# from the top of the tree.
set -u
source "$(dirname "$0")/../lib/tap.sh"

BUILD=${BUILD:-build}
CLI=${UBLK_USER_BIN:-$BUILD/ublk-user}
SCRIPT=$BUILD/ublk-user.bash-completion
[[ -x $CLI && -r $SCRIPT ]] || BAIL_OUT "no $CLI or $SCRIPT: run make first"

work=$(mktemp -d)
at_exit rm -rf "$work"
mkdir "$work/bin"
ln -s "$(realpath "$CLI")" "$work/bin/ublk-user"
PATH=$work/bin:$PATH
# (no /dev/ublk-control here: list and status find nothing)
# shellcheck source=/dev/null
source "$SCRIPT"
is "$(complete -p ublk-user)" "complete -F _ublk_user ublk-user" \
	"sourcing it registers the completion of ublk-user"

# completes LINE: what the completion offers for the last word of LINE
# (a trailing space: a new, empty word), sorted, one line
completes() {
	local line=$1
	read -ra COMP_WORDS <<<"$line"
	[[ $line == *' ' ]] && COMP_WORDS+=('')
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_ublk_user
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# The commands `ublk-user help` lists (its table in src/cli/commands.c)
commands=$(ublk-user help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' |
	sort | tr '\n' ' ' | sed 's/ $//')
like "$commands" '^add del doctor down features gc help list policy resize snapshot status up version$' \
	"ublk-user help lists the commands"
is "$(completes 'ublk-user ')" "--help $commands" "the first word: every command"
is "$(completes 'ublk-user re')" "resize" "  and a prefix of one"
is "$(completes 'ublk-user help ')" "$commands" "help: the commands"

# Every long option add --help documents, and no other word
opts=$(ublk-user add --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' |
	grep -oE -- '--[a-z-]+' | sort -u | tr '\n' ' ' | sed 's/ $//')
like "$opts" '--batch .*--target ' "add --help documents --batch and --target"
is "$(completes 'ublk-user add --')" "$opts" "add --: every long option of add"
is "$(completes 'ublk-user add -t null --sh')" "--shmem --shmem-zc" \
	"  after other options too"
is "$(completes 'ublk-user policy show --')" "--help --json --user" \
	"policy show --: its own options"
is "$(completes 'ublk-user policy ')" "check show" "policy: its two commands"

# Every option that takes a value (its help shows one: "--size SIZE") is
# one the completion knows takes the next word
missing=
for cmd in $commands "policy show"; do
	# shellcheck disable=SC2086 # "policy show": two words
	for o in $(ublk-user $cmd --help | sed -n \
		's/^  \(-[a-zA-Z], \|    \)\(--[a-z][a-z-]*\) [A-Z].*/\2/p'); do
		_ublk_user_takes_value "${cmd%% *}" "$o" || missing+=" $cmd:$o"
	done
done
is "$missing" "" "every option with a value is one the completion knows takes one"
# and one whose help shows none ("--container  a per-container disk")
# does not take the next word
extra=
for cmd in $commands "policy show"; do
	# shellcheck disable=SC2086 # "policy show": two words
	for o in $(ublk-user $cmd --help | sed -n \
		's/^  \(-[a-zA-Z], \|    \)\(--[a-z][a-z-]*\)\(  .*\)\{0,1\}$/\2/p'); do
		! _ublk_user_takes_value "${cmd%% *}" "$o" || extra+=" $cmd:$o"
	done
done
is "$extra" "" "no option without a value is taken to have one"
is "$(completes 'ublk-user add --container -')" "$(completes 'ublk-user add -')" \
	"add --container -: add's options (--container is a flag there)"

is "$(completes 'ublk-user add -t ')" "loop mem nbd null" "add -t: the targets"
is "$(completes 'ublk-user add --target n')" "nbd null" "  --target n: two of them"
# bash splits "--target=l" into "--target" "=" "l" (COMP_WORDBREAKS)
is "$(completes 'ublk-user add --target = l')" "loop" "add --target=l: loop"
is "$(completes 'ublk-user add -s ')" "" "add -s: nothing (a size)"
is "$(completes 'ublk-user add -t nbd -U ')" "" "add -U: nothing (a URI)"
is "$(completes 'ublk-user add -n ')" "" "add -n: nothing (a free id)"

# Files where a command wants a file
touch "$work/disk.img" "$work/disk.raw" "$work/other"
is "$(completes "ublk-user add -t loop -f $work/disk.")" \
	"$work/disk.img $work/disk.raw" "add -f: file names"
is "$(completes "ublk-user add -t loop -f $work/disk.img --clone-of $work/o")" \
	"$work/other" "add --clone-of: file names"
is "$(completes "ublk-user snapshot data $work/d")" \
	"$work/disk.img $work/disk.raw" "snapshot NAME: then a file name"
is "$(completes "ublk-user snapshot -n 3 $work/d")" \
	"$work/disk.img $work/disk.raw" "snapshot -n ID: then a file name"
is "$(completes "ublk-user snapshot -n = 3 $work/d")" \
	"$work/disk.img $work/disk.raw" "snapshot -n=ID: then a file name"
is "$(completes "ublk-user resize -n 3 ")" "" "resize -n ID: nothing (a size)"
is "$(completes "ublk-user policy check $work/o")" "$work/other" \
	"policy check: file names"

# Disk files for up: NAME.disk in the user's folder, or root's with --system
mkdir -p "$work/config/ublk-user/disks" "$work/etc"
touch "$work/config/ublk-user/disks/"{data,scratch}.disk \
	"$work/config/ublk-user/disks/notes.txt" "$work/etc/sysdata.disk"
mkdir "$work/config/ublk-user/disks/dir.disk"
export XDG_CONFIG_HOME=$work/config
is "$(completes 'ublk-user up ')" "data scratch" \
	"up: the user's disk files (regular *.disk files only)"
is "$(completes 'ublk-user up s')" "scratch" "  and a prefix of one"
unset XDG_CONFIG_HOME
HOME=$work/home
mkdir -p "$HOME/.config/ublk-user/disks"
touch "$HOME/.config/ublk-user/disks/home.disk"
is "$(completes 'ublk-user up ')" "home" "  without XDG_CONFIG_HOME: ~/.config"
_ublk_user_system_disks=$work/etc
is "$(completes 'ublk-user up --system ')" "sysdata" "up --system: root's disk files"
is "$(completes 'ublk-user up data ')" "" "up NAME: nothing more"
like "$(sed -n 's/^_ublk_user_system_disks=//p' "$SCRIPT")" '^/.*/ublk-user/disks$' \
	"the built script names the administrator's folder"

done_testing
