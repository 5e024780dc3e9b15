package report

import "math"

// Fit is a least-squares line y = Intercept + Slope·x over N points, with
// its coefficient of determination R² (1 - SSres/SStot; 1 when every
// point is on the line, including when all y are equal).
type Fit struct {
	Slope, Intercept, R2 float64
	N                    int
}

// LeastSquares fits a line to the points (xs[i], ys[i]). ok is false with
// fewer than 2 distinct x, where no line is defined.
func LeastSquares(xs, ys []float64) (f Fit, ok bool) {
	n := len(xs)
	if n != len(ys) || n < 2 {
		return Fit{N: n}, false
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxx, sxy, syy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxx += dx * dx
		sxy += dx * dy
		syy += dy * dy
	}
	if sxx == 0 {
		return Fit{N: n}, false
	}
	f = Fit{Slope: sxy / sxx, N: n}
	f.Intercept = my - f.Slope*mx
	var ssres float64
	for i := range xs {
		r := ys[i] - (f.Intercept + f.Slope*xs[i])
		ssres += r * r
	}
	f.R2 = 1
	if syy > 0 {
		f.R2 = 1 - ssres/syy
	}
	if math.IsNaN(f.R2) {
		f.R2 = 0
	}
	return f, true
}
