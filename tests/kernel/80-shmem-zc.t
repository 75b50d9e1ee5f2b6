#!/bin/bash
# Shared-memory zero copy (UBLK_F_SHMEM_ZC): fio from a hugetlbfs or tmpfs
# file both sides map, the example client over the device's socket, and
# every kind of bad peer refused with nothing pinned and the server alive.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"
tools=$UBLK_USER_TEST_ROOT/build/tests
client=$UBLK_USER_TEST_ROOT/build/examples/shmem-client

at_exit run_as alice ublk-user del -a

# alice may use zero copy, up to 512M per device; bob may not.
mkdir -p /etc/ublk-user/policy.d
cat >/etc/ublk-user/policy.d/50-zc.conf <<'POLICY'
[user:alice]
shmem_zc = yes
max_shmem = 512M
POLICY
chmod 0644 /etc/ublk-user/policy.d/50-zc.conf

counter() { # counter DEV FIELD
	jget "$(run_as alice ublk-user list -n "$1" --json)" ".[0].$2"
}
# bufs_become DEV N: until DEV has N buffers registered (10 s at most)
bufs_become() {
	local i
	for ((i = 0; i < 50; i++)); do
		[[ $(counter "$1" shmem_bufs) == "$2" ]] && return 0
		sleep 0.2
	done
	return 1
}

uu bob add -t null --shmem-zc
is "$RUN_RC" 1 "bob may not use zero copy"
like "$RUN_ERR" "shmem_zc" "and the refusal names the rule"

# --- a kernel without it: refused before anything exists -----------------------
if lacks UBLK_F_SHMEM_ZC; then
	run_as alice truncate -s 1M /dev/shm/alice-buf
	for args in "-t null --shmem-zc" "-t mem --size 64M --shmem /dev/shm/alice-buf"; do
		# shellcheck disable=SC2086 # the words of args
		uu alice add $args
		is "$RUN_RC" 1 "add $args: refused"
		is "$RUN_ERR" "ublk-user: this kernel has no UBLK_F_SHMEM_ZC (Linux >= 7.1)" \
			"  naming the feature and the first Linux that has it"
		is "$(all_ublk_nodes)" "" "  no device was made"
		no_leftovers alice "  after the refusal"
	done
	uu alice doctor --json
	like "$(jget "$RUN_OUT" '.checks[] | select(.name == "features") | .message')" \
		' \(no SHMEM_ZC: Linux >= 7\.1\)$' "doctor names it missing, and the Linux that has it"
	skip "$LACKS"
	done_testing
	exit 0
fi

# --- fio from a hugetlbfs file both fio and the server map ---------------------
echo 16 >/proc/sys/vm/nr_hugepages
mkdir -p /mnt/huge
mount -t hugetlbfs -o uid=2001,gid=2001,mode=0700 none /mnt/huge
# One huge page: fio (iodepth x bs <= 2M) may grow the file, never shrink it.
run_as alice fallocate -l 2M /mnt/huge/buf

fio_zc() { # fio_zc NAME DEV MEM EXTRA...: verify; zero-copy count = I/Os
	local name=$1 dev=$2 mem=$3 zc0 cp0 zc1 cp1 ios out
	shift 3
	# One request per fio I/O: no merging (a merged request may span
	# pages that are not contiguous in the buffer, and then is copied),
	# and udev's probe of the new device done before counting.
	echo 2 >/sys/block/ublkb"$dev"/queue/nomerges
	udev_settle
	zc0=$(counter "$dev" zc_ios) cp0=$(counter "$dev" copied_ios)
	run run_as alice fio --name="$name" --filename="/dev/ublkb$dev" \
		--ioengine=io_uring --direct=1 --rw=randwrite --bs=4k \
		--size=8M --iodepth=8 --verify=crc32c --verify_fatal=1 \
		--do_verify=1 --mem="$mem" --output-format=json \
		--output=/tmp/"$name".json "$@"
	is "$RUN_RC" 0 "$name: fio writes and verifies with crc32c"
	out=$(</tmp/"$name".json)
	ios=$(($(jget "$out" .jobs[0].read.total_ios) + $(jget "$out" .jobs[0].write.total_ios)))
	zc1=$(counter "$dev" zc_ios) cp1=$(counter "$dev" copied_ios)
	ok "$name: fio did I/O ($ios)" test "$ios" -gt 0
	is "$((zc1 - zc0))" "$ios" "$name: every I/O was zero copy"
	is "$((cp1 - cp0))" 0 "$name: none was copied"
}

uu alice add -t mem --size 64M --shmem /mnt/huge/buf --json
is "$RUN_RC" 0 "mem device sharing a hugetlbfs file"
mem=$(jget "$RUN_OUT" .dev_id)
is "$(jget "$RUN_OUT" .shmem_bufs)" 1 "one buffer registered"
is "$(jget "$RUN_OUT" .shmem_bytes)" 2097152 "of 2M"
is "$(jget "$RUN_OUT" '.flags | index("UBLK_F_SHMEM_ZC") != null')" true "SHMEM_ZC set"
fio_zc mem-htlb "$mem" mmaphuge:/mnt/huge/buf

