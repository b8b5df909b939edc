//! The pieces of windowed-sinc filter design that the true-peak detector and the transient
//! clipper's oversampling share: the Kaiser window (Kaiser & Schafer, "On the use of the
//! I0-sinh window for spectrum analysis", IEEE Trans. ASSP 28(1), 1980), the Hann window and
//! the normalised sinc.

/// The Kaiser window of shape `beta`, over `r` in [-1, 1] (0 outside).
pub fn kaiser(beta: f64) -> impl Fn(f64) -> f64 {
    let i0_beta = bessel_i0(beta);
    move |r: f64| {
        if r.abs() >= 1.0 {
            0.0
        } else {
            bessel_i0(beta * (1.0 - r * r).sqrt()) / i0_beta
        }
    }
}

/// The Hann window over `r` in [-1, 1].
pub fn hann(r: f64) -> f64 {
    0.5 * (1.0 + (std::f64::consts::PI * r).cos())
}

/// Zeroth-order modified Bessel function of the first kind, by its power series
/// (Abramowitz & Stegun 9.6.12); converges fast for the β used in Kaiser windows.
pub fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let half = x / 2.0;
    for k in 1..64 {
        term *= (half / k as f64) * (half / k as f64);
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// sin(πx)/(πx), exactly 0 at the other integers (where `sin` in floating point leaves
/// ~1e-17: a coefficient that small times a small signal lands in the subnormal range).
pub fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else if x.fract() == 0.0 {
        0.0
    } else {
        (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
    }
}
