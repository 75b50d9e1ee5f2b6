#!/bin/bash
# SPDX-License-Identifier: MIT
# The layers of src/ (HACKING.md): a file may include headers of its own
# layer and of the layers below it, nothing else.  Programs (cli, udev, oci)
# sit on top; the root udev helper's layers stay free of server code.
# Run by prove from the top of the tree.
set -u
source "$(dirname "$0")/../lib/tap.sh"

# layer -> the layers it may include (besides itself)
declare -A may=(
	[uapi]=''
	[base]=''
	[kernel]='base uapi'
	[policy]='base uapi server/targets/names.h'
	[disks]='base uapi server/targets/names.h'
	[host]='base'
	[nbd]='base'
	[server]='base kernel host nbd uapi'
	[containers]='base host'
	[client]=''
	[udev]='base kernel policy host uapi'
	[oci]='base host containers'
	[cli]='base kernel policy host server nbd containers disks uapi'
)

for dir in src/*/; do
	layer=${dir#src/}
	layer=${layer%/}
	if [[ -z ${may[$layer]+set} ]]; then
		fail "src/$layer is a known layer (add it to this test and HACKING.md)"
		continue
	fi
	bad=
	while IFS=: read -r file inc; do
		inc=${inc#*\"}
		inc=${inc%\"*}
		[[ $inc == */* ]] || continue # a header beside the file
		top=${inc%%/*}
		[[ $top == "$layer" ]] && continue
		ok_inc=0
		for allowed in ${may[$layer]}; do
			[[ $top == "$allowed" || $inc == "$allowed" ]] && ok_inc=1
		done
		((ok_inc)) || bad+="$file includes $inc; "
	done < <(grep -rH '^#include "' "src/$layer")
	is "$bad" "" "src/$layer includes only its own headers and: ${may[$layer]:-none}"
done

done_testing