img=/home/alice/zc.img
run_as alice truncate -s 64M "$img"
uu alice add -t loop -f "$img" --shmem /mnt/huge/buf --json
loop=$(jget "$RUN_OUT" .dev_id)
fio_zc loop-htlb "$loop" mmaphuge:/mnt/huge/buf
fio_zc loop-htlb-64k "$loop" mmaphuge:/mnt/huge/buf --bs=64k --iodepth=4
uu alice del -n "$loop"

# Batched ublk commands (add --batch): the same, results in one COMMIT
if lacks UBLK_F_BATCH_IO; then
	skip "$LACKS" 4
else
	uu alice add -t loop -f "$img" --shmem /mnt/huge/buf --batch --json
	bloop=$(jget "$RUN_OUT" .dev_id)
	fio_zc loop-htlb-batch "$bloop" mmaphuge:/mnt/huge/buf
	uu alice del -n "$bloop"
fi

# --- the same with a tmpfs file ------------------------------------------------
run_as alice truncate -s 1M /dev/shm/alice-buf
uu alice add -t loop -f "$img" --shmem /dev/shm/alice-buf --json
is "$RUN_RC" 0 "loop device sharing a tmpfs file"
tloop=$(jget "$RUN_OUT" .dev_id)
fio_zc loop-tmpfs "$tloop" mmapshared:/dev/shm/alice-buf --iodepth=4
uu alice del -n "$tloop"

uu alice add -t loop -f "$img" --shmem /home/alice/zc.img
is "$RUN_RC" 1 "--shmem refuses a file that is not shared memory"
like "$RUN_ERR" "--shmem /home/alice/zc.img: not shared memory" "saying why"

# --- the example client over the socket ----------------------------------------
uu alice add -t mem --size 64M --shmem-zc --json
dev=$(jget "$RUN_OUT" .dev_id)
sock=$(jget "$RUN_OUT" .shmem_socket)
is "$sock" "/run/user/2001/ublk-user/dev-$dev.sock" "the socket is in alice's runtime dir"
is "$(stat -c '%U %a' "$sock")" "alice 700" "owned by alice, nobody else may connect"
spid=$(jget "$RUN_OUT" .server_pid)
zc0=$(counter "$dev" zc_ios) cp0=$(counter "$dev" copied_ios)
run run_as alice "$client" "$dev"
is "$RUN_RC" 0 "shmem-client writes and reads back through shared memory"
like "$RUN_OUT" "registered buffer [0-9]+.*ok.*unregistered" "register, I/O, unregister"
ok "the zero-copy counter grew" test "$(counter "$dev" zc_ios)" -gt "$zc0"
is "$(counter "$dev" copied_ios)" "$cp0" "nothing was copied"
is "$(counter "$dev" shmem_bufs)" 0 "the client's buffer is unregistered"

# A client that goes away loses its buffers.
run_as alice "$tools/shmem-peer" "$sock" hold 4 >/tmp/hold.out &
hold=$!
ok "a holding client's buffer is registered" bufs_become "$dev" 1
wait "$hold" || :
like "$(</tmp/hold.out)" "reply [0-9]+" "it got an index"
ok "when it disconnects its buffer is unregistered" bufs_become "$dev" 0

# --- what must be refused, with nothing pinned -----------------------------------
peer() { run run_as alice "$tools/shmem-peer" "$sock" "$@"; }
refused() { # refused ERRNO NAME MODE [ARG]
	local want=$1 name=$2
	shift 2
	peer "$@"
	like "$RUN_OUT" "reply -$want(\$|$'\n')" "$name: refused (-$want)"
}
run_as alice sh -c 'echo data > /home/alice/plain'
refused 1 "an unsealed memfd" unsealed
refused 22 "a pipe" pipe
refused 22 "a regular file" file /home/alice/plain
refused 9 "an O_PATH fd" opath /home/alice/plain
refused 1 "a /dev/shm file (no seals)" devshm
refused 22 "size 0" size0
refused 22 "an unaligned size" unaligned
refused 27 "over 4 GiB" over4g
refused 122 "over max_shmem (1G > 512M)" big 1073741824
refused 90 "200 fds in one message (truncated)" manyfds 200
refused 22 "two fds" twofds
refused 22 "no fd" nofd
refused 2 "unregistering a buffer that is not there" unregister 7
run "$tools/shmem-peer" "$sock" good 1048576
like "$RUN_OUT" "reply -1(\$|$'\n')" "root (another uid) is refused by SO_PEERCRED"
peer shrink
like "$RUN_OUT" $'reply [0-9]+\nshrink EPERM' "a registered memfd cannot be shrunk (sealed)"
peer readonly
like "$RUN_OUT" "reply [0-9]+" "a write-sealed memfd is accepted, read-only"
like "$(<"/run/user/2001/ublk-user/dev-$dev.log")" "read-only" "and registered read-only"
ok "the server survived all of it" kill -0 "$spid"
is "$(counter "$dev" shmem_bufs)" 0 "nothing stays registered"
is "$(counter "$dev" shmem_bytes)" 0 "no byte stays pinned"
run run_as alice "$client" "$dev"
is "$RUN_RC" 0 "the device still works for a good client"

uu alice del -a
umount /mnt/huge
no_leftovers alice "at the end"
done_testing
