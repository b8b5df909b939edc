//! Loudness metering on the audio thread (ITU-R BS.1770-4, EBU R128, EBU Tech 3341/3342).
//!
//! The meter K-weights the signal (BS.1770-4 Annex 1, the filter coefficients for any rate as
//! libebur128 derives them), sums its energy over 10 ms sub-blocks, and builds every figure
//! from those sums: momentary loudness from the last 40 (400 ms), short-term from the last
//! 300 (3 s), the gating blocks of integrated loudness from 40 every 100 ms, and the
//! short-term values of the loudness range from 300 every second (libebur128's step). A
//! reading is a sum of 40 or 300 numbers instead of 19 200 or 144 000 squared samples, so
//! the momentary reading can be refreshed every 10 ms at no cost (Tech 3341 cases 13 and 14
//! need that: at 100 ms a 400 ms tone burst can read 0.45 LU low).
//!
//! Integrated loudness and loudness range are gated over histograms of 0.02 LU bins that also
//! keep each bin's energy, so their memory is fixed (no allocation after `new`, however long
//! the session) and the integrated value is the exact energy mean of the blocks above the gate
//! (only blocks within 0.01 LU of the relative gate can fall on the wrong side of it).
//!
//! The ebur128 crate, which Lathe used here before, stays the oracle: the tests check this
//! meter against it and against the EBU test cases, and the renderer measures its files with
//! it. Mono is measured as dual mono, the way a mono master plays on two speakers.

use super::true_peak::TruePeakMeter;

/// The loudness figures a mastering engineer reads, per ITU-R BS.1770-4 and EBU Tech
/// 3341/3342. `-inf` until there is audio to say (momentary and short-term read the silence
/// before the start as silence, as libebur128 does).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoudnessReading {
    pub momentary_lufs: f32,
    pub short_term_lufs: f32,
    /// The largest momentary and short-term readings since reset (EBU Tech 3341 §2.1).
    pub max_momentary_lufs: f32,
    pub max_short_term_lufs: f32,
    pub integrated_lufs: f32,
    /// Loudness range (EBU Tech 3342), LU.
    pub range_lu: f32,
    /// Largest true peak since reset (BS.1770-4 Annex 2), dBTP.
    pub true_peak_dbtp: f32,
    /// Peak-to-loudness ratio: true peak max minus integrated loudness, dB.
    pub plr_db: f32,
}

impl Default for LoudnessReading {
    fn default() -> Self {
        Self {
            momentary_lufs: f32::NEG_INFINITY,
            short_term_lufs: f32::NEG_INFINITY,
            max_momentary_lufs: f32::NEG_INFINITY,
            max_short_term_lufs: f32::NEG_INFINITY,
            integrated_lufs: f32::NEG_INFINITY,
            range_lu: 0.0,
            true_peak_dbtp: f32::NEG_INFINITY,
            plr_db: f32::NEG_INFINITY,
        }
    }
}

/// Sub-blocks in the momentary window (400 ms), the short-term window (3 s), between gating
/// blocks (100 ms) and between loudness-range values (1 s).
const MOMENTARY_SUB_BLOCKS: usize = 40;
const SHORT_TERM_SUB_BLOCKS: usize = 300;
const GATING_STEP_SUB_BLOCKS: u64 = 10;
const RANGE_STEP_SUB_BLOCKS: u64 = 100;

