# lab: 09_gauss_newton_neuron
# |grad f| against iteration for Gauss-Newton, LM and Newton on three residual sizes.
set terminal pngcairo size 1500,480 font "sans,11"
set output out
set datafile separator ","
set logscale y
set format y "10^{%L}"
set yrange [1e-17:10]
set grid
set xlabel "iteration"
set ylabel "|grad f|"
set key top right
set multiplot layout 1,3 title "One sigmoid neuron, K = 40: the residuals decide Gauss-Newton's rate rho; Newton uses the true Hessian"
set title "small residuals (rho = 0.06)"
plot dir."/hessian_small_gn.csv" u 1:2 w lp pt 7 ps 1.6 lw 5 t "Gauss-Newton (LM draws over it)", \
     dir."/hessian_small_lm.csv" u 1:2 w lp pt 5 lw 2 t "Levenberg-Marquardt", \
     dir."/hessian_small_newton.csv" u 1:2 w lp pt 9 lw 2 t "Newton"
set title "moderate residuals (rho = 0.43)"
plot dir."/hessian_moderate_gn.csv" u 1:2 w lp pt 7 ps 1.6 lw 5 t "Gauss-Newton (LM draws over it)", \
     dir."/hessian_moderate_lm.csv" u 1:2 w lp pt 5 lw 2 t "Levenberg-Marquardt", \
     dir."/hessian_moderate_newton.csv" u 1:2 w lp pt 9 lw 2 t "Newton"
set title "large residuals (rho = 0.87)"
plot dir."/hessian_large_gn.csv" u 1:2 w lp pt 7 ps 1.6 lw 5 t "Gauss-Newton (LM draws over it)", \
     dir."/hessian_large_lm.csv" u 1:2 w lp pt 5 lw 2 t "Levenberg-Marquardt", \
     dir."/hessian_large_newton.csv" u 1:2 w lp pt 9 lw 2 t "Newton"
unset multiplot
