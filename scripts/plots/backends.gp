# lab: 15_backends_performance
# lab: bench
# Roofline-style figure of the backends (results/<dir>/backends.csv and peak.csv, written by
# lab 15 or by experiments/bench_backends): GFLOP/s of a double training step against width
# and against batch, every backend at 1 thread (dashed) and 2 threads (solid), the dgemm of
# the same products and the measured FMA peak; then the 2-thread speed-up of openmp and matrix
# (scaling.csv: median of paired rounds, bars from the first to the third quartile), and where
# it was measured openmp's "split" (two 1-thread halves of the batch side by side, nothing
# shared: for the narrow networks the most a data-parallel step could gain).
set terminal pngcairo size 1500,480 font "sans,10"
set output out
set datafile separator whitespace
f = dir."/backends.csv"
pf = dir."/peak.csv"
# x of a row: the width (first size) for the width sweep, the batch for the batch sweep
wsel(be, t) = sprintf("< awk -F, '$1==\"double\" && $2==\"step\" && $3==\"%s\" && $4==%d && $6==\"width\" {split($5,a,\"-\"); print a[1], $9}' %s | sort -n", be, t, f)
bsel(be, t) = sprintf("< awk -F, '$1==\"double\" && $2==\"step\" && $3==\"%s\" && $4==%d && ($6==\"batch\" || $5==\"784-256-128-10/b128\" || $5==\"784-256-128-10/b1024\") {split($5,a,\"/b\"); print a[2], $9}' %s | sort -n -u", be, t, f)
# thread scaling from scaling.csv (paired rounds): x, median, q1, q3; the batch panel takes the
# named 784-256-128-10 shapes too
sf = dir."/scaling.csv"
scal(be, sweep) = sprintf("< awk -F, '$1==\"double\" && $2==\"%s\" && ($4==\"%s\" || (\"%s\"==\"batch\" && $3 ~ /^784-256-128-10\\//)) {split($3,w,\"-\"); split($3,m,\"/b\"); print (\"%s\"==\"width\" ? w[1] : m[2]), $5, $6, $7}' %s | sort -n -u", be, sweep, sweep, sweep, sf)
# openmp's split (perf::split_scaling) from the same file, where it was measured: x, median,
# q1, q3
splitc(sweep) = sprintf("< awk -F, '$1==\"double\" && $2==\"openmp\" && $10 > 0 && ($4==\"%s\" || (\"%s\"==\"batch\" && $3 ~ /^784-256-128-10\\//)) {split($3,w,\"-\"); split($3,m,\"/b\"); print (\"%s\"==\"width\" ? w[1] : m[2]), $10, $11, $12}' %s | sort -n -u", sweep, sweep, sweep, sf)
peak(t) = real(system(sprintf("awk -F, '$1==\"double\" && $2==%d {print $3}' %s", t, pf)))
p1 = peak(1); p2 = peak(2)
set multiplot layout 1,3 title "nnlab backends: one double training step (forward + backward with dX + SGD), this machine"
set logscale xy
set grid
set key bottom right font ",8" noenhanced
set ylabel "GFLOP/s (6 m S flops per step)"
set xlabel "width w (w-w-w-10, batch 256)"
set yrange [0.3:2*p2]
bes = "naive graph openmp matrix gemm"
cols = "#7f7f7f #9467bd #2ca02c #1f77b4 #000000"
plot for [i=1:5] wsel(word(bes,i), 1) using 1:2 with linespoints dt 2 pt 7 ps 0.5 lc rgb word(cols,i) title word(bes,i)." 1 thread", \
     for [i=3:5] wsel(word(bes,i), 2) using 1:2 with linespoints dt 1 pt 7 ps 0.6 lw 2 lc rgb word(cols,i) title word(bes,i)." 2 threads", \
     p1 with lines lc rgb "#d62728" dt 3 title sprintf("FMA peak 1 thread (%.0f)", p1), \
     p2 with lines lc rgb "#d62728" lw 2 title sprintf("FMA peak 2 threads (%.0f)", p2)
set xlabel "batch m (784-256-128-10)"
plot for [i=1:5] bsel(word(bes,i), 1) using 1:2 with linespoints dt 2 pt 7 ps 0.5 lc rgb word(cols,i) title word(bes,i)." 1 thread", \
     for [i=3:5] bsel(word(bes,i), 2) using 1:2 with linespoints dt 1 pt 7 ps 0.6 lw 2 lc rgb word(cols,i) title word(bes,i)." 2 threads", \
     p1 with lines lc rgb "#d62728" dt 3 title "FMA peak 1 thread", \
     p2 with lines lc rgb "#d62728" lw 2 title "FMA peak 2 threads"
unset logscale y
set yrange [0:2.3]
set ylabel "time on 1 thread / time on 2 (median, quartiles)"
set xlabel "width w (solid) or batch m (dashed)"
plot scal("openmp", "width") using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb "#2ca02c" title "openmp, width", \
     scal("matrix", "width") using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb "#1f77b4" title "matrix, width", \
     scal("openmp", "batch") using 1:2:3:4 with yerrorlines dt 2 pt 6 lc rgb "#2ca02c" title "openmp, batch", \
     scal("matrix", "batch") using 1:2:3:4 with yerrorlines dt 2 pt 6 lc rgb "#1f77b4" title "matrix, batch", \
     splitc("width") using 1:2 with linespoints lw 1 pt 2 ps 0.7 lc rgb "#98df8a" title "openmp split: 2 halves, nothing shared, width", \
     splitc("batch") using 1:2 with linespoints dt 2 pt 2 ps 0.7 lc rgb "#98df8a" title "openmp split, batch", \
     2 with lines lc rgb "#d62728" dt 3 title "2x", \
     1.85 with lines lc rgb "#d62728" dt 2 title "1.85x (the openmp target, batch >= 64)"
unset multiplot
