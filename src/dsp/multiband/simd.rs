//! Four f32 lanes, element-wise.
//!
//! The crossover tree and the band detectors are laid out so that four independent signals
//! always go through the same operation at the same time (see `crossover.rs`): written as
//! plain fixed-size array code, LLVM turns these into single SSE/NEON instructions on
//! x86_64 and aarch64 without `unsafe` or target-specific code. Each operation is one IEEE
//! operation per lane (no fused multiply-add), so results are the same whether or not the
//! compiler vectorises them.

use core::ops::{Add, Mul, Neg, Sub};

#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[repr(C, align(16))]
pub struct F4(pub [f32; 4]);

impl F4 {
    pub const ZERO: F4 = F4([0.0; 4]);

    #[inline(always)]
    pub const fn splat(v: f32) -> Self {
        F4([v; 4])
    }

    #[inline(always)]
    pub const fn new(a: f32, b: f32, c: f32, d: f32) -> Self {
        F4([a, b, c, d])
    }

    /// `f` on each lane.
    #[inline(always)]
    pub fn map(self, f: impl Fn(f32) -> f32) -> Self {
        let a = self.0;
        F4([f(a[0]), f(a[1]), f(a[2]), f(a[3])])
    }

    #[inline(always)]
    fn zip(self, o: Self, f: impl Fn(f32, f32) -> f32) -> Self {
        let (a, b) = (self.0, o.0);
        F4([f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2]), f(a[3], b[3])])
    }

    /// `|x|` by clearing the sign bit (one `andps`).
    #[inline(always)]
    pub fn abs(self) -> Self {
        self.map(|x| f32::from_bits(x.to_bits() & 0x7fff_ffff))
    }

    /// Lane-wise maximum. Written as a compare-select so it maps to `maxps`; no NaN can reach
    /// it (inputs are finite by contract).
    #[inline(always)]
    pub fn max(self, o: Self) -> Self {
        self.zip(o, |a, b| if a > b { a } else { b })
    }

    #[inline(always)]
    pub fn min(self, o: Self) -> Self {
        self.zip(o, |a, b| if a < b { a } else { b })
    }

    /// `[a, b, c, d]` → `[b, a, d, c]`: the other channel of the same band.
    #[inline(always)]
    pub fn swap_pairs(self) -> Self {
        let a = self.0;
        F4([a[1], a[0], a[3], a[2]])
    }

    /// Each lane set to 0 where `|x| < limit` (denormal guard on state).
    #[inline(always)]
    pub fn flush_below(self, limit: f32) -> Self {
        self.map(|x| if x.abs() < limit { 0.0 } else { x })
    }

    /// Each lane snapped to `target` once within `eps` of it.
    #[inline(always)]
    pub fn snap_to(self, target: Self, eps: f32) -> Self {
        self.zip(target, |x, t| if (x - t).abs() < eps { t } else { x })
    }

    #[inline(always)]
    pub fn is_finite(self) -> bool {
        self.0.iter().all(|x| x.is_finite())
    }
}

impl Add for F4 {
    type Output = F4;
    #[inline(always)]
    fn add(self, o: F4) -> F4 {
        self.zip(o, |a, b| a + b)
    }
}

impl Sub for F4 {
    type Output = F4;
    #[inline(always)]
    fn sub(self, o: F4) -> F4 {
        self.zip(o, |a, b| a - b)
    }
}

impl Mul for F4 {
    type Output = F4;
    #[inline(always)]
    fn mul(self, o: F4) -> F4 {
        self.zip(o, |a, b| a * b)
    }
}

impl Neg for F4 {
    type Output = F4;
    #[inline(always)]
    fn neg(self) -> F4 {
        self.map(|a| -a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_operations() {
        let a = F4::new(-1.0, 2.0, -3.0, 4.0);
        let b = F4::splat(1.5);
        assert_eq!(a.abs(), F4::new(1.0, 2.0, 3.0, 4.0));
        assert_eq!(a.max(b), F4::new(1.5, 2.0, 1.5, 4.0));
        assert_eq!(a.min(b), F4::new(-1.0, 1.5, -3.0, 1.5));
        assert_eq!(a.swap_pairs(), F4::new(2.0, -1.0, 4.0, -3.0));
        assert_eq!((a + b) - b, a);
        assert_eq!(a * F4::splat(2.0), F4::new(-2.0, 4.0, -6.0, 8.0));
        assert_eq!(
            F4::new(1e-25, -1e-21, 1e-19, 0.0).flush_below(1e-20),
            F4::new(0.0, 0.0, 1e-19, 0.0)
        );
        assert_eq!(
            F4::new(1.0, 1.5, 2.0, 3.0).snap_to(F4::splat(2.0), 0.6),
            F4::new(1.0, 2.0, 2.0, 3.0)
        );
    }
}
