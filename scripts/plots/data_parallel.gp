# lab: 16_data_parallel
# MPI_Allreduce time against message size (2 processes, loopback) with the fitted alpha + beta b.
set terminal pngcairo size 800,500 font "sans,10"
set output out
set datafile separator ","
set logscale xy
set grid
set xlabel "message size b (bytes)"
set ylabel "seconds per MPI_Allreduce"
set key top left
f = dir."/allreduce.csv"
alpha = 1e-6; beta = 1e-10
set fit quiet
set fit logfile "/dev/null"
fit alpha + beta * x f u 1:2:2 skip 1 yerror via alpha, beta  # relative errors
set title sprintf("allreduce on 2 processes: alpha = %.2g s, 1/beta = %.2g GB/s", alpha, 1e-9 / beta)
plot f u 1:2 skip 1 w lp pt 7 lw 2 t "measured", alpha + beta * x w l dt 2 lw 2 t "alpha + beta b (fit)"
