//! The Learn mode's model of the program: what the chain's output loudness would be at any
//! fixed drive, from what was measured while the drive was moving.
//!
//! **Records.** Every 100 ms the learner stores one record for the 400 ms gating block that
//! just ended (ITU-R BS.1770-4: 400 ms blocks, 75 % overlap): the block's K-weighted output
//! energy and the drive `g` it was measured at, its level with [`PROBE_DB`] less and more
//! drive (from the shadow limiters), and two statistics of the limiter's gain reduction
//! over it (the mean depth, and the mean of each sample's depth over the depth of the peak it
//! releases from), plus its peak's headroom under the limiter's threshold.
//!
//! **A block's level at another drive `G`** (Δ = G − g):
//! - |Δ| ≤ 2 dB: the quadratic through the three measured levels. Measured, not modelled:
//!   this is what makes the result independent of the path the drive took while learning.
//! - beyond: continued from the measured end with the *depth model*. A limiter's reduction
//!   follows the peaks it is pulled down by: with Δ more drive, a peak's reduction grows by
//!   Δ and the release hanging from it scales with it, so a sample at relative depth `s`
//!   (its depth over its peak's) comes out `Δ·(1 − s)` louder. With less drive the reduction
//!   shrinks the same way until the peaks are under the threshold (Δ = −mean depth/mean
//!   relative depth), and the block then follows the drive fully. A block the limiter left
//!   alone follows the drive up to its headroom, then at the slope the limited blocks showed
//!   on average (the proportional model's "relative depth" of a block just starting to be
//!   limited is not known until it is).
//!
//! The depth model is only the extrapolation: on real music it is within ~0.1 LU per dB near
//! the drive it was measured at and drifts further out (it misses release tails merging under
//! heavier limiting), which matters only for blocks measured far from the final drive: the
//! first seconds of a first pass.
//!
//! **Integrated loudness** of the predicted blocks follows BS.1770-4 exactly: the absolute
//! gate at −70 LUFS, the relative gate 10 LU under the mean of the blocks above it, the mean
//! energy of what is left, `−0.691 + 10·log10(mean)`.
//!
//! Nothing here allocates after [`BlockModel::with_capacity`].

use super::probe::PROBE_DB;

/// The BS.1770 offset between mean square energy and LUFS.
pub const LUFS_OFFSET: f64 = -0.691;
/// Absolute gate, LUFS (BS.1770-4).
pub const ABSOLUTE_GATE_LUFS: f64 = -70.0;
/// Relative gate, LU under the absolutely gated loudness (BS.1770-4).
pub const RELATIVE_GATE_LU: f64 = -10.0;

