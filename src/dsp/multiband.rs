//! Multiband compressor: three Linkwitz–Riley crossovers with phase compensation, a
//! compressor per band, stereo-linked or mid/side.
//!
//! Signal flow per frame: L/R → mid/side → crossover tree (`crossover.rs`) → four bands ×
//! (mid, side) → per-band gain (`compressor.rs`) → sum → L/R. The tree always runs on
//! mid/side: it is linear, so linked compression (the same gain on M and S) is the same as
//! the same gain on L and R, and switching between linked and mid/side needs no second set
//! of filters and cannot click.
//!
//! Contracts (DESIGN.md): no allocation in `process` (there is no heap state at all); no
//! latency (IIR only); block-size invariant (every smoother, ramp and coefficient update is
//! stepped per sample or at control points counted from `reset`); disabled, the stage returns
//! before touching the audio, so it is bit-transparent and costs nothing; enabled with every
//! band neutral, the output is the crossovers' allpass sum (flat magnitude); switching on or
//! off crossfades over [`ENABLE_FADE_MS`].
//!
//! Cost (`cargo bench --bench multiband`, stereo, 48 kHz, every band compressing): about
//! 25 ns per frame on the project's build machine, most of it in the crossover tree;
//! disabled, one comparison per block.

mod compressor;
pub(crate) mod crossover;
mod settings;
pub(crate) mod simd;

pub use settings::{
    BandSettings, Detection, MultibandSettings, StereoMode, AMOUNT_PCT, BAND_ATTACK_MS,
    BAND_KNEE_DB, BAND_MAKEUP_DB, BAND_RATIO, BAND_RELEASE_MS, BAND_THRESHOLD_DB, CROSSOVERS_HZ,
    CROSSOVER_HIGH_HZ, CROSSOVER_LOW_HZ, CROSSOVER_MID_HZ, MIN_CROSSOVER_SPACING_OCTAVES,
};

use compressor::{Ballistics, Group, Targets};
use crossover::{Crossover, CrossoverCoeffs, STATE_FLUSH};
use simd::F4;

/// Time constant of the RMS detector's mean square (one pole), ms.
pub const RMS_TIME_CONSTANT_MS: f32 = 10.0;
/// Time constant of the parameter glides (threshold, ratio, knee, makeup, bypass, solo,
/// stereo mode, detection, crossover frequencies), ms. Same as the chain's gain smoothing.
pub const SMOOTHING_MS: f32 = 10.0;
/// Length of the linear crossfade when the stage is switched on or off, ms.
pub const ENABLE_FADE_MS: f32 = 10.0;

/// Samples between two control points at `sample_rate`: 8 at 44.1/48 kHz, doubling with
/// the rate, so the control period stays near 0.17 ms.
pub fn control_period(sample_rate: f32) -> usize {
    let octaves = (sample_rate / 48_000.0).log2().round().clamp(-2.0, 3.0) as i32;
    8usize << (octaves + 2) >> 2
}

/// Which band each lane of the two 4-lane groups carries: group 0 holds bands 1 and 3,
/// group 1 bands 2 and 4 (mid and side of each), as the crossover produces them.
const GROUP_BANDS: [[usize; 2]; 2] = [[0, 2], [1, 3]];

#[derive(Debug, Clone)]
pub struct Multiband {
    sample_rate: f32,
    max_channels: usize,
    period: usize,
    inv_period: f32,
    /// Position within the control period, counted from `reset`.
    phase: usize,
    glide_coeff: f32,
    rms_coeff: f32,
    fade_len: u32,
    inv_fade_len: f32,
    /// Crossfade position, 0 (dry) ..= `fade_len` (wet).
    fade: u32,
    /// False until the first block after `reset`, whose settings are taken at once.
    primed: bool,
    /// True while filter and detector state is live; false once fully faded out.
    running: bool,
    /// The settings the targets below were derived from.
    cached: Option<MultibandSettings>,
    targets: [Targets; 2],
    ballistics: [Ballistics; 2],
    xover_target: [f32; 3],
    /// Crossover frequencies now (log2 Hz, gliding).
    xover_log2: [f32; 3],
    /// Every glide has landed.
    settled: bool,
    coeffs: CrossoverCoeffs,
    xover: Crossover,
    groups: [Group; 2],
    gr_prev: [f32; 4],
    gr_cur: [f32; 4],
    gr_block: [f32; 4],
}

