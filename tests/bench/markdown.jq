# markdown.jq: results.json -> results.md (jq -r). See tests/bench/report.

def n: if . == null then "–" else tostring end;
def row: "| " + join(" | ") + " |";
def sep($k): [range(0; $k)] | map("---") | row;
def cell: if . == null then "–"
	elif .min == .max then (.median | tostring)
	else "\(.median) (\(.min)–\(.max))" end;
def x: if . == null then "–" else tostring + "×" end;

. as $r
| $r.info as $i
| def pt($lb; $q; $w; $ph): first($r.points[] | select(.phase == $ph and .label == $lb and .queues == $q and .workload == $w)) // null;
"# ublk-user benchmark",
"",
"Linux \($i.kernel) under QEMU TCG (\($i.cpus) vCPUs: \($i.cpu // "?"); \($i.mem)), \($i.fio), ioengine io_uring, direct I/O.",
"ublk-user \($i.ublk_user) serves **unprivileged** devices and runs as user \($i.ublk_user_runs_as)" +
	(if ($i.ublk_user_caps // "") != "" then " (file capabilities: \($i.ublk_user_caps))" else " (no capabilities)" end) +
	"; kublk (\($i.kublk.source // "?"), liburing \($i.kublk.liburing // "?"))" +
	(if $i.ublksrv != null then " and ublksrv (\($i.ublksrv.source // "?"), liburing \($i.ublksrv.liburing // "?"), \($i.ublksrv.cflags // ""))" else "" end) +
	" serve **privileged** devices and run as root; fio runs as root against every device.",
(if ($i.nbdkit // "") != "" then "nbd rows: one `\($i.nbdkit) memory` export on a Unix socket, run by \($i.nbdkit_runs_as), served to ublk-user's nbd target, ublksrv's nbd target and the kernel's nbd client (nbd-client \($i.nbd_client // "?"), one connection per queue, 512-byte blocks)." else empty end),
"Every point: \($i.repeat) runs of \($i.runtime) s after \($i.ramp) s of ramp, interleaved across devices; median (min–max). Depth \($i.depth) for every device; with 2 queues fio runs 2 jobs, one per CPU, each at the stated QD.",
"Guest clock: \($i.clock // "host (wall clock)"). " + (if ($i.clock // "") | startswith("instructions") then "Guest time counts executed instructions, so the load of the host does not move the numbers, but every instruction weighs the same: a context switch costs only its instructions, and a copy one per iteration of `rep movs` (the CPU model lacks ERMS so that the kernel copies 8 bytes, not 1, an iteration)." else "The host's clock: other guests on the host move the numbers; the min–max ranges show how much." end),
(if $i.pinned_cpu != null then "With one queue every server's threads ran on CPU(s) \($i.pinned_cpu) (`BENCH_PIN`, set from outside after each device started), not where each server puts them." else "Each server places its own threads (with one queue kublk takes the first CPU, ublk-user and the floor one by the device id, from the last down; `BENCH_PIN` puts them all on one CPU)." end),
"Under TCG absolute numbers mean little: compare devices of the same run.",
"",
"## Side by side",
"",
"Median IOPS (min–max) of ublk-user and its peers on the same target, and ublk-user's ratio to the best peer (with `BENCH_POLL_US`, also ublk-user with `add --poll-us`: its queues spin for the next request before they sleep). `mem` has no peer of its own: its nearest is a loop device on a file in memory (`loop-tmpfs`).",
"",
($r.ratios | group_by(.target) | sort_by(.[0].target as $tt | ["null", "loop-tmpfs", "loop-sparse", "mem", "nbd"] | index($tt) // 9) | .[]
 | .[0].target as $t
 | ([.[].peers[].name] | unique | sort_by(. as $nn | ["kublk", "ublksrv", "kernel nbd"] | index($nn) // 9)) as $pn
 | "### \($t)",
   "",
   (map(.poll != null) | any) as $hp
 | (["queues", "workload", "ublk-user"] + ($pn | map(. + (if $t == "mem" then " loop-tmpfs" else "" end))) + ["ublk-user / best peer"]
    + (if $hp then ["ublk-user --poll-us \($i.poll_us)", "--poll-us / best peer"] else [] end) | row),
   sep(4 + ($pn | length) + (if $hp then 2 else 0 end)),
   (.[] | . as $x
    | [(.queues | tostring), .workload, (pt("ublk-user/" + $t; .queues; .workload; "main").iops | cell)]
      + ($pn | map(. as $name | ($x.peers | map(select(.name == $name)) | first) as $p
          | if $p == null then "–" else (pt($p.label; $x.queues; $x.workload; "main").iops | cell) end))
      + ["\(.vs_best | x)\(if .best_peer != null then " (\(.best_peer))" else "" end)"]
      + (if $hp then [(pt("ublk-user-poll/" + $t; .queues; .workload; "main").iops | cell), (.poll_vs_best | x)] else [] end) | row),
   ""),
"## Ratios and targets",
"",
"```",
($r.summary[]),
"```",
"",
($r.queues[] as $q
 | "## IOPS, \($q) queue\(if $q > 1 then "s" else "" end)",
   "",
   (["device"] + $r.workloads | row),
   sep(($r.workloads | length) + 1),
   ($r.devices[] as $d
    | [pt($d; $q; $r.workloads[]; "main")] as $ps
    | select($ps | map(select(. != null)) | length > 0)
    | ["`\($d)`"] + ($ps | map(if . == null then "–" else .iops | cell end)) | row),
   ""),
"128k workloads: MiB/s = IOPS / 8.",
"",
"## Latency at QD 1 (completion latency, µs)",
"",
"Percentiles over the I/Os of all runs of a point together (fio's histograms; the median of the runs' own for runs recorded without them), and in brackets the lowest and highest of a single run.",
"",
(["device", "queues", "randread p50", "randread p99", "randwrite p50", "randwrite p99"] | row),
sep(6),
($r.queues[] as $q | $r.devices[] as $d
 | pt($d; $q; "randread-4k-qd1"; "main") as $rd
 | pt($d; $q; "randwrite-4k-qd1"; "main") as $wr
 | select($rd != null or $wr != null)
 | def pct($v; $runs; $x): ($v | n) + (if $runs.min == null or $x.n < 2 then ""
	else " [\($runs.min | n)-\($runs.max | n)]" end);
   def p50($x): pct($x.clat_p50_us; $x.clat_p50_runs_us; $x);
   def p99($x): pct($x.clat_p99_us; $x.clat_p99_runs_us; $x);
 ["`\($d)`", ($q | tostring), p50($rd), p99($rd), p50($wr), p99($wr)] | row),
"",
"## Per-I/O cost (4k random reads)",
"",
"From the main runs (medians): IOPS, guest CPU of both vCPUs per I/O (/proc/stat), CPU of the server process per I/O (utime + stime of /proc/PID/stat, which count every thread, io_uring workers that ended within the run too) and the user share of it, the server's own code per I/O (its user time: a server that did nothing would have 0 there and still pay the rest, the kernel's handling of its commands; that rest is the floor), their context switches, IPIs (function-call + reschedule interrupts). From the traced runs of the profile phase (tracefs histograms over the server's threads, the same runs for every server): io_uring_enter calls per I/O, SQEs each call took and CQEs posted per call, the share of calls that wait (min_complete > 0), and the IOPS under tracing (tracing costs instructions too). Earlier runs with strace showed no other syscalls in the steady state than io_uring_enter, except ublksrv's nbd target (recvfrom, 1-2 per I/O). With the instruction clock, a guest µs is 62.5 instructions of any vCPU. kernel nbd and null_blk have no server process. `floor/null` is a server that does nothing but answer each request (tests/tools/ublk-floor.c: no accounting, no confinement, rings and thread placement as ublk-user's): what the kernel's round trip costs, which no server can go below. `floor/loop-tmpfs` is the same server with one read or write SQE per request on the tmpfs file (O_DIRECT, plain buffers, as ublk-user's loop reads it here): the loop floor.",
"",
(["device", "queues", "workload", "IOPS", "guest CPU µs/I/O", "server CPU µs/I/O", "user %", "server user µs/I/O", "ctx sw/I/O", "IPIs/I/O", "enter/I/O", "SQEs/enter", "CQEs/enter", "enters that wait %", "IOPS traced"] | row),
sep(15),
($r.queues[] as $q | ("randread-4k-qd1", "randread-4k-qd64") as $w
 | $r.devices[] as $d
 | select($d | test("^(null_blk|floor|ublk-user(-base|-batch|-poll)?|ublksrv|kublk(-batch)?|kernel-nbd)/(null|loop-tmpfs|nbd)$"))
 | pt($d; $q; $w; "main") as $m | pt($d; $q; $w; "cost") as $c
 | select($m != null)
 | ["`\($d)`", ($q | tostring), $w, ($m.iops.median | n), ($m.per_io.guest_cpu_us | n),
    ($m.per_io.server_cpu_us | n), ($m.per_io.server_user_pct | n), ($m.per_io.server_user_us | n),
    ($m.per_io.server_ctxsw | n),
    ($m.per_io.ipis | n), ($c.per_io.enter | n), ($c.per_io.sqes_per_enter | n),
    ($c.per_io.cqes_per_enter | n), ($c.per_io.enter_wait_pct | n),
    ($c.iops.median | n)] | row),
"",
(if ($r.whatif | length) > 0 then
  "## What-if runs (4k randread QD 64, 1 queue, interleaved)",
  "",
  "`pinned`: ublk-user's threads pinned to CPU 0 with taskset, as kublk pins its queue thread. `batch`: kublk and ublksrv with UBLK_F_BATCH_IO (-b), a feature unprivileged devices may use too. `fio-batch16`: fio submits and reaps 16 I/Os at a time (iodepth_batch_submit, iodepth_batch_complete_min; default 1).",
  "",
  (["device", "IOPS", "guest CPU µs/I/O", "server CPU µs/I/O", "server ctx switches/I/O", "IPIs/I/O"] | row),
  sep(6),
  ($r.whatif[] | ["`\(.label)`", (.iops | cell), (.per_io.guest_cpu_us | n), (.per_io.server_cpu_us | n),
     (.per_io.server_ctxsw | n), (.per_io.ipis | n)] | row),
  ""
 else empty end),
"## Time from `add` to a usable device (ms; 1 queue)",
"",
"Measured in the adding user's own shell: `add` returning, and a first 4k O_DIRECT read of the new node done; then `del`.",
"",
(["device", "add returned", "usable", "del"] | row),
sep(4),
($r.add[] | ["`\(.label)`", (.add_ms | cell), (.usable_ms | cell), (.del_ms | cell)] | row),
"",
"## Server memory (VmRSS, KiB)",
"",
(["device", "queues", "threads", "idle, after add", "after the workloads"] | row),
sep(5),
($r.rss | sort_by(.queues)[] | ["`\(.label)`", (.queues | n), (.threads | n), (.rss_idle_kb | n), (.rss_after_kb | n)] | row),
"",
(if ($r.errors | length) > 0 then
  "## Errors",
  "",
  ($r.errors[] | "- \(.what): \(.msg | gsub("\n"; " "))"),
  ""
 else empty end)