/// LUFS of a mean square energy.
#[inline]
pub fn energy_to_lufs(energy: f64) -> f64 {
    if energy > 0.0 {
        LUFS_OFFSET + 10.0 * energy.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// Mean square energy of a LUFS value.
#[inline]
pub fn lufs_to_energy(lufs: f64) -> f64 {
    if lufs.is_finite() {
        10f64.powf((lufs - LUFS_OFFSET) / 10.0)
    } else {
        0.0
    }
}

/// What one 400 ms block measured (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockMeasurement {
    /// K-weighted mean square of the limiter's output over the drive, `u = y/g`.
    pub unit_energy: f64,
    /// The drive applied to the block, dB.
    pub drive_db: f64,
    /// The block's output level with [`PROBE_DB`] less and more drive, relative to its level
    /// at `drive_db`, dB (measured by the shadow limiters).
    pub lower_db: f64,
    pub upper_db: f64,
    /// The limiter's gain reduction, dB, averaged over the block weighted by output energy
    /// (0 where it did nothing).
    pub mean_depth_db: f64,
    /// Each sample's reduction over the reduction at the peak it releases from (1 at a peak,
    /// toward 0 along the release), averaged the same way; 0 if the limiter did nothing.
    pub mean_relative_depth: f64,
    /// For a block the limiter left alone: how far its peak was under the limiter's
    /// threshold, dB (≥ 0).
    pub headroom_db: f64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Record {
    /// Output energy at the drive it was measured with: `Eu·10^(g/10)`.
    energy: f32,
    drive_db: f32,
    /// Level change at −/+ [`PROBE_DB`] of drive, dB.
    lower_db: f32,
    upper_db: f32,
    mean_depth_db: f32,
    /// The drive reduction that releases the block fully (> 0), or minus the headroom
    /// (≤ 0) of an unlimited block.
    excess_db: f32,
}

impl Record {
    /// The block's level change in dB, and its slope, at `delta` dB more drive than it was
    /// measured with: the quadratic through the three measured levels within ±[`PROBE_DB`],
    /// the depth model's shape beyond, continued from the measured end.
    #[inline]
    fn change(&self, delta: f32, unlimited_slope: f32) -> (f32, f32) {
        const P: f32 = PROBE_DB;
        let (a, b) = (self.lower_db, self.upper_db);
        if delta.abs() <= P {
            // Through (−P, a), (0, 0), (P, b).
            let lin = (b - a) / (2.0 * P);
            let quad = (a + b) / (2.0 * P * P);
            (delta * (lin + quad * delta), lin + 2.0 * quad * delta)
        } else {
            let end = P.copysign(delta);
            let from = if delta > 0.0 { b } else { a };
            let (far, slope) = self.modelled(delta, unlimited_slope);
            (from + far - self.modelled(end, unlimited_slope).0, slope)
        }
    }

    /// The depth model (see the module docs): the level change at `delta` and its slope.
    #[inline]
    fn modelled(&self, delta: f32, unlimited_slope: f32) -> (f32, f32) {
        let x = self.excess_db;
        if x > 0.0 {
            if delta >= -x {
                let slope = 1.0 - self.mean_depth_db / x;
                (delta * slope, slope)
            } else {
                (delta + self.mean_depth_db, 1.0)
            }
        } else if delta <= -x {
            (delta, 1.0)
        } else {
            (-x + (delta + x) * unlimited_slope, unlimited_slope)
        }
    }
}

/// A predicted integrated loudness and its slope with respect to the drive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// Integrated loudness of the limiter's output at the drive asked about, LUFS.
    pub lufs: f64,
    /// d(lufs)/d(drive), LU per dB: 1 with no limiting, toward 0 under heavy limiting.
    pub slope: f64,
}

#[derive(Debug, Clone)]
pub struct BlockModel {
    records: Vec<Record>,
    /// Σ weight·(1 − depth/excess) and Σ weight over the limited records: how a block's
    /// level follows the drive once the limiter works on it, on average.
    limited_slope_sum: f64,
    limited_weight: f64,
}

/// The slope assumed for a block once the limiter starts on it, before any block has been
/// seen limited: half of the extra drive comes through (a moderately dense master).
pub const DEFAULT_LIMITED_SLOPE: f32 = 0.5;

impl BlockModel {
    /// Room for `capacity` records (one per 100 ms of program).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            records: Vec::with_capacity(capacity),
            limited_slope_sum: 0.0,
            limited_weight: 0.0,
        }
    }

    pub fn clear(&mut self) {
        self.records.clear();
        self.limited_slope_sum = 0.0;
        self.limited_weight = 0.0;
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.records.len() == self.records.capacity()
    }

    /// Adds a block. Returns false (and stores nothing) when full or when the measurement
    /// is not finite (only pathological input can make it so).
    pub fn push(&mut self, m: &BlockMeasurement) -> bool {
        if self.is_full() {
            return false;
        }
        let energy = m.unit_energy.max(0.0) * 10f64.powf(m.drive_db / 10.0);
        let relative = m.mean_relative_depth.clamp(0.0, 1.0);
        let limited = relative > 0.0 && m.mean_depth_db > 0.0;
        // More drive never makes a block quieter, nor louder by more than itself.
        let p = PROBE_DB as f64;
        let rec = Record {
            energy: energy as f32,
            drive_db: m.drive_db as f32,
            lower_db: m.lower_db.clamp(-p, 0.0) as f32,
            upper_db: m.upper_db.clamp(0.0, p) as f32,
            mean_depth_db: m.mean_depth_db.max(0.0) as f32,
            // The drive change that releases the block fully: its mean depth over its mean
            // relative depth (the depth of the peaks it hangs from).
            excess_db: if limited {
                (m.mean_depth_db / relative) as f32
            } else {
                -m.headroom_db.max(0.0) as f32
            },
        };
        let finite = [
            rec.energy,
            rec.drive_db,
            rec.lower_db,
            rec.upper_db,
            rec.mean_depth_db,
            rec.excess_db,
        ]
        .iter()
        .all(|v| v.is_finite());
        if !finite {
            return false;
        }
        if limited && energy > 0.0 {
            let slope = 1.0 - rec.mean_depth_db as f64 / rec.excess_db as f64;
            self.limited_slope_sum += energy * slope;
            self.limited_weight += energy;
        }
        self.records.push(rec);
        true
    }

    /// How a block's level follows extra drive once the limiter starts on it.
    fn unlimited_slope(&self) -> f32 {
        if self.limited_weight > 0.0 {
            (self.limited_slope_sum / self.limited_weight) as f32
        } else {
            DEFAULT_LIMITED_SLOPE
        }
    }

    /// The gated integrated loudness of the limiter's output at a fixed drive of `drive_db`,
    /// with the absolute gate applied `offset_db` later (the output gain after the limiter:
    /// the gate acts on what leaves the chain). `None` with no block above the gates.
    pub fn predict(&self, drive_db: f64, offset_db: f64) -> Option<Prediction> {
        let unlimited_slope = self.unlimited_slope();
        let blocks = self.records.iter().map(|rec| {
            let delta = (drive_db - rec.drive_db as f64) as f32;
            let (change, slope) = rec.change(delta, unlimited_slope);
            let e = rec.energy * (change * (std::f32::consts::LN_10 / 10.0)).exp();
            (e as f64, slope)
        });
        // Two passes over the blocks (BS.1770-4's two gates); the second recomputes the
        // energies rather than keeping them, so a prediction needs no buffer.
        let absolute = lufs_to_energy(ABSOLUTE_GATE_LUFS - offset_db);
        let (mut sum, mut count) = (0.0f64, 0usize);
        for (e, _) in blocks.clone() {
            if e > absolute {
                sum += e;
                count += 1;
            }
        }
        if count == 0 {
            return None;
        }
        let relative = sum / count as f64 * 10f64.powf(RELATIVE_GATE_LU / 10.0);
        let gate = absolute.max(relative);
        let (mut sum, mut count, mut d_sum) = (0.0f64, 0usize, 0.0f64);
        for (e, slope) in blocks {
            if e > gate {
                sum += e;
                count += 1;
                d_sum += e * slope as f64;
            }
        }
        if count == 0 || sum <= 0.0 {
            return None;
        }
        Some(Prediction {
            lufs: energy_to_lufs(sum / count as f64),
            slope: d_sum / sum,
        })
    }

    /// The drive, in `lo_db..=hi_db`, at which the predicted loudness (plus `offset_db`) is
    /// `target_lufs`, starting the search at `start_db`. Returns the drive and whether the
    /// target is reachable in the range (if not, the end of the range nearest to it).
    /// Safeguarded Newton (the slope comes with each prediction; bisection when a step
    /// leaves the bracket), so a solve costs a handful of passes over the records.
    pub fn solve(
        &self,
        target_lufs: f64,
        offset_db: f64,
        lo_db: f64,
        hi_db: f64,
        start_db: f64,
    ) -> Option<(f64, bool)> {
        let f = |g: f64| {
            self.predict(g, offset_db)
                .map(|p| (p.lufs + offset_db - target_lufs, p.slope))
        };
        let (f_hi, _) = f(hi_db)?;
        if f_hi < 0.0 {
            return Some((hi_db, false));
        }
        // Everything under the absolute gate at the lowest drive: "too quiet" there.
        let (f_lo, _) = f(lo_db).unwrap_or((f64::NEG_INFINITY, 0.0));
        if f_lo > 0.0 {
            return Some((lo_db, false));
        }
        let (mut lo, mut hi) = (lo_db, hi_db);
        let mut g = start_db.clamp(lo, hi);
        for _ in 0..40 {
            let Some((y, slope)) = f(g) else {
                lo = g;
                g = 0.5 * (lo + hi);
                continue;
            };
            if y.abs() < 1e-4 {
                break;
            }
            if y < 0.0 {
                lo = g;
            } else {
                hi = g;
            }
            let newton = g - y / slope.max(1e-3);
            g = if newton > lo && newton < hi {
                newton
            } else {
                0.5 * (lo + hi)
            };
            if hi - lo < 1e-5 {
                break;
            }
        }
        Some((g, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block at `lufs` measured at `drive_db`, with its shadows' level changes and its
    /// depth statistics.
    fn block(
        lufs: f64,
        drive_db: f64,
        shadows: (f64, f64),
        depth: (f64, f64, f64),
    ) -> BlockMeasurement {
        BlockMeasurement {
            unit_energy: lufs_to_energy(lufs),
            drive_db,
            lower_db: shadows.0,
            upper_db: shadows.1,
            mean_depth_db: depth.0,
            mean_relative_depth: depth.1,
            headroom_db: depth.2,
        }
    }

    const P: f64 = PROBE_DB as f64;
    const UNLIMITED: (f64, f64) = (-P, P);
    const FAR_FROM_LIMITING: (f64, f64, f64) = (0.0, 0.0, 30.0);

    #[test]
    fn unlimited_blocks_scale_with_the_drive_and_gate_like_bs1770() {
        let mut m = BlockModel::with_capacity(16);
        for _ in 0..4 {
            m.push(&block(-20.0, 0.0, UNLIMITED, FAR_FROM_LIMITING));
        }
        // Two blocks 20 LU down: under the relative gate, they do not count.
        m.push(&block(-40.0, 0.0, UNLIMITED, FAR_FROM_LIMITING));
        m.push(&block(-40.0, 0.0, UNLIMITED, FAR_FROM_LIMITING));
        let p = m.predict(6.0, 0.0).unwrap();
        assert!((p.lufs + 14.0).abs() < 1e-5, "{p:?}");
        assert!((p.slope - 1.0).abs() < 1e-6);
        let (g, ok) = m.solve(-23.0, 0.0, -30.0, 30.0, 0.0).unwrap();
        assert!(ok && (g + 3.0).abs() < 1e-3, "{g}");
        // The absolute gate acts on the output: 31 dB less drive and 20 dB of output cut
        // put every block under -70 LUFS.
        assert!(m.predict(-31.0, -20.0).is_none());
        assert!(m.predict(-29.0, -20.0).is_some());
    }

    #[test]
    fn within_the_probes_the_shadows_decide() {
        let mut m = BlockModel::with_capacity(4);
        // At 6 dB of drive: 1.5 dB quieter with 2 dB less, 0.5 dB louder with 2 dB more.
        m.push(&block(-20.0, 6.0, (-1.5, 0.5), (1.0, 0.5, 0.0)));
        let at = |g: f64| m.predict(g, 0.0).unwrap();
        assert!((at(6.0).lufs + 14.0).abs() < 1e-5);
        assert!((at(4.0).lufs + 15.5).abs() < 1e-5, "{:?}", at(4.0));
        assert!((at(8.0).lufs + 13.5).abs() < 1e-5, "{:?}", at(8.0));
        // In between, the quadratic through the three: slope 0.5 at the middle, falling.
        assert!((at(6.0).slope - 0.5).abs() < 1e-5, "{:?}", at(6.0));
        assert!(at(7.0).slope < 0.5 && at(5.0).slope > 0.5);
    }

    #[test]
    fn beyond_the_probes_the_depth_model_continues() {
        let mut m = BlockModel::with_capacity(4);
        // Reduced by 2 dB on average, at half the depth of its peaks: the model's slope is
        // 0.5 above, and 4 dB less drive releases it.
        m.push(&block(-20.0, 6.0, (-1.0, 1.0), (2.0, 0.5, 0.0)));
        let at = |g: f64| m.predict(g, 0.0).unwrap();
        assert!((at(10.0).lufs + 12.0).abs() < 1e-5, "{:?}", at(10.0));
        assert!((at(10.0).slope - 0.5).abs() < 1e-6);
        // Below: the model's 0.5 dB per dB down to -4 dB, then 1.
        assert!((at(2.0).lufs + 16.0).abs() < 1e-5, "{:?}", at(2.0));
        assert!((at(0.0).lufs + 18.0).abs() < 1e-5, "{:?}", at(0.0));
    }

    #[test]
    fn an_unlimited_block_starts_limiting_beyond_its_headroom() {
        let mut m = BlockModel::with_capacity(4);
        m.push(&block(-20.0, 0.0, UNLIMITED, (0.0, 0.0, 3.0)));
        // No limited block seen yet: the default slope above the 3 dB of headroom.
        let p = m.predict(5.0, 0.0).unwrap();
        let want = -20.0 + 3.0 + 2.0 * DEFAULT_LIMITED_SLOPE as f64;
        assert!((p.lufs - want).abs() < 1e-4, "{p:?}");
        // A limited block teaches the slope (here 1 - 3/4 = 0.25).
        m.push(&block(-60.0, 0.0, UNLIMITED, (3.0, 0.75, 0.0)));
        let p = m.predict(5.0, 0.0).unwrap();
        assert!((p.lufs - (-20.0 + 3.0 + 0.5)).abs() < 1e-4, "{p:?}");
    }

    #[test]
    fn unreachable_targets_return_the_nearest_end() {
        let mut m = BlockModel::with_capacity(4);
        m.push(&block(-20.0, 0.0, (-P, 0.0), (2.0, 1.0, 0.0)));
        let (g, ok) = m.solve(-3.0, 0.0, -10.0, 10.0, 0.0).unwrap();
        assert!(!ok && g == 10.0);
        let (g, ok) = m.solve(-60.0, 0.0, -10.0, 10.0, 0.0).unwrap();
        assert!(!ok && g == -10.0);
    }

    #[test]
    fn measurements_that_are_not_finite_are_refused() {
        let mut m = BlockModel::with_capacity(4);
        assert!(!m.push(&block(-20.0, f64::NAN, UNLIMITED, FAR_FROM_LIMITING)));
        assert!(m.is_empty());
    }
}