impl Multiband {
    /// A stage for `sample_rate` and up to `max_channels` channels (1 or 2; further
    /// channels pass untouched). All state is inline: nothing is allocated, here or later.
    pub fn new(sample_rate: f32, max_channels: usize) -> Self {
        let period = control_period(sample_rate);
        let fade_len = ((ENABLE_FADE_MS * 0.001 * sample_rate).round() as u32).max(1);
        let defaults = MultibandSettings::default();
        let mut mb = Self {
            sample_rate,
            max_channels: max_channels.clamp(1, 2),
            period,
            inv_period: 1.0 / period as f32,
            phase: 0,
            glide_coeff: 1.0
                - (-(period as f64) / (SMOOTHING_MS as f64 * 1e-3 * sample_rate as f64)).exp()
                    as f32,
            rms_coeff: 1.0
                - (-(period as f64) / (RMS_TIME_CONSTANT_MS as f64 * 1e-3 * sample_rate as f64))
                    .exp() as f32,
            fade_len,
            inv_fade_len: 1.0 / fade_len as f32,
            fade: 0,
            primed: false,
            running: false,
            cached: None,
            targets: [Targets::default(); 2],
            ballistics: [Ballistics::default(); 2],
            xover_target: [0.0; 3],
            xover_log2: [0.0; 3],
            settled: true,
            coeffs: CrossoverCoeffs::default(),
            xover: Crossover::default(),
            groups: [Group::default(); 2],
            gr_prev: [0.0; 4],
            gr_cur: [0.0; 4],
            gr_block: [0.0; 4],
        };
        mb.update_targets(&defaults);
        mb.start();
        mb.reset();
        mb
    }

    /// Back to the state after `new`: filters and detectors cleared, the control cadence
    /// restarted, and the next block's settings (including `enabled`) taken at once.
    pub fn reset(&mut self) {
        self.phase = 0;
        self.primed = false;
        self.running = false;
        self.gr_block = [0.0; 4];
    }

    pub fn latency_samples(&self) -> usize {
        0
    }

    /// Deepest gain reduction per band (band 1 lowest) during the last `process` call, dB,
    /// 0 or negative; the deeper of mid and side in mid/side mode. Resolution is the control
    /// period: the ramps between control points are linear in gain, so their ends are their
    /// extremes. All zero while the stage is off.
    pub fn gain_reduction_db(&self) -> [f32; 4] {
        self.gr_block
    }

    /// The control period in samples at this rate (see [`control_period`]).
    pub fn control_period(&self) -> usize {
        self.period
    }

    /// Derives the glide targets from `settings` when they changed. A pure function of the
    /// settings, so it does not matter at which block boundary it runs.
    fn update_targets(&mut self, settings: &MultibandSettings) {
        if self.cached.as_ref() == Some(settings) {
            return;
        }
        self.cached = Some(*settings);
        let s = settings.clamped();
        let any_solo = s.bands.iter().any(|b| b.solo);
        let fs = self.sample_rate as f64;
        let n = self.period as f64;
        let coeff = |ms: f32| (-n / (ms as f64 * 1e-3 * fs)).exp() as f32;
        let link = match s.mode {
            StereoMode::Linked => 1.0,
            StereoMode::MidSide => 0.0,
        };
        let rms = match s.detection {
            Detection::Peak => 0.0,
            Detection::Rms => 1.0,
        };
        // The amount scales the slope, hence every gain reduction in dB (settings.rs,
        // `AMOUNT_PCT`); exactly 1.0 at 100 %, and never past ∞:1.
        let amount = s.amount_pct / 100.0;
        for (g, [a, b]) in GROUP_BANDS.iter().enumerate() {
            let (a, b) = (&s.bands[*a], &s.bands[*b]);
            let lanes = |f: &dyn Fn(&BandSettings) -> f32| F4::new(f(a), f(a), f(b), f(b));
            self.targets[g] = Targets {
                threshold_db: lanes(&|x| x.threshold_db),
                knee_db: lanes(&|x| x.knee_db),
                slope: lanes(&|x| ((1.0 - 1.0 / x.ratio) * amount).min(1.0)),
                makeup_db: lanes(&|x| x.makeup_db),
                bypass: lanes(&|x| if x.bypass { 1.0 } else { 0.0 }),
                audible: lanes(&|x| if x.solo || !any_solo { 1.0 } else { 0.0 }),
                link: F4::splat(link),
                rms: F4::splat(rms),
            };
            self.ballistics[g] = Ballistics {
                attack: lanes(&|x| coeff(x.attack_ms)),
                release: lanes(&|x| coeff(x.release_ms)),
            };
        }
        self.xover_target = s.crossovers_hz.map(f32::log2);
        self.settled = false;
    }