/// BS.1770-4: loudness = -0.691 + 10·log10(Σ G_i·z_i), with G = 1 for left and right.
fn energy_to_lufs(energy: f64) -> f64 {
    if energy > 0.0 {
        -0.691 + 10.0 * energy.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// The K-weighting filter: BS.1770-4's high-shelf pre-filter and RLB high-pass as one
/// fourth-order filter, with the coefficients for any sample rate derived as libebur128 does
/// (bilinear transform of the analog prototypes). Direct form II in f64 for the 38 Hz
/// high-pass; summed so the newest state enters last, which keeps one multiply and one
/// subtraction between a frame and the next.
#[derive(Debug, Clone)]
struct KWeighting {
    b: [f64; 5],
    a: [f64; 5],
    /// Per channel: w[n-1] … w[n-4].
    state: [[f64; 4]; 2],
}

impl KWeighting {
    #[allow(non_snake_case)]
    fn new(rate: f64) -> Self {
        use std::f64::consts::PI;
        let f0 = 1681.974450955533;
        let G = 3.999843853973347;
        let Q = 0.7071752369554196;
        let K = (PI * f0 / rate).tan();
        let Vh = 10f64.powf(G / 20.0);
        let Vb = Vh.powf(0.4996667741545416);
        let a0 = 1.0 + K / Q + K * K;
        let pb = [
            (Vh + Vb * K / Q + K * K) / a0,
            2.0 * (K * K - Vh) / a0,
            (Vh - Vb * K / Q + K * K) / a0,
        ];
        let pa = [1.0, 2.0 * (K * K - 1.0) / a0, (1.0 - K / Q + K * K) / a0];
        let f0 = 38.13547087602444;
        let Q = 0.5003270373238773;
        let K = (PI * f0 / rate).tan();
        let rb = [1.0, -2.0, 1.0];
        let ra = [
            1.0,
            2.0 * (K * K - 1.0) / (1.0 + K / Q + K * K),
            (1.0 - K / Q + K * K) / (1.0 + K / Q + K * K),
        ];
        // The product of the two second-order polynomials.
        let mul = |p: [f64; 3], r: [f64; 3]| {
            [
                p[0] * r[0],
                p[0] * r[1] + p[1] * r[0],
                p[0] * r[2] + p[1] * r[1] + p[2] * r[0],
                p[1] * r[2] + p[2] * r[1],
                p[2] * r[2],
            ]
        };
        Self {
            b: mul(pb, rb),
            a: mul(pa, ra),
            state: [[0.0; 4]; 2],
        }
    }

    fn reset(&mut self) {
        self.state = [[0.0; 4]; 2];
    }

    /// Filters one sample of channel `c` and returns the weighted sample.
    #[inline(always)]
    fn step(&mut self, c: usize, x: f32) -> f64 {
        let (a, b, s) = (&self.a, &self.b, &mut self.state[c]);
        let w = (x as f64 - a[4] * s[3] - a[3] * s[2] - a[2] * s[1]) - a[1] * s[0];
        let y = b[0] * w + b[1] * s[0] + b[2] * s[1] + b[3] * s[2] + b[4] * s[3];
        *s = [w, s[0], s[1], s[2]];
        y
    }

    /// Keeps decaying states out of the subnormal range (slow on x86) once the input stops.
    fn flush_state(&mut self) {
        for s in self.state.iter_mut().flatten() {
            if s.abs() < 1e-30 {
                *s = 0.0;
            }
        }
    }
}

/// Loudness from -70 LUFS (the absolute gate of BS.1770-4 and Tech 3342) to +30 LUFS (a
/// block louder than that lands in the top bin), in 0.02 LU bins.
const BIN_LU: f64 = 0.02;
const LOWEST_LUFS: f64 = -70.0;
const BINS: usize = 5000;

/// Gated blocks by loudness: how many fell in each bin and their summed energy.
#[derive(Debug, Clone)]
struct GateHistogram {
    count: Vec<u32>,
    energy: Vec<f64>,
    total_count: u64,
    total_energy: f64,
}

impl GateHistogram {
    fn new() -> Self {
        Self {
            count: vec![0; BINS],
            energy: vec![0.0; BINS],
            total_count: 0,
            total_energy: 0.0,
        }
    }

    fn reset(&mut self) {
        self.count.fill(0);
        self.energy.fill(0.0);
        self.total_count = 0;
        self.total_energy = 0.0;
    }

    fn bin(lufs: f64) -> usize {
        (((lufs - LOWEST_LUFS) / BIN_LU) as usize).min(BINS - 1)
    }

    fn bin_centre_lufs(bin: usize) -> f64 {
        LOWEST_LUFS + (bin as f64 + 0.5) * BIN_LU
    }

    /// Adds a block of mean energy `energy` if it passes the absolute gate (-70 LUFS).
    fn add(&mut self, energy: f64) {
        let lufs = energy_to_lufs(energy);
        if lufs.is_nan() || lufs < LOWEST_LUFS {
            return;
        }
        let bin = Self::bin(lufs);
        self.count[bin] += 1;
        self.energy[bin] += energy;
        self.total_count += 1;
        self.total_energy += energy;
    }

    /// The first bin at or above a relative gate `gate_lu` (negative) under the mean energy
    /// of every block above the absolute gate; `None` with no such block.
    fn relative_gate_bin(&self, gate_lu: f64) -> Option<usize> {
        if self.total_count == 0 {
            return None;
        }
        let mean = self.total_energy / self.total_count as f64;
        let gate = energy_to_lufs(mean) + gate_lu;
        // A bin counts as above the gate when its centre is.
        let from = ((gate - LOWEST_LUFS) / BIN_LU - 0.5).ceil();
        Some(from.clamp(0.0, BINS as f64) as usize)
    }

    /// Integrated loudness (BS.1770-4 §2.8): the mean energy of the blocks above the absolute
    /// gate and above the relative gate 10 LU under their mean.
    fn integrated_lufs(&self) -> f64 {
        let Some(from) = self.relative_gate_bin(-10.0) else {
            return f64::NEG_INFINITY;
        };
        let count: u64 = self.count[from..].iter().map(|&c| c as u64).sum();
        let energy: f64 = self.energy[from..].iter().sum();
        if count == 0 {
            f64::NEG_INFINITY
        } else {
            energy_to_lufs(energy / count as f64)
        }
    }

    /// Loudness range (EBU Tech 3342): the 95th minus the 10th percentile of the short-term
    /// values above the absolute gate and above the relative gate 20 LU under their mean,
    /// ranks rounded as libebur128 rounds them.
    fn range_lu(&self) -> f64 {
        let Some(from) = self.relative_gate_bin(-20.0) else {
            return 0.0;
        };
        let size: u64 = self.count[from..].iter().map(|&c| c as u64).sum();
        if size == 0 {
            return 0.0;
        }
        let rank = |p: f64| ((size - 1) as f64 * p + 0.5) as u64;
        let (low, high) = (rank(0.1), rank(0.95));
        let (mut low_lufs, mut high_lufs) = (f64::NAN, f64::NAN);
        let mut seen = 0u64;
        for (bin, &c) in self.count.iter().enumerate().skip(from) {
            let next = seen + c as u64;
            if low >= seen && low < next {
                low_lufs = Self::bin_centre_lufs(bin);
            }
            if high >= seen && high < next {
                high_lufs = Self::bin_centre_lufs(bin);
                break;
            }
            seen = next;
        }
        high_lufs - low_lufs
    }
}

pub struct LoudnessMeter {
    filter: KWeighting,
    sub_block_frames: usize,
    /// Energy of the sub-block being filled, per channel (two sums, so neither waits for
    /// the other), and how many frames it holds.
    partial: [f64; 2],
    partial_frames: usize,
    /// Energy sums of the last 300 sub-blocks, a ring; `sub_blocks` counts them since reset.
    ring: Vec<f64>,
    sub_blocks: u64,
    gating: GateHistogram,
    range: GateHistogram,
    true_peak: Option<TruePeakMeter>,
    /// The largest true peak reported with `note_true_peak`, linear.
    noted_true_peak: f32,
    reading: LoudnessReading,
}

impl std::fmt::Debug for LoudnessMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoudnessMeter").finish_non_exhaustive()
    }
}

