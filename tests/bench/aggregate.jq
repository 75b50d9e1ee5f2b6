# aggregate.jq: raw "BENCH" records (jq -s: one array) -> results.json.
# See tests/bench/report. Every ratio compares points of the same run.

def median: sort | if length == 0 then null
	elif length % 2 == 1 then .[(length - 1) / 2]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def stats: {median: median, min: min, max: max};
def devlabel: .server + "/" + .target + (if (.variant // "") != "" then " (" + .variant + ")" else "" end);
def per(n; d): if n == null or d == null or d <= 0 then null else n / d end;
# median of f over the runs that have it
# USER_HZ ticks (10 ms) to µs
def tick_us: if . == null then null else . * 10000 end;
def med(f): map(f | select(. != null)) | median;
def x100: if . == null then null else . * 100 end;
def r2: if . == null then null else (. * 100 | round) / 100 end;
def r1: if . == null then null else (. * 10 | round) / 10 end;
# Percentile $p (in us) of fio latency histograms (bucket value in ns ->
# count) taken together, as fio takes them: the first bucket at which the
# count so far reaches $p % of all.
def pct_of_bins($p):
	(reduce (.[] | to_entries[]) as $e ({}; .[$e.key] += $e.value)
	 | to_entries | map({v: (.key | tonumber), c: .value}) | sort_by(.v)) as $b
	| ($b | map(.c) | add // 0) as $total
	| if $total == 0 then null
	  else first($b | foreach .[] as $x (0; . + $x.c; if . >= $total * $p / 100 then $x.v else empty end)) / 1000
	  end;
# The point's percentile $p over all its runs when each has its histogram,
# else the median of each run's own ($f)
def clat_pct($p; f): if all(.clat_bins != null) then map(.clat_bins) | pct_of_bins($p) else map(f) | median end;
def geomean: if length == 0 then null else (map(log) | add / length | exp) end;

# Display order of devices; others follow in name order.
def dev_rank: ["null_blk/null", "floor/null", "ublk-user/null", "ublksrv/null", "kublk/null",
	"floor/loop-tmpfs", "ublk-user/loop-tmpfs", "ublksrv/loop-tmpfs", "kublk/loop-tmpfs",
	"ublk-user/loop-sparse", "ublksrv/loop-sparse", "kublk/loop-sparse",
	"ublk-user/mem", "ublk-user/nbd", "ublksrv/nbd", "kernel-nbd/nbd",
	"ublk-user-base/null", "ublk-user-base/loop-tmpfs", "ublk-user-base/nbd",
	"ublk-user-nosandbox/null", "ublk-user-nosandbox/loop-tmpfs",
	"ublk-user-nosandbox-batch/null", "ublk-user-nosandbox-batch/loop-tmpfs",
	"ublk-user-batch/null", "kublk-batch/null", "ublk-user-batch/loop-tmpfs", "kublk-batch/loop-tmpfs",
	"ublk-user-poll/null", "ublk-user-poll/loop-tmpfs"] as $o
	| (. as $l | $o | index($l)) // 99;

. as $raw
| ($raw | map(select(.type == "info")) | first // {}) as $info
| ($raw | map(select(.type == "run"))) as $runs
| ($runs | group_by([.phase, .server, .target, .variant, .queues, .workload])
   | map({
	phase: .[0].phase, label: (.[0] | devlabel), server: .[0].server,
	target: .[0].target, variant: .[0].variant, queues: .[0].queues,
	workload: .[0].workload, n: length,
	iops: (map(.iops) | stats | map_values(round)),
	bw_mib_s: (map(.bw_bytes / 1048576) | median | r1),
	clat_p50_us: (clat_pct(50; .clat_p50_us) | r1),
	clat_p99_us: (clat_pct(99; .clat_p99_us) | r1),
	# how far apart the runs are: each run's own p50 and p99
	clat_p50_runs_us: (map(.clat_p50_us) | stats | map_values(r1)),
	clat_p99_runs_us: (map(.clat_p99_us) | stats | map_values(r1)),
	# Costs per I/O in the steady part of each run (see tests/bench/guest):
	# guest CPU (all vCPUs; USER_HZ ticks = 10 ms), the server's threads'
	# CPU, context switches and IPIs (function call + reschedule).
	per_io: {
		guest_cpu_us: (med(per(.counters.cpu_busy; .counters.ios) | tick_us) | r1),
		guest_user_us: (med(per(.counters.cpu_user; .counters.ios) | tick_us) | r1),
		guest_kernel_us: (med(per(.counters | if .cpu_sys == null then null else .cpu_sys + .cpu_irq end; .counters.ios) | tick_us) | r1),
		server_user_us: (med(per(.counters.srv_utick; .counters.ios) | tick_us) | r1),
		server_kernel_us: (med(per(.counters.srv_stick; .counters.ios) | tick_us) | r1),
		# The whole process: utime + stime of /proc/PID/stat add up
		# the runtime of all its threads, those that ended within the
		# window too (io_uring workers); a sum over the threads seen at
		# both ends (srv_ns) misses those, by up to half for the peers.
		server_cpu_us: (med(per(.counters | if .srv_utick == null then null else .srv_utick + .srv_stick end; .counters.ios) | tick_us) | r1),
		server_threads_cpu_us: (med(per(.counters.srv_ns; .counters.ios) | if . == null then null else . / 1000 end) | r1),
		server_user_pct: (med(per(.counters.srv_utick | x100; .counters | if .srv_utick == null then null else .srv_utick + .srv_stick end)) | r1),
		server_ctxsw: (med(per(.counters.srv_ctx; .counters.ios)) | r2),
		ipis: (med(per(.counters | if .ipi_cal == null then null else .ipi_cal + .ipi_res end; .counters.ios)) | r2),
		# Traced runs only (profile phase): over the I/Os of the
		# traced window (t_ios)
		enter: (med(per(.counters.enter; .counters.t_ios)) | r2),
		sqes_per_enter: (med(per(.counters.submitted; .counters.enter)) | r2),
		cqes_per_enter: (med(per(.counters.cqes; .counters.enter)) | r2),
		enter_wait_pct: (med(per(.counters.enter_wait | x100; .counters.enter)) | r1)
	},
	guest_busy_pct: (med(per(.counters.cpu_busy; .counters.cpu_total) | if . == null then null else . * 100 end) | r1),
	fio_cpu_pct: (med(.fio_usr_pct + .fio_sys_pct) | r1)
   })) as $points
| ($points | map(select(.phase == "main"))) as $main
| def pt($lbl; $q; $w): first($main[] | select(.label == $lbl and .queues == $q and .workload == $w)) // null;
  def iops($lbl; $q; $w): pt($lbl; $q; $w) | if . == null then null else .iops.median end;
  def ratio($a; $b): if $a == null or $b == null or $b == 0 then null else ($a / $b | r2) end;
  ($info.workloads // ($main | map(.workload) | unique)) as $workloads
| ($main | map(.queues) | unique) as $queues
| ($main | map(.label) | unique | sort_by(dev_rank, .)) as $devices
# The peers of a target: the same target of kublk and ublksrv, and for
# nbd the kernel's own client; mem has none of its own, its nearest is a
# loop device on a file in memory (loop-tmpfs).
| def peers($t): (if $t == "mem" then "loop-tmpfs" else $t end) as $pt
	| [["kublk", "kublk/" + $pt], ["ublksrv", "ublksrv/" + $pt]]
	  + (if $t == "nbd" then [["kernel nbd", "kernel-nbd/nbd"]] else [] end);
  def lat($lbl; $q; $w): pt($lbl; $q; $w) | if . == null then null else
	{p50: .clat_p50_us, p99: .clat_p99_us, p50_runs: .clat_p50_runs_us, p99_runs: .clat_p99_runs_us} end;
  [ $queues[] as $q | $workloads[] as $w
    | iops("null_blk/null"; $q; $w) as $nb
    | ("null", "loop-tmpfs", "loop-sparse", "mem", "nbd") as $t
    | iops("ublk-user/" + $t; $q; $w) as $uu
    | select($uu != null)
    | iops("kublk/" + $t; $q; $w) as $k
    | iops("ublksrv/" + $t; $q; $w) as $s
    | iops("ublk-user-nosandbox/" + $t; $q; $w) as $ns
    | iops("ublk-user-base/" + $t; $q; $w) as $base
    | iops("ublk-user-batch/" + $t; $q; $w) as $batch
    | iops("kublk-batch/" + $t; $q; $w) as $kbatch
    | iops("ublk-user-nosandbox-batch/" + $t; $q; $w) as $nsbatch
    | iops("ublk-user-poll/" + $t; $q; $w) as $poll
    | [peers($t)[] | {name: .[0], label: .[1], iops: iops(.[1]; $q; $w),
        lat: lat(.[1]; $q; $w)} | select(.iops != null)] as $ps
    | ($ps | max_by(.iops)) as $best
    # The floor: a server that does nothing but answer, or only read and
    # write the file (tests/tools/ublk-floor.c); null and loop-tmpfs
    | iops("floor/" + $t; $q; $w) as $fl
    | {queues: $q, workload: $w, target: $t, ublk_user: $uu,
       kublk: (if $t == "mem" then null else $k end),
       ublksrv: (if $t == "mem" then null else $s end),
       kernel_nbd: (if $t == "nbd" then iops("kernel-nbd/nbd"; $q; $w) else null end),
       null_blk: $nb, nosandbox: $ns, peers: $ps,
       best_peer: $best.name, best_peer_label: $best.label, best_iops: $best.iops,
       lat: lat("ublk-user/" + $t; $q; $w),
       base_lat: lat("ublk-user-base/" + $t; $q; $w),
       vs_best: ratio($uu; $best.iops),
       vs_kublk: (if $t == "mem" then null else ratio($uu; $k) end),
       vs_ublksrv: (if $t == "mem" then null else ratio($uu; $s) end),
       vs_null_blk: ratio($uu; $nb),
       vs_nosandbox: ratio($uu; $ns), base: $base, vs_base: ratio($uu; $base),
       batch: $batch, batch_vs_single: ratio($batch; $uu),
       kublk_batch: $kbatch, batch_vs_kublk_batch: ratio($batch; $kbatch),
       nosandbox_batch: $nsbatch, batch_vs_nosandbox_batch: ratio($batch; $nsbatch),
       floor: $fl, vs_floor: ratio($uu; $fl),
       poll: $poll, poll_vs_single: ratio($poll; $uu), poll_vs_best: ratio($poll; $best.iops),
       poll_lat: lat("ublk-user-poll/" + $t; $q; $w),
       peers_vs_floor: ($ps | map({name, ratio: ratio(.iops; $fl)}))} ] as $ratios
| def r($q; $w; $t): first($ratios[] | select(.queues == $q and .workload == $w and .target == $t)) // {};
  def target($what; $want; $got; $detail):
	{what: $what, want: $want, got: $got, detail: $detail,
	 met: (if $got == null then null else $got >= $want end)};
  ($ratios | map(select(.target | startswith("loop")) | .vs_kublk | select(. != null)) | geomean | r2) as $loop_geo
| ($ratios | map(.vs_nosandbox | select(. != null)) | geomean | r2) as $conf_geo
| ($ratios | map(.batch_vs_nosandbox_batch | select(. != null)) | geomean | r2) as $conf_batch_geo
| [ target("ublk-user null / kublk null, 4k randread QD64, 1 queue"; 1.2;
	r(1; "randread-4k-qd64"; "null").vs_kublk; null),
    target("ublk-user null / null_blk, 4k randread QD64, 1 queue"; 0.6;
	r(1; "randread-4k-qd64"; "null").vs_null_blk; null),
    target("ublk-user loop / kublk loop (tmpfs file), 4k randread QD64, 1 queue"; 1.1;
	r(1; "randread-4k-qd64"; "loop-tmpfs").vs_kublk; null),
    target("ublk-user loop / kublk loop (sparse file), 4k randread QD64, 1 queue"; 1.1;
	r(1; "randread-4k-qd64"; "loop-sparse").vs_kublk; null),
    target("ublk-user loop / kublk loop, geometric mean of all loop points"; 1.1;
	$loop_geo; "both files, every workload and queue count"),
    target("confinement: ublk-user / ublk-user without sandbox (geometric mean)"; 0.97;
	$conf_geo; "null and loop-tmpfs, 1 queue, every workload; >= 0.97 = costs <= 3%"),
    target("confinement with --batch: ublk-user --batch / the same without sandbox (geometric mean)"; 0.97;
	$conf_batch_geo; "null and loop-tmpfs, 1 queue, every workload; >= 0.97 = costs <= 3%")
  ] as $targets7
# QD1 latency (input: ublk-user's) against others': no higher at p50 and
# p99 than the lowest of theirs (lat_le), or not apart from any of theirs
# by the runs, its lowest single run not above their highest (lat_within).
| def lat_le($o): .p50 <= ($o | map(.p50) | min) and .p99 <= ($o | map(.p99) | min);
  def lat_within($o): . as $u
	| $o | all(.[]; $u.p50_runs.min <= .p50_runs.max and $u.p99_runs.min <= .p99_runs.max);
  def tally: {points: length, met_points: (map(select(.ok)) | length),
	met: (if length == 0 then null else all(.ok) end)};
  ($ratios | map(select((.workload | test("-qd1$")) and .lat != null and .peers != []))) as $qd1
# Issue 13 (nbd) and issue 16 (ahead of the peers): how many points meet.
| def count($what; $want; $pts):
	($pts | map(select(.vs_best != null))) as $p
	| {what: $what, want: $want, points: ($p | length),
	   met_points: ($p | map(select(.vs_best >= $want)) | length),
	   worst: ($p | min_by(.vs_best) | if . == null then null else
		{ratio: .vs_best, at: "q\(.queues) \(.workload) \(.target) vs \(.best_peer)"} end),
	   met: (if ($p | length) == 0 then null else ($p | all(.vs_best >= $want)) end)};
  [ count("ublk-user nbd >= the best of ublksrv nbd and kernel nbd, every point"; 1;
	$ratios | map(select(.target == "nbd"))),
    count("ublk-user >= the best peer, every target, workload and queue count"; 1;
	$ratios),
    count("ublk-user >= 1.2x the best peer on null and loop, 4k QD64, 1 and 2 queues"; 1.2;
	$ratios | map(select((.target == "null" or (.target | startswith("loop")))
		and (.workload | test("-4k-qd64$"))))),
    # Where 1.2x is out of reach: how close ublk-user is to the floor
    ($ratios | map(select(.vs_floor != null)) as $p
     | {what: "ublk-user / floor (a server that does nothing but answer, or read and write the file), every null and loop-tmpfs point", want: 1,
        points: ($p | length), met_points: ($p | map(select(.vs_floor >= 1)) | length),
        worst: ($p | min_by(.vs_floor) | if . == null then null else
		{ratio: .vs_floor, at: "q\(.queues) \(.workload) \(.target) vs floor"} end),
        met: (if ($p | length) == 0 then null else ($p | all(.vs_floor >= 1)) end)}),
    # QD1 latency: p50 and p99 no worse than the best peer's
    ({what: "ublk-user QD1 p50 and p99 latency <= the best peer's", want: 1} +
	($qd1 | map(. as $r | .ok = ($r.lat | lat_le([$r.peers[].lat]))) | tally)),
    # The same where the runs tell them apart: worse only if even
    # ublk-user's best run is worse than a peer's worst run.
    ({what: "ublk-user QD1 p50 and p99 latency not above any peer's beyond the spread of single runs", want: 1} +
	($qd1 | map(. as $r | .ok = ($r.lat | lat_within([$r.peers[].lat]))) | tally)),
    # The same with add --poll-us (the ublk-user-poll rows)
    count("ublk-user --poll-us >= the best peer, every null and loop-tmpfs point"; 1;
	$ratios | map(select(.poll != null) | .vs_best = .poll_vs_best)),
    count("ublk-user --poll-us >= 1.2x the best peer on null and loop, 4k QD64, 1 and 2 queues"; 1.2;
	$ratios | map(select(.poll != null and (.workload | test("-4k-qd64$"))) | .vs_best = .poll_vs_best)),
    ({what: "ublk-user --poll-us QD1 p50 and p99 latency <= the best peer's", want: 1} +
	($qd1 | map(select(.poll_lat != null) | . as $r | .ok = ($r.poll_lat | lat_le([$r.peers[].lat]))) | tally)),
    # A/A control when the base is this revision: one build as two
    # devices, whose differences are the bench's own.
    (if ($info.base // "") != "" and $info.base == $info.source then
	{what: "A/A control: ublk-user QD1 p50 and p99 latency <= the same build's (ublk-user-base)", want: 1} +
	($qd1 | map(select(.base_lat != null) | . as $r | .ok = ($r.lat | lat_le([$r.base_lat]))) | tally)
     else empty end)
  ] as $targets_peers
| ($targets7 + $targets_peers) as $targets
| def n($x): if $x == null then "n/a" else ($x | tostring) end;
  def x($x): if $x == null then "n/a" else ($x | tostring) + "x" end;
{
	info: $info,
	devices: $devices, queues: $queues, workloads: $workloads,
	points: $points,
	add: ($raw | map(select(.type == "add")) | group_by([.server, .target])
		| map({label: (.[0] | devlabel), n: length,
			add_ms: (map(.add_ms) | stats), usable_ms: (map(.usable_ms) | stats),
			del_ms: (map(.del_ms) | stats)})),
	rss: ($raw | map(select(.type == "rss") | . + {label: devlabel})),
	whatif: ($points | map(select(.phase == "whatif"))),
	errors: ($raw | map(select(.type == "error"))),
	ratios: $ratios,
	targets: $targets,
	summary: (
		["ublk-user (unprivileged, as \($info.ublk_user_runs_as // "a user")) vs kublk, ublksrv, the kernel's nbd (privileged, as root) vs null_blk; fio as root; median IOPS of \($info.repeat // "?") runs; same guest run"]
		+ ($ratios | map(
			"q\(.queues) \(.workload | . + " " * (18 - length)) \(.target | . + " " * (12 - length)) ublk-user \(n(.ublk_user)) IOPS = \(x(.vs_best)) best peer"
			+ (.peers | map(", \(.name) \(.iops)") | join(""))
			+ (if .target == "mem" then " (loop-tmpfs)" else "" end)
			+ ", \(x(.vs_null_blk)) null_blk (\(n(.null_blk)))"
			+ (if .nosandbox != null then ", \(x(.vs_nosandbox)) no-sandbox build (\(.nosandbox))" else "" end)
			+ (if .base != null then ", \(x(.vs_base)) base revision (\(.base))" else "" end)
			+ (if .batch != null then "; --batch \(.batch) = \(x(.batch_vs_single)) ublk-user, \(x(.batch_vs_kublk_batch)) kublk -b (\(n(.kublk_batch)))" else "" end)
			+ (if .poll != null then "; --poll-us \(.poll) = \(x(.poll_vs_single)) ublk-user, \(x(.poll_vs_best)) best peer" else "" end)
			+ (if .nosandbox_batch != null then ", \(x(.batch_vs_nosandbox_batch)) no-sandbox --batch (\(.nosandbox_batch))" else "" end)
			+ (if .floor != null then ", \(x(.vs_floor)) floor (\(.floor); peers" + (.peers_vs_floor | map(" \(.name) \(x(.ratio))") | join(",")) + ")" else "" end)))
		+ ["targets (issue 7):"]
		+ ($targets7 | map("  [\(if .met == null then "not measured" elif .met then "met" else "MISSED" end)] \(.what): \(x(.got)) (want >= \(.want)x)"))
		+ ["targets (issues 13, 16):"]
		+ ($targets_peers | map("  [\(if .met == null then "not measured" elif .met then "met" else "MISSED" end)] \(.what): \(.met_points)/\(.points) points" + (if .worst != null then "; worst \(x(.worst.ratio)) at \(.worst.at)" else "" end)))
	)
}