    /// Fresh filter and detector state with every parameter at its target.
    fn start(&mut self) {
        self.xover.reset();
        self.xover_log2 = self.xover_target;
        self.coeffs = CrossoverCoeffs::new(self.xover_log2.map(f32::exp2), self.sample_rate);
        for (g, t) in self.groups.iter_mut().zip(&self.targets) {
            g.reset(t);
        }
        self.settled = true;
        self.gr_prev = [0.0; 4];
        self.gr_cur = [0.0; 4];
        self.running = true;
    }

    /// Runs at every sample whose index since `reset` is a multiple of the period.
    fn control(&mut self) {
        if !self.settled {
            let c = self.glide_coeff;
            let mut settled = true;
            for (g, t) in self.groups.iter_mut().zip(&self.targets) {
                settled &= g.glide(t, c);
            }
            if self.xover_log2 != self.xover_target {
                for (x, t) in self.xover_log2.iter_mut().zip(self.xover_target) {
                    *x += c * (t - *x);
                    if (t - *x).abs() < 1e-5 {
                        *x = t;
                    }
                }
                self.coeffs =
                    CrossoverCoeffs::new(self.xover_log2.map(f32::exp2), self.sample_rate);
                settled &= self.xover_log2 == self.xover_target;
            }
            self.settled = settled;
        }
        // Only non-finite input (which the chain removes first) can poison the state; heal
        // it rather than stay silent.
        let finite = self.xover.flush() && self.groups.iter().all(Group::is_finite);
        if !finite {
            self.xover.reset();
            for (g, t) in self.groups.iter_mut().zip(&self.targets) {
                g.reset(t);
            }
        }
        let [g0, g1] = &mut self.groups;
        let (n, c) = (self.inv_period, self.rms_coeff);
        let a = g0.control(&self.ballistics[0], n, c).0;
        let b = g1.control(&self.ballistics[1], n, c).0;
        let gr = [
            a[0].min(a[1]),
            b[0].min(b[1]),
            a[2].min(a[3]),
            b[2].min(b[3]),
        ];
        self.gr_prev = self.gr_cur;
        self.gr_cur = gr;
        for (d, g) in self.gr_block.iter_mut().zip(gr) {
            *d = d.min(g);
        }
    }

    /// Processes one block in place: `channels` holds one slice per channel (the first
    /// `max_channels` are processed), any length including 0. Allocates nothing.
    pub fn process(&mut self, channels: &mut [&mut [f32]], settings: &MultibandSettings) {
        let n_ch = channels.len().min(self.max_channels);
        let frames = channels[..n_ch].iter().map(|c| c.len()).min().unwrap_or(0);
        if frames == 0 {
            self.gr_block = [0.0; 4];
            return;
        }
        if !self.primed {
            self.primed = true;
            self.fade = if settings.enabled { self.fade_len } else { 0 };
        }
        if !settings.enabled && self.fade == 0 {
            self.running = false;
            self.phase = (self.phase + frames) % self.period;
            self.gr_block = [0.0; 4];
            return;
        }
        self.update_targets(settings);
        if !self.running {
            self.start();
        }
        self.gr_block = if self.phase == 0 {
            self.gr_cur
        } else {
            std::array::from_fn(|i| self.gr_prev[i].min(self.gr_cur[i]))
        };

        let (first, rest) = channels.split_at_mut(1);
        let left = &mut first[0][..frames];
        let enabled = settings.enabled;
        match rest.first_mut() {
            Some(r) if n_ch == 2 => self.frames::<true>(left, &mut r[..frames], enabled),
            _ => self.frames::<false>(left, &mut [], enabled),
        }
        if !self.running {
            self.gr_block = [0.0; 4];
        }
    }

