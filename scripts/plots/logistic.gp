# lab: 03_logistic_regression
set terminal pngcairo size 1200,500 font "sans,11"
set output out
set datafile separator ","
set multiplot layout 1,2 title "Logistic regression by gradient descent (fixed step 0.5)"
set title "cost (log-loss) against iteration"
set xlabel "iteration"
set ylabel "L"
set grid
set key off
plot dir."/cost.csv" u 1:2 skip 1 w l lw 2
set title "data and the decision boundary w.x + b = 0"
set xlabel "x1"
set ylabel "x2"
set size ratio -1
set xrange [-5:5]
set yrange [-4.5:4.5]
set clip two
set key top left
plot dir."/points.csv" u 1:($3 > 0.5 ? $2 : 1/0) skip 1 w p pt 7 lc rgb "#1f77b4" t "y = 1", \
     dir."/points.csv" u 1:($3 < 0.5 ? $2 : 1/0) skip 1 w p pt 5 lc rgb "#d62728" t "y = 0", \
     dir."/boundary.csv" u 1:2 skip 1 w l lw 2 lc rgb "black" t "a = 1/2"
unset multiplot