impl LoudnessMeter {
    /// A meter that measures true peak itself (with Lathe's detector, 8x or 4x oversampled).
    /// `None` for a sample rate outside 1 kHz to 2.8 MHz.
    pub fn new(sample_rate: f32) -> Option<Self> {
        Self::build(sample_rate, true)
    }

    /// A meter whose true peak comes from elsewhere ([`Self::note_true_peak`]): the chain's
    /// output meter takes it from the limiter's detector, which has already oversampled the
    /// signal, rather than paying for it twice.
    pub fn without_true_peak(sample_rate: f32) -> Option<Self> {
        Self::build(sample_rate, false)
    }

    fn build(sample_rate: f32, true_peak: bool) -> Option<Self> {
        if !(1_000.0..=2_800_000.0).contains(&sample_rate) {
            return None;
        }
        Some(Self {
            filter: KWeighting::new(sample_rate as f64),
            sub_block_frames: (sample_rate as f64 / 100.0).round() as usize,
            partial: [0.0; 2],
            partial_frames: 0,
            ring: vec![0.0; SHORT_TERM_SUB_BLOCKS],
            sub_blocks: 0,
            gating: GateHistogram::new(),
            range: GateHistogram::new(),
            true_peak: true_peak.then(|| TruePeakMeter::new(sample_rate, 2)),
            noted_true_peak: 0.0,
            reading: LoudnessReading::default(),
        })
    }

