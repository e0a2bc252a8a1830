# lab: deep_double_descent
# experiments/deep_double_descent: trained 49-w-10 ReLU networks (Fashion-MNIST pooled to 7x7,
# n = 1000, 20% label noise, Adam to interpolation), test and train error against width.
set terminal pngcairo size 1200,450 font "sans,10"
set output out
set datafile separator ","
f = dir."/sweep.csv"
set multiplot layout 1,2 title "Deep double descent: one-hidden-layer networks trained to the end (20% label noise, n = 1000)"
set logscale x
set grid
set xlabel "hidden width w (log)"
set key top right
set title "classification error"
set yrange [0:*]
plot f u 1:4 skip 1 w lp pt 7 ps 0.7 lw 2 t "test", f u 1:3 skip 1 w lp pt 5 ps 0.6 lw 1.5 t "train (noisy labels)"
set title "cross-entropy"
set logscale y
set yrange [*:*]
plot f u 1:6 skip 1 w lp pt 7 ps 0.7 lw 2 t "test", f u 1:5 skip 1 w lp pt 5 ps 0.6 lw 1.5 t "train"
unset multiplot
