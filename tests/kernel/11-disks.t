#!/bin/bash
# Named disks from disk files: up, status, down, the stable path, unique
# names per user, a crashed disk brought up again under the same name with
# its data, bad disk files refused with FILE:LINE and nothing left.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"
source "$UBLK_USER_TEST_ROOT/tests/lib/ublk.sh"

at_exit run_as alice ublk-user del -a
at_exit run_as bob ublk-user del -a
at_exit rm -rf /home/alice/.config/ublk-user /home/bob/.config/ublk-user \
	/home/alice/named.img

# put USER NAME TEXT: USER's disk file NAME.disk
put() {
	local dir=/home/$1/.config/ublk-user/disks
	run_as "$1" mkdir -p "$dir"
	printf '%s' "$3" | run_as "$1" tee "$dir/$2.disk" >/dev/null
}

img=/home/alice/named.img
run_as alice truncate -s 64M "$img"
put alice data "# alice's data disk
target = loop
file = $img
queues = 1
depth = 64
"
link=/run/user/2001/ublk-user/disks/data

uu alice up data --json
is "$RUN_RC" 0 "up data exits 0"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
id=$(jget "$RUN_OUT" .dev_id)
is "$(jget "$RUN_OUT" .name)" data "the device has the disk's name"
is "$(jget "$RUN_OUT" .link)" "$link" "and its stable path"
is "$(jget "$RUN_OUT" .backing)" "$img" "backed by the file of the disk file"
is "$(jget "$RUN_OUT" .queue_depth)" 64 "with the disk file's depth"
is "$(readlink "$link")" "/dev/ublkb$id" "the stable path points at the node"
is "$(stat -c %U "$link")" alice "the stable path is alice's"

marker=$(head -c 3072 /dev/urandom | base64 -w0) # 4096 characters
printf '%s' "$marker" >/tmp/marker
chmod 0644 /tmp/marker
at_exit rm -f /tmp/marker
ok "a marker written through the stable path, synced" run_as alice dd \
	if=/tmp/marker of="$link" bs=4096 count=1 oflag=direct,dsync status=none

uu alice status data --json
is "$RUN_RC" 0 "status data exits 0"
is "$(jget "$RUN_OUT" .state)" live "status: live"
is "$(jget "$RUN_OUT" .block)" "/dev/ublkb$id" "status: the node now"
is "$(jget "$RUN_OUT" .link)" "$link" "status: the stable path"
uu alice status
like "$RUN_OUT" "^data +live +/dev/ublkb$id +$link" "status lists the disk"

# bash completion (installed; tests/unit/completion.sh.t has the rest):
# what alice's disks and devices are now
complete_as() { # USER LINE: what completing the word after LINE offers
	run_as "$1" bash -c 'source /usr/share/bash-completion/completions/ublk-user
		read -ra COMP_WORDS <<<"$1"; COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _ublk_user
		echo "${COMPREPLY[*]}"' _ "$2"
}
is "$(complete_as alice 'ublk-user down')" data "completion: down offers the disk that is up"
is "$(complete_as alice 'ublk-user up')" data "completion: up offers the disk file"
like " $(complete_as alice 'ublk-user del -n') " " $id " "completion: del -n offers its id"
is "$(complete_as bob 'ublk-user status')" "" "completion: bob is offered none of alice's disks"
uu alice status nothing --json
is "$RUN_RC" 3 "status of a disk that is not up exits 3"
is "$(jget "$RUN_OUT" .state)" down "and says down"

uu alice up data
is "$RUN_RC" 1 "a second up of the same name is refused"
like "$RUN_ERR" "disk data is already up as /dev/ublkb$id" "saying where"
uu alice add -t null --size 16M --name data
is "$RUN_RC" 1 "add --name of a name that is up is refused"
uu alice add -t null --size 16M --name a/b
is "$RUN_RC" 2 "add --name with a slash is a usage error"

# bob's disk of the same name is his own
put bob data "target = null
size = 16M
"
uu bob up data --json
is "$RUN_RC" 0 "bob brings up a disk named data too"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
bob_id=$(jget "$RUN_OUT" .dev_id)
isnt "$bob_id" "$id" "on another device"
is "$(readlink /run/user/2002/ublk-user/disks/data)" "/dev/ublkb$bob_id" \
	"bob's stable path is his"
is "$(readlink "$link")" "/dev/ublkb$id" "alice's still points at hers"
uu bob down data
is "$RUN_RC" 0 "bob: down data"
is "$(readlink "$link")" "/dev/ublkb$id" "alice's disk is untouched"

# A crash: the server dies, up brings the disk back under the same name
pid=$(jget "$(run_as alice ublk-user status data --json)" .server_pid)
ok "kill -9 alice's server" kill -KILL "$pid"
for _ in $(seq 50); do
	[[ $(jget "$(run_as alice ublk-user status data --json)" .state) == dead ]] && break
	sleep 0.1
done
uu alice status data --json
is "$(jget "$RUN_OUT" .state)" dead "status shows the dead disk"
t0=$(date +%s%N)
uu alice up data --json
t1=$(date +%s%N)
is "$RUN_RC" 0 "up after the crash exits 0"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
id2=$(jget "$RUN_OUT" .dev_id)
note "crash to usable again (up, the dead device removed first): $(((t1 - t0) / 1000000)) ms"
is "$(readlink "$link")" "/dev/ublkb$id2" "the stable path follows the new device"
got=$(run_as alice dd if="$link" bs=4096 count=1 iflag=direct status=none)
is "$got" "$marker" "the synced marker is intact"
ok "the dead device is gone" test ! -e "/dev/ublkc$id" -o "$id" = "$id2"

