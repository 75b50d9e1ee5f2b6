#!/bin/bash
# SPDX-License-Identifier: MIT
# What the OCI hook hands ublk-user on stdin (add --container, gc --key),
# without a kernel: a record key or backing file is never taken from the
# command line, and bad input is refused with a message that says what
# is wrong, before any device is made; and gc's --timeout (its bound on
# each disk's removal, 45 s by default).  Run by prove with UBLK_USER_BIN.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd -P)
source "$root/tests/lib/tap.sh"

BIN=${UBLK_USER_BIN:-build/ublk-user}
[[ $BIN == /* ]] || BIN=$root/$BIN
[[ -x $BIN ]] || BAIL_OUT "no binary at $BIN (set UBLK_USER_BIN)"
tmp=$(mktemp -d)
at_exit rm -rf "$tmp"
export XDG_RUNTIME_DIR=$tmp
key=0123456789abcdef0123456789abcdef
uuid=6f1c2e3a-1b2c-4d5e-8f90-0123456789ab

note "the command line"
run "$BIN" add --container "$key" -t mem -s 16M
is "$RUN_RC" 2 "add --container KEY: a key on the command line is a usage error"
run "$BIN" add --container -t loop -f "$tmp/x.img" <<<"{\"uuid\":\"$uuid\"}"
is "$RUN_RC" 2 "add --container -f: a usage error"
like "$RUN_ERR" "with --container the backing file or URI comes on stdin, not -f or --uri" "and says so"
run "$BIN" add --container -t nbd --uri nbd://localhost/x <<<"{\"uuid\":\"$uuid\"}"
is "$RUN_RC" 2 "add --container --uri: a usage error"
run "$BIN" gc --key "$key"
is "$RUN_RC" 2 "gc --key KEY: a key on the command line is a usage error"
run "$BIN" gc --container ''
is "$RUN_RC" 2 "gc --container '': a usage error"
like "$RUN_ERR" "--container: an empty id" "and says so"
run "$BIN" gc --timeout 0
is "$RUN_RC" 2 "gc --timeout 0: a usage error"
like "$RUN_ERR" "--timeout: 0 is out of range \\(1\\.\\.3600\\)" "and says what is allowed"
run "$BIN" gc --timeout 3601
is "$RUN_RC" 2 "gc --timeout 3601: a usage error"
run "$BIN" gc --timeout 1m
like "$RUN_ERR" "--timeout: '1m' is not a number" "gc --timeout 1m: not a number"
run "$BIN" gc --timeout 5
is "$RUN_RC" 0 "gc --timeout 5 with no container records: nothing to do"
like "$("$BIN" gc --help)" "default 45\\)" "gc's bound is 45 s unless --timeout says otherwise"

note "add --container: stdin"
add_in() { # INPUT: add --container with INPUT on stdin
	run "$BIN" add --container -t mem -s 16M <<<"$1"
}
bad_add() { # INPUT MESSAGE
	add_in "$1"
	is "$RUN_RC" 1 "add --container, stdin '$1': refused"
	like "$RUN_ERR" "^ublk-user: --container: stdin.*$2" "and says why"
	is "$(ls -A "$tmp")" "" "and makes nothing"
}
bad_add '' "is not valid JSON"
bad_add 'uuid' "is not valid JSON"
bad_add '[]' 'not a JSON object'
bad_add '{}' 'uuid is missing'
bad_add '{"uuid":7}' 'uuid is not a string'
bad_add '{"uuid":"not-a-uuid"}' 'uuid "not-a-uuid" is not a uuid'
bad_add "{\"uuid\":\"${uuid^^}\"}" "is not a uuid"
bad_add '{"uuid":"00000000-0000-0000-0000-000000000000"}' "is not a uuid"
bad_add "{\"uuid\":\"$uuid\",\"file\":\"\"}" 'file is empty'
bad_add "{\"uuid\":\"$uuid\",\"file\":\"x.img\"}" 'file is not an absolute path'
bad_add "{\"uuid\":\"$uuid\",\"file\":\"/a\\u0000b\"}" 'file holds a NUL character'
bad_add "{\"uuid\":\"$uuid\",\"uri\":\"\"}" 'uri is empty'
bad_add "{\"uuid\":\"$uuid\",\"uri\":3}" 'uri is not a string'
bad_add "{\"uuid\":\"$uuid\",\"file\":\"/x\",\"uri\":\"nbd://h/e\"}" 'a disk has a file or a uri, not both'
bad_add "$(printf '{"uuid":"%s","uri":"nbd://h/%*s"}' "$uuid" 600 x)" 'uri is longer than'
bad_add "{\"uuid\":\"$uuid\"} {}" "has data after its JSON value"
bad_add "$(printf '{"uuid":"%s","file":"/%*s"}' "$uuid" 6000 x)" "more than [0-9]+ bytes"
# A good request gets past stdin: what fails next is not about it.
add_in "{\"uuid\":\"$uuid\"}"
unlike "$RUN_ERR" "stdin" "add --container with a good request reads it"
: >"$tmp/x.img"
run "$BIN" add --container -t loop <<<"{\"uuid\":\"$uuid\",\"file\":\"$tmp/nothere.img\"}"
like "$RUN_ERR" "$tmp/nothere.img" "the backing file comes from stdin"
run "$BIN" add --container -t nbd <<<"{\"uuid\":\"$uuid\",\"uri\":\"nbd+unix:///e?socket=$tmp/no.sock\"}"
like "$RUN_ERR" "$tmp/no.sock" "the NBD URI comes from stdin"
rm -rf "${tmp:?}"/*

note "gc --key: stdin"
bad_key() { # INPUT MESSAGE
	run "$BIN" gc --key <<<"$1"
	is "$RUN_RC" 1 "gc --key, stdin '$1': refused"
	is "$RUN_ERR" "ublk-user: --key: stdin: $2" "and says why"
}
bad_key "" "not a container record key"
bad_key "${key:0:31}" "not a container record key"
bad_key "${key}0" "more than 33 bytes"
bad_key "${key^^}" "not a container record key"
bad_key "$key $key" "more than 33 bytes"
done_testing
