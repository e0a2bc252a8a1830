# lab: 05_deep_network
set terminal pngcairo size 900,500 font "sans,11"
set output out
set datafile separator ","
set title "||dW[l]|| by layer at initialisation (sigmoid everywhere): n = [4,2,5,3,1] (1-4), [6,5,5,3,1] (11-14)"
set style fill solid 0.7
set boxwidth 0.6
set logscale y
set xlabel "layer (first network 1-4, second 11-14)"
set ylabel "Frobenius norm of the gradient"
set grid y
set key off
plot dir."/grad_norms.csv" u 1:2 skip 1 w boxes lc rgb "#4393c3"