    pub fn reset(&mut self) {
        self.filter.reset();
        self.partial = [0.0; 2];
        self.partial_frames = 0;
        self.ring.fill(0.0);
        self.sub_blocks = 0;
        self.gating.reset();
        self.range.reset();
        if let Some(tp) = &mut self.true_peak {
            tp.reset();
        }
        self.noted_true_peak = 0.0;
        self.reading = LoudnessReading::default();
    }

    /// Reports a true peak measured elsewhere (linear); the meter keeps the largest.
    pub fn note_true_peak(&mut self, peak: f32) {
        self.noted_true_peak = self.noted_true_peak.max(peak);
    }

    /// Largest true peak since reset, linear.
    pub fn true_peak(&self) -> f32 {
        let own = self.true_peak.as_ref().map_or(0.0, |tp| tp.peak());
        own.max(self.noted_true_peak)
    }

    pub fn add(&mut self, channels: &[&mut [f32]]) {
        let frames = channels.first().map_or(0, |c| c.len());
        let mut start = 0;
        while start < frames {
            let n = (self.sub_block_frames - self.partial_frames).min(frames - start);
            match channels {
                [mono] => {
                    let mut e = 0.0;
                    for &x in &mono[start..start + n] {
                        let y = self.filter.step(0, x);
                        e += y * y;
                    }
                    // Dual mono: the same signal on both channels.
                    self.partial[0] += 2.0 * e;
                }
                [left, right, ..] => {
                    let (mut el, mut er) = (0.0, 0.0);
                    for (&l, &r) in left[start..start + n].iter().zip(&right[start..start + n]) {
                        let yl = self.filter.step(0, l);
                        let yr = self.filter.step(1, r);
                        el += yl * yl;
                        er += yr * yr;
                    }
                    self.partial[0] += el;
                    self.partial[1] += er;
                }
                [] => {}
            }
            self.partial_frames += n;
            start += n;
            if self.partial_frames == self.sub_block_frames {
                self.end_sub_block();
            }
        }
        self.filter.flush_state();
        if let Some(tp) = &mut self.true_peak {
            tp.add(channels);
        }
    }

    /// Mean energy of the last `sub_blocks` sub-blocks (silence before the start).
    fn window_energy(&self, sub_blocks: usize) -> f64 {
        let len = self.ring.len();
        let newest = (self.sub_blocks as usize + len - 1) % len;
        let sum: f64 = (0..sub_blocks)
            .map(|k| self.ring[(newest + len - k) % len])
            .sum();
        sum / (sub_blocks * self.sub_block_frames) as f64
    }

    /// A sub-block is complete: store it, refresh the momentary reading, and every 100 ms the
    /// rest (the gating block, the short-term reading, every second a loudness-range value).
    fn end_sub_block(&mut self) {
        let slot = self.sub_blocks as usize % self.ring.len();
        self.ring[slot] = self.partial[0] + self.partial[1];
        self.partial = [0.0; 2];
        self.partial_frames = 0;
        self.sub_blocks += 1;
        let m = energy_to_lufs(self.window_energy(MOMENTARY_SUB_BLOCKS)) as f32;
        self.reading.momentary_lufs = m;
        self.reading.max_momentary_lufs = self.reading.max_momentary_lufs.max(m);
        if !self.sub_blocks.is_multiple_of(GATING_STEP_SUB_BLOCKS) {
            return;
        }
        // BS.1770-4 §2.8: 400 ms gating blocks overlapping by 75 %, the first 400 ms in.
        if self.sub_blocks >= MOMENTARY_SUB_BLOCKS as u64 {
            self.gating.add(self.window_energy(MOMENTARY_SUB_BLOCKS));
        }
        // Tech 3342 via libebur128: a short-term value every second, the first 3 s in.
        let s_blocks = SHORT_TERM_SUB_BLOCKS as u64;
        if self.sub_blocks >= s_blocks
            && (self.sub_blocks - s_blocks).is_multiple_of(RANGE_STEP_SUB_BLOCKS)
        {
            self.range.add(self.window_energy(SHORT_TERM_SUB_BLOCKS));
        }
        self.take_reading();
    }