    /// The block loop: a control step at every multiple of the period, frames in between.
    fn frames<const STEREO: bool>(&mut self, left: &mut [f32], right: &mut [f32], enabled: bool) {
        let frames = left.len();
        let mut i = 0;
        while i < frames {
            if self.phase == 0 {
                self.control();
            }
            let end = (i + self.period - self.phase).min(frames);
            let r: &mut [f32] = if STEREO { &mut right[i..end] } else { &mut [] };
            if self.run::<STEREO>(&mut left[i..end], r, enabled) {
                // Fully faded out: the rest of the block is left as it came.
                self.running = false;
                self.phase = (self.phase + frames - i) % self.period;
                break;
            }
            self.phase = (self.phase + end - i) % self.period;
            i = end;
        }
    }

    /// Processes a run of frames inside one control period. Returns true if the stage
    /// finished fading out within it (the frames after that one are untouched).
    #[inline(always)]
    fn run<const STEREO: bool>(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        enabled: bool,
    ) -> bool {
        let mut k = Kernel {
            coeffs: self.coeffs,
            xover: self.xover,
            peak: [self.groups[0].peak, self.groups[1].peak],
            sum_sq: [self.groups[0].sum_sq, self.groups[1].sum_sq],
            gain: [self.groups[0].gain, self.groups[1].gain],
            step: [self.groups[0].step, self.groups[1].step],
            link: self.groups[0].link(),
        };
        let right = if STEREO {
            &mut right[..left.len()]
        } else {
            right
        };

        let mut stopped = false;
        if enabled && self.fade == self.fade_len {
            if STEREO {
                for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                    let (m, s) = k.frame((*l + *r) * 0.5, (*l - *r) * 0.5);
                    *l = m + s;
                    *r = m - s;
                }
            } else {
                for l in left.iter_mut() {
                    let (m, s) = k.frame(*l, 0.0);
                    *l = m + s;
                }
            }
        } else {
            // Crossfade, one step per frame: w = fade/fade_len of wet.
            for n in 0..left.len() {
                if enabled {
                    self.fade = (self.fade + 1).min(self.fade_len);
                } else {
                    self.fade -= 1;
                }
                let w = self.fade as f32 * self.inv_fade_len;
                let dry = 1.0 - w;
                let (dl, dr) = if STEREO {
                    (left[n], right[n])
                } else {
                    (left[n], left[n])
                };
                let (m, s) = k.frame((dl + dr) * 0.5, (dl - dr) * 0.5);
                if self.fade == 0 {
                    stopped = true;
                    break;
                }
                left[n] = dl * dry + (m + s) * w;
                if STEREO {
                    right[n] = dr * dry + (m - s) * w;
                }
            }
        }

        self.xover = k.xover;
        for (i, g) in self.groups.iter_mut().enumerate() {
            (g.peak, g.sum_sq, g.gain) = (k.peak[i], k.sum_sq[i], k.gain[i]);
        }
        stopped
    }
}

/// Everything one frame touches, copied out of `Multiband` for the length of a run so the
/// compiler can keep it in registers.
#[derive(Clone, Copy)]
struct Kernel {
    coeffs: CrossoverCoeffs,
    xover: Crossover,
    peak: [F4; 2],
    sum_sq: [F4; 2],
    gain: [F4; 2],
    step: [F4; 2],
    link: F4,
}

impl Kernel {
    /// One frame: (M, S) in, (M, S) out.
    #[inline(always)]
    fn frame(&mut self, m: f32, s: f32) -> (f32, f32) {
        // Inputs under the state flush line enter the tree as zero (see `STATE_FLUSH`).
        let quiet = |x: f32| if x.abs() < STATE_FLUSH { 0.0 } else { x };
        let bands = self.xover.tick(&self.coeffs, quiet(m), quiet(s));
        let mut out = F4::ZERO;
        for (i, v) in [bands.0, bands.1].into_iter().enumerate() {
            Group::detect(&mut self.peak[i], &mut self.sum_sq[i], v, self.link);
            self.gain[i] = self.gain[i] + self.step[i];
            out = out + self.gain[i] * v;
        }
        (out.0[0] + out.0[2], out.0[1] + out.0[3])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_period_is_about_0_17_ms() {
        for (rate, n) in [
            (44_100.0, 8),
            (48_000.0, 8),
            (88_200.0, 16),
            (96_000.0, 16),
            (176_400.0, 32),
            (192_000.0, 32),
        ] {
            assert_eq!(control_period(rate), n, "{rate}");
        }
    }
}
