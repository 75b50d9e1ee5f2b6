# plot.gp: bench.png from plot.dat (written by tests/bench/report).
# Variables (gnuplot -e): datafile, outfile, ndev, nq, titles (device
# labels, blank-separated), queues (queue counts), heading1, heading2.
# plot.dat: one block per queue count (index i); a row per workload:
# name, then median, min, max IOPS of each device in turn.

set terminal pngcairo size 1600, 560 * nq + 100 font "DejaVu Sans,11" noenhanced
set output outfile
set multiplot layout nq, 1 title heading1 . "\n" . heading2 font ",13"

set datafile missing "?"
set style data histograms
set style histogram errorbars gap 1.5 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set bars front
set grid ytics lc rgb "#dddddd"
# Log scale: null_blk is several times faster than the ublk devices, and a
# 128k I/O costs more than a 4k one; equal ratios look equally far apart.
set logscale y
set format y "%.0s%c"
set ylabel "IOPS (log scale)"
set xtics nomirror
set key outside right top vertical Left reverse noautotitle samplen 2

# One fixed colour per device kind: servers by hue, targets by shade.
colour(t) = t eq "null_blk/null" ? "#555555" : \
	t eq "ublk-user/null" ? "#1f77b4" : t eq "ublk-user/loop-tmpfs" ? "#4a98d3" : \
	t eq "ublk-user/loop-sparse" ? "#8cc0e8" : t eq "ublk-user/mem" ? "#17becf" : \
	t eq "kublk/null" ? "#d62728" : t eq "kublk/loop-tmpfs" ? "#ff6b5b" : \
	t eq "kublk/loop-sparse" ? "#ffaa9e" : \
	t eq "ublk-user-nosandbox/null" ? "#2ca02c" : \
	t eq "ublk-user-nosandbox/loop-tmpfs" ? "#98df8a" : "#bcbd22"

do for [i = 1:nq] {
	set title sprintf("%s queue%s", word(queues, i), word(queues, i) eq "1" ? "" : "s")
	plot for [j = 1:ndev] datafile index (i - 1) \
		using (column(3 * j - 1)):(column(3 * j)):(column(3 * j + 1)):xtic(1) \
		title word(titles, j) lc rgb colour(word(titles, j))
}
unset multiplot