    /// Reads every figure now: momentary and short-term as of the last whole 10 ms, the rest
    /// from every block so far (the renderer calls this at the end of a file).
    pub fn take_reading(&mut self) {
        let momentary_lufs = if self.sub_blocks > 0 {
            energy_to_lufs(self.window_energy(MOMENTARY_SUB_BLOCKS)) as f32
        } else {
            f32::NEG_INFINITY
        };
        let short_term_lufs = if self.sub_blocks > 0 {
            energy_to_lufs(self.window_energy(SHORT_TERM_SUB_BLOCKS)) as f32
        } else {
            f32::NEG_INFINITY
        };
        let peak = self.true_peak();
        let true_peak_dbtp = if peak > 0.0 {
            20.0 * peak.log10()
        } else {
            f32::NEG_INFINITY
        };
        let integrated_lufs = self.gating.integrated_lufs() as f32;
        self.reading = LoudnessReading {
            momentary_lufs,
            short_term_lufs,
            max_momentary_lufs: self.reading.max_momentary_lufs.max(momentary_lufs),
            max_short_term_lufs: self.reading.max_short_term_lufs.max(short_term_lufs),
            integrated_lufs,
            range_lu: self.range.range_lu() as f32,
            true_peak_dbtp,
            plr_db: true_peak_dbtp - integrated_lufs,
        };
    }

    pub fn reading(&self) -> LoudnessReading {
        self.reading
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lufs_to_energy(lufs: f64) -> f64 {
        10f64.powf((lufs + 0.691) / 10.0)
    }

    #[test]
    fn k_weighting_matches_bs_1770_at_48_khz() {
        // BS.1770-4 Annex 1 tables 1 and 2, the coefficients at 48 kHz, multiplied out.
        let k = KWeighting::new(48_000.0);
        let pre_b = [1.53512485958697, -2.69169618940638, 1.19839281085285];
        let pre_a = [1.0, -1.69065929318241, 0.73248077421585];
        let rlb_a = [1.0, -1.99004745483398, 0.99007225036621];
        let b = [
            pre_b[0],
            pre_b[1] - 2.0 * pre_b[0],
            pre_b[2] - 2.0 * pre_b[1] + pre_b[0],
            pre_b[1] - 2.0 * pre_b[2],
            pre_b[2],
        ];
        let a = [
            1.0,
            pre_a[1] + rlb_a[1],
            pre_a[2] + pre_a[1] * rlb_a[1] + rlb_a[2],
            pre_a[1] * rlb_a[2] + pre_a[2] * rlb_a[1],
            pre_a[2] * rlb_a[2],
        ];
        for i in 0..5 {
            assert!((k.b[i] - b[i]).abs() < 1e-6, "b{i}: {} vs {}", k.b[i], b[i]);
            assert!((k.a[i] - a[i]).abs() < 1e-6, "a{i}: {} vs {}", k.a[i], a[i]);
        }
    }

    #[test]
    fn histogram_gates_and_ranks() {
        let mut h = GateHistogram::new();
        // Below the absolute gate: ignored.
        h.add(lufs_to_energy(-75.0));
        assert_eq!(h.integrated_lufs(), f64::NEG_INFINITY);
        for _ in 0..10 {
            h.add(lufs_to_energy(-20.0));
        }
        // 11 LU under the mean: under the relative gate.
        h.add(lufs_to_energy(-31.0));
        assert!((h.integrated_lufs() + 20.0).abs() < 1e-9);
        let mut r = GateHistogram::new();
        for k in 0..100 {
            r.add(lufs_to_energy(-30.0 + 0.1 * k as f64));
        }
        // Ranks 10 and 94 of 0..99: -29.0 and -20.6 LUFS, to a bin.
        assert!((r.range_lu() - 8.4).abs() <= BIN_LU, "{}", r.range_lu());
    }
}