uu alice down data
is "$RUN_RC" 0 "down data exits 0"
[[ $RUN_RC == 0 ]] || diag "$RUN_ERR"
nok "the stable path is gone" test -e "$link" -o -L "$link"
uu alice status data
is "$RUN_RC" 3 "status: down"
uu alice down data
is "$RUN_RC" 1 "down of a disk that is not up fails"
like "$RUN_ERR" "no disk named data is up" "saying so"

# In the foreground (what the units run): up stays with the server, says
# when the disk is up, stops it on a signal (exit 0), and exits 1 when the
# disk dies, leaving nothing.
# fg_up LOG: up data --foreground in the background: FG is the job (wait
# gives up's exit status), UP the pid of up itself
fg_up() {
	run_as alice ublk-user up data --foreground >"$1" 2>&1 &
	FG=$!
	for _ in $(seq 100); do
		if grep -q 'disk data is up' "$1"; then
			UP=$(pgrep -u alice -f '^ublk-user up data --foreground')
			return 0
		fi
		kill -0 "$FG" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
fglog=/tmp/fg.log
at_exit rm -f "$fglog"
ok "up --foreground: the disk is up" fg_up "$fglog"
like "$(<"$fglog")" "ublk-user: disk data is up: /dev/ublkb[0-9]+ \\($link\\)" \
	"it says so, with node and stable path"
is "$(jget "$(run_as alice ublk-user status data --json)" .server_pid)" \
	"$(pgrep -P "$UP")" "its server is its child"
ok "a marker written through the stable path" run_as alice dd \
	if=/tmp/marker of="$link" bs=4096 count=1 oflag=direct,dsync status=none
kill -INT "$UP"
rc=0 && wait "$FG" || rc=$?
is "$rc" 0 "^C: the server stops, up exits 0"
like "$(<"$fglog")" "disk data is down" "saying the disk is down"
no_leftovers alice "after up --foreground and ^C"
ok "up --foreground again" fg_up "$fglog"
is "$(run_as alice dd if="$link" bs=4096 count=1 iflag=direct status=none)" \
	"$marker" "the marker is there"
uu alice down data
rc=0 && wait "$FG" || rc=$?
is "$rc" 1 "the disk deleted under it (down): up exits 1"
like "$(<"$fglog")" "disk data: its server \\(pid [0-9]+\\) exited with status 1; /dev/ublkb[0-9]+ is gone" \
	"saying so"
ok "up --foreground once more" fg_up "$fglog"
kill -KILL "$(jget "$(run_as alice ublk-user status data --json)" .server_pid)"
rc=0 && wait "$FG" || rc=$?
is "$rc" 1 "its server killed: up exits 1"
like "$(<"$fglog")" "its server \\(pid [0-9]+\\) was killed by signal 9" "saying so"
no_leftovers alice "after the server of up --foreground was killed"

# Bad disk files: refused, naming file and line, nothing left behind
dir=/home/alice/.config/ublk-user/disks
bad() { # bad NAME TEXT PATTERN WHAT [STATUS]: 4, a bad disk file, unless
	put alice "$1" "$2"
	uu alice up "$1"
	is "$RUN_RC" "${5:-4}" "$4: refused (exit status ${5:-4})"
	like "$RUN_ERR" "$3" "$4: says where and why"
}
bad syn "target = null
size 1G
" "$dir/syn.disk:2: expected 'key = value'" "a syntax error"
bad unk "target = null
size = 1G
colour = red
" "$dir/unk.disk:3: unknown key 'colour'" "an unknown key"
bad outside "target = loop
file = /etc/passwd
" "/etc/passwd" "a file alice may not write" 1
mkdir -p /etc/ublk-user/policy.d
printf '[user:alice]\nmax_size = 32M\n' >/etc/ublk-user/policy.d/50-disks.conf
at_exit rm -f /etc/ublk-user/policy.d/50-disks.conf
bad big "target = null
size = 1G
" "max_size" "over the policy's max_size" 1
rm -f /etc/ublk-user/policy.d/50-disks.conf
uu alice up ../x
is "$RUN_RC" 2 "a name with a slash is a usage error"
uu alice up nosuch
is "$RUN_RC" 4 "a disk without a file: exit status 4"
like "$RUN_ERR" "$dir/nosuch.disk: no such disk file" "says which file"
run_as alice chmod 0666 "$dir/syn.disk"
uu alice up syn
like "$RUN_ERR" "mode 0666 is writable by group or others" \
	"a disk file others may write is refused"
uu alice doctor --json
is "$(jget "$RUN_OUT" '.checks[] | select(.name == "disks") | .status')" fail \
	"doctor fails the disk files check"
like "$(jget "$RUN_OUT" '.checks[] | select(.name == "disks") | .message')" \
	"^$dir/syn.disk: mode 0666" "naming the first bad file and why"
rm -f "$dir/syn.disk" "$dir/unk.disk"
uu alice doctor --json
is "$(jget "$RUN_OUT" '.checks[] | select(.name == "disks") | .message')" \
	"3 disk files in $dir read well" \
	"doctor: the good ones (data, big, outside) read well"
no_leftovers alice "after the bad disk files"
no_leftovers bob "after bob's disk"

done_testing
