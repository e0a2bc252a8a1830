# lab: 06_activations
# Every activation (solid) and its derivative (dashed), one panel each.
set terminal pngcairo size 1600,1300 font "sans,9"
set output out
set datafile separator ","
set key autotitle columnhead top left font ",8" noenhanced
set offsets 0, 0, graph 0.08, graph 0.08
set grid
set xrange [-6:6]
set multiplot layout 5,4 title "nnlab: activations g(x) and g'(x) (PyTorch definitions)"
f = dir."/activations.csv"
do for [k=0:19] {
  c = 2 + 2*k
  plot f using 1:c with lines lw 2 lc rgb "#1f77b4", \
       f using 1:(column(c+1)) with lines lw 1.5 dt 2 lc rgb "#d62728"
}
unset multiplot
