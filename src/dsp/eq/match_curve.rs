//! The reference-match curve: a smooth EQ curve made of minimum-phase sections at fixed
//! frequencies, run right after the tonal EQ's own bands (DESIGN.md, "tonal EQ (incl.
//! reference-match curve)"), plus side-only sections that match the stereo width per band.
//!
//! - **Fixed sections, free gains.** The mid (L and R alike) curve is a low shelf, 28 bells
//!   a third of an octave apart from 31.25 Hz to 16 kHz, and a high shelf; the side curve is
//!   8 bells an octave apart from 62.5 Hz to 8 kHz. Only the gains are settings, in fixed
//!   arrays, so [`MatchEqSettings`] is `Copy` and travels inside `ChainSettings` from the
//!   renderer to the plugin and back. The gains come from a least-squares fit of a wanted curve
//!   (`match_fit.rs`); this stage only runs them.
//! - **Amount.** Every gain is scaled by `amount_pct / 100` before it reaches the filters:
//!   0 % is off (and exactly transparent), 100 % the fitted curve. The sections are designed
//!   like the tonal EQ's bells and shelves (`design.rs`), whose dB response grows almost
//!   linearly with the dB gain, so the amount scales the curve in dB.
//! - **Side only.** The side sections act on `S = (L - R) / 2` and leave `M = (L + R) / 2`
//!   alone: `L = M + S'`, `R = M - S'`. With every side section flat the M/S step is skipped,
//!   so a flat curve returns the input bit for bit. Mono input has no side: those sections
//!   never run.
//! - Same contracts as the tonal EQ, with the same machinery (`bands.rs`, `biquad.rs`): gains
//!   glide in dB, coefficients follow every [`TICK`] samples of a counter that runs from
//!   reset, so any block split gives bit-identical output; latency 0; nothing allocates.

use serde::{Deserialize, Serialize};

use super::bands::{self, Kind, Section, Target, TICK};
use super::biquad::{self, Io, State};
use super::design::{self, Biquad, Designer};
use crate::dsp::settings::ParamRange;

/// Bells of the mid curve, a third of an octave apart.
pub const MATCH_BELLS: usize = 28;
/// Sections of the mid curve: low shelf, the bells, high shelf.
pub const MATCH_SECTIONS: usize = MATCH_BELLS + 2;
/// Bells of the side curve, an octave apart.
pub const SIDE_BANDS: usize = 8;

/// Centre of mid bell `i`: `1000 · 2^((i - 15) / 3)` Hz, 31.25 Hz to 16 kHz (the IEC 61260-1
/// base-2 third-octave centres). The match is judged in third-octave bands (the distance in
/// `render::reference`), so one bell per band lets the fit follow the 1/6-octave curve's
/// third-octave average, not its individual notes. Measured on francium against by-product
/// (full files, 1/6-octave bands, 40 Hz–16 kHz): the ±6 dB limit alone leaves 2.1 dB RMS
/// of the difference; half-octave bells left 3.1 dB, third-octave bells 2.5 dB. Neighbouring
/// bells may take large opposite gains to follow a jagged curve; their sum stays smooth.
pub fn bell_freq_hz(i: usize) -> f64 {
    1000.0 * 2f64.powf((i as f64 - 15.0) / 3.0)
}

/// Q of the mid bells: two thirds of an octave between the half-gain points
/// (Q = 2^(1/3) / (2^(2/3) - 1)), so each bell reaches its neighbours' centres at about half
/// its dB gain and a row of equal gains sums to a flat plateau.
pub const BELL_Q: f64 = 2.144_908;
/// Corners and Q of the end shelves: below the lowest bell and above the highest, they carry
/// the curve's ends out to DC and Nyquist.
pub const LOW_SHELF_HZ: f64 = 30.0;
pub const HIGH_SHELF_HZ: f64 = 16_000.0;
pub const SHELF_Q: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// Centre of side bell `i`: `1000 · 2^(i - 4)` Hz, 62.5 Hz to 8 kHz. Width is judged in
/// broad strokes (and the low end is mono-below's business), so octaves suffice.
pub fn side_freq_hz(i: usize) -> f64 {
    1000.0 * 2f64.powf(i as f64 - 4.0)
}

/// Q of the side bells: 1.5 octaves between the half-gain points, the same overlap as the
/// mid bells on an octave grid.
pub const SIDE_Q: f64 = 0.920_7;

/// Gain of every match section, dB. The wanted curve is limited to ±6 dB; the fit may need a
/// little more where neighbouring sections pull against each other.
pub const MATCH_GAIN_DB: ParamRange = ParamRange::new(-12.0, 12.0, 0.0);
/// How much of the fitted curve is applied, percent: 0 is off, 100 the whole curve. 70 % by
/// default, so a match moves toward the reference without copying its every feature.
pub const MATCH_AMOUNT_PCT: ParamRange = ParamRange::new(0.0, 100.0, 70.0);

/// How far the spectra are smoothed before the wanted curve is taken, octaves: the width of
/// the smoothing window from 500 Hz up, widening toward the bass (`render::reference::
/// smoothing`). 0 matches 1/6-octave detail, notes included. 0.5 by default, measured on the
/// four shared mixes, each against the other three (12 pairs, 100 %,
/// `measure_smoothing_on_the_shared_mixes` in tests/reference_curves.rs): the distance fall
/// the fitted curve predicts rises from 24.6 % (0) and 27.5 % (0.375) to 28.1 % at 0.5, then
/// only to 28.4 % (0.75) and 28.8 % (1.0), while the curve follows ever less of the mix's
/// own detail; the largest neighbouring 1/6-octave step of the applied curve is 0.84 dB at
/// 0.5 (under the 1 dB bound at every setting, the slope limit in `match_curves` sees to it).
pub const MATCH_SMOOTHING_OCT: ParamRange = ParamRange::new(0.0, 2.0, 0.5);

/// The match curve's settings: section gains at 100 %, the amount that scales them, and the
/// smoothing the gains were fitted with (read by the fit, not by the filters).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchEqSettings {
    pub amount_pct: f32,
    /// [`MATCH_SMOOTHING_OCT`]: how the next reference is fitted. Files written before it
    /// existed load with the default (`serde(default)`).
    pub smoothing_oct: f32,
    /// Low shelf at [`LOW_SHELF_HZ`], dB.
    pub low_shelf_db: f32,
    /// Bells at [`bell_freq_hz`], dB.
    pub bells_db: [f32; MATCH_BELLS],
    /// High shelf at [`HIGH_SHELF_HZ`], dB.
    pub high_shelf_db: f32,
    /// Side-only bells at [`side_freq_hz`], dB: positive widens that band, negative narrows it.
    pub side_db: [f32; SIDE_BANDS],
}

impl Default for MatchEqSettings {
    fn default() -> Self {
        Self {
            amount_pct: MATCH_AMOUNT_PCT.default,
            smoothing_oct: MATCH_SMOOTHING_OCT.default,
            low_shelf_db: 0.0,
            bells_db: [0.0; MATCH_BELLS],
            high_shelf_db: 0.0,
            side_db: [0.0; SIDE_BANDS],
        }
    }
}

impl MatchEqSettings {
    /// Every control with its name in the settings file, for validation.
    pub fn controls(&self) -> Vec<(String, f32, ParamRange)> {
        let mut out = vec![
            (
                "match_eq.amount_pct".to_string(),
                self.amount_pct,
                MATCH_AMOUNT_PCT,
            ),
            (
                "match_eq.smoothing_oct".to_string(),
                self.smoothing_oct,
                MATCH_SMOOTHING_OCT,
            ),
            (
                "match_eq.low_shelf_db".to_string(),
                self.low_shelf_db,
                MATCH_GAIN_DB,
            ),
            (
                "match_eq.high_shelf_db".to_string(),
                self.high_shelf_db,
                MATCH_GAIN_DB,
            ),
        ];
        for (i, g) in self.bells_db.iter().enumerate() {
            out.push((format!("match_eq.bells_db[{i}]"), *g, MATCH_GAIN_DB));
        }
        for (i, g) in self.side_db.iter().enumerate() {
            out.push((format!("match_eq.side_db[{i}]"), *g, MATCH_GAIN_DB));
        }
        out
    }

    /// A copy with every control clamped into its range; non-finite values take the default.
    pub fn clamped(&self) -> Self {
        Self {
            amount_pct: MATCH_AMOUNT_PCT.clamp(self.amount_pct),
            smoothing_oct: MATCH_SMOOTHING_OCT.clamp(self.smoothing_oct),
            low_shelf_db: MATCH_GAIN_DB.clamp(self.low_shelf_db),
            bells_db: self.bells_db.map(|g| MATCH_GAIN_DB.clamp(g)),
            high_shelf_db: MATCH_GAIN_DB.clamp(self.high_shelf_db),
            side_db: self.side_db.map(|g| MATCH_GAIN_DB.clamp(g)),
        }
    }

    /// The mid sections' gains at 100 %, in signal order (low shelf, bells, high shelf).
    pub fn mid_gains_db(&self) -> [f32; MATCH_SECTIONS] {
        let mut g = [0.0; MATCH_SECTIONS];
        g[0] = self.low_shelf_db;
        g[1..=MATCH_BELLS].copy_from_slice(&self.bells_db);
        g[MATCH_SECTIONS - 1] = self.high_shelf_db;
        g
    }

    /// Sets the mid gains from [`MatchEqSettings::mid_gains_db`]'s order.
    pub fn set_mid_gains_db(&mut self, g: &[f32; MATCH_SECTIONS]) {
        self.low_shelf_db = g[0];
        self.bells_db.copy_from_slice(&g[1..=MATCH_BELLS]);
        self.high_shelf_db = g[MATCH_SECTIONS - 1];
    }

    /// Whether every section is flat at this amount (the stage then does nothing).
    pub fn is_neutral(&self) -> bool {
        let s = self.clamped();
        s.amount_pct == 0.0
            || (s.mid_gains_db().iter().all(|&g| g == 0.0) && s.side_db.iter().all(|&g| g == 0.0))
    }
}

/// Kind, frequency and Q of mid section `i` (signal order).
pub fn mid_section(i: usize) -> (Kind, f64, f64) {
    match i {
        0 => (Kind::LowShelf, LOW_SHELF_HZ, SHELF_Q),
        i if i == MATCH_SECTIONS - 1 => (Kind::HighShelf, HIGH_SHELF_HZ, SHELF_Q),
        i => (Kind::Bell, bell_freq_hz(i - 1), BELL_Q),
    }
}

/// Kind, frequency and Q of side section `i`.
pub fn side_section(i: usize) -> (Kind, f64, f64) {
    (Kind::Bell, side_freq_hz(i), SIDE_Q)
}

fn target(section: (Kind, f64, f64), gain_db: f64) -> Target {
    Target {
        log2_freq: section.1.log2(),
        ln_q: section.2.ln(),
        amount: gain_db,
    }
}

/// The dB response at `freq_hz` of sections `sections` with gains `gains_db` (already
/// scaled), at `sample_rate`: the product of the very biquads the stage settles on.
pub fn sections_db(
    sections: impl Iterator<Item = (Kind, f64, f64)>,
    gains_db: &[f64],
    sample_rate: f64,
    freq_hz: f64,
) -> f64 {
    let designer = Designer::new(sample_rate);
    let w = design::omega(freq_hz, sample_rate).clamp(0.0, std::f64::consts::PI);
    sections
        .zip(gains_db)
        .filter(|(_, &g)| g != 0.0)
        .map(|(s, &g)| {
            10.0 * bands::design(s.0, &target(s, g), &designer)
                .magnitude_sq(w)
                .log10()
        })
        .sum()
}

/// One cascade of fixed sections with glided gains: the tonal EQ's bookkeeping (see
/// `TonalEq`) for `N` sections.
#[derive(Debug, Clone)]
struct Bank<const N: usize> {
    sections: [Section; N],
    coeffs: [Biquad; N],
    states: [State; N],
    /// The last two input frames `[x1, x2]`, per lane.
    input_hist: [[f64; 2]; 2],
    active: [usize; N],
    n_active: usize,
}

impl<const N: usize> Bank<N> {
    fn new(layout: impl Fn(usize) -> (Kind, f64, f64)) -> Self {
        Self {
            sections: std::array::from_fn(|i| Section::new(layout(i).0)),
            coeffs: [Biquad::IDENTITY; N],
            states: [[[0.0; 2]; 4]; N],
            input_hist: [[0.0; 2]; 2],
            active: [0; N],
            n_active: 0,
        }
    }

    fn reset(&mut self) {
        self.states = [[[0.0; 2]; 4]; N];
        self.input_hist = [[0.0; 2]; 2];
        self.n_active = 0;
    }

    fn is_settled(&self) -> bool {
        self.sections.iter().all(|s| s.is_settled())
    }

    /// New targets; `snap` takes them at once (first block after reset).
    fn take(&mut self, targets: &[Target; N], snap: bool, designer: &Designer) {
        for (i, t) in targets.iter().enumerate() {
            if snap {
                self.sections[i].snap(t);
                self.coeffs[i] = bands::design(self.sections[i].kind, t, designer);
            } else {
                self.sections[i].set_target(t);
            }
        }
        self.update_active();
    }

    fn tick(&mut self, decay: f64, designer: &Designer) {
        for i in 0..N {
            let section = &mut self.sections[i];
            if section.tick(decay) && !section.is_bypassed() {
                self.coeffs[i] = bands::design(section.kind, &section.current(), designer);
            }
        }
        self.update_active();
    }

    /// Rebuilds the list of sections to run ([`bands::rebuild_active`]).
    fn update_active(&mut self) {
        bands::rebuild_active(
            &self.sections,
            &mut self.coeffs,
            &mut self.states,
            &mut self.active,
            &mut self.n_active,
            self.input_hist,
        );
    }

    /// Remembers the last two samples of `span` (lane `lane`), taken before processing.
    fn note_input(&mut self, lane: usize, span: &[f32]) {
        let n = span.len();
        if n == 0 {
            return;
        }
        let x1 = f64::from(span[n - 1]);
        let x2 = if n == 1 {
            self.input_hist[0][lane]
        } else {
            f64::from(span[n - 2])
        };
        self.input_hist[0][lane] = x1;
        self.input_hist[1][lane] = x2;
    }

    fn run(&mut self, io: &mut Io, phase: usize) {
        if self.n_active > 0 {
            biquad::run(
                &self.coeffs,
                &mut self.states,
                &self.active[..self.n_active],
                io,
                phase,
            );
        }
    }
}

/// Frames of the side signal worked on at a time (a buffer on the stack).
const SIDE_CHUNK: usize = 64;

/// The match-curve stage. See the module docs.
#[derive(Debug, Clone)]
pub struct MatchEq {
    designer: Designer,
    decay: f64,
    max_channels: usize,
    mid: Bank<MATCH_SECTIONS>,
    side: Bank<SIDE_BANDS>,
    phase: usize,
    moving: bool,
    last: Option<MatchEqSettings>,
}

impl MatchEq {
    /// A stage for `sample_rate` and up to `max_channels` channels (2 at most; further ones
    /// pass untouched). All memory is inline.
    pub fn new(sample_rate: f32, max_channels: usize) -> Self {
        Self {
            designer: Designer::new(f64::from(sample_rate)),
            decay: bands::tick_decay(f64::from(sample_rate)),
            max_channels: max_channels.min(2),
            mid: Bank::new(mid_section),
            side: Bank::new(side_section),
            phase: 0,
            moving: false,
            last: None,
        }
    }

    /// Clears every filter and restarts the counter; the next settings are taken at once.
    pub fn reset(&mut self) {
        self.mid.reset();
        self.side.reset();
        self.phase = 0;
        self.moving = false;
        self.last = None;
    }

    pub fn latency_samples(&self) -> usize {
        0
    }

    /// Whether any filter state word is subnormal (never; for the tests).
    pub fn has_subnormal_state(&self) -> bool {
        self.mid
            .states
            .iter()
            .chain(self.side.states.iter())
            .flatten()
            .flatten()
            .any(|v| v.is_subnormal())
    }

    /// The mid curve's response at `freq_hz`, dB, at `settings`' amount: what L and R both
    /// get.
    pub fn magnitude_db(settings: &MatchEqSettings, sample_rate: f32, freq_hz: f32) -> f32 {
        let s = settings.clamped();
        let k = f64::from(s.amount_pct) / 100.0;
        let gains = s.mid_gains_db().map(|g| f64::from(g) * k);
        sections_db(
            (0..MATCH_SECTIONS).map(mid_section),
            &gains,
            f64::from(sample_rate),
            f64::from(freq_hz),
        ) as f32
    }

    /// The side-only curve's response at `freq_hz`, dB, at `settings`' amount: what the side
    /// signal gets on top of [`MatchEq::magnitude_db`].
    pub fn side_magnitude_db(settings: &MatchEqSettings, sample_rate: f32, freq_hz: f32) -> f32 {
        let s = settings.clamped();
        let k = f64::from(s.amount_pct) / 100.0;
        let gains = s.side_db.map(|g| f64::from(g) * k);
        sections_db(
            (0..SIDE_BANDS).map(side_section),
            &gains,
            f64::from(sample_rate),
            f64::from(freq_hz),
        ) as f32
    }

    /// Filters `channels` (1 or 2 slices of equal length) in place. Allocates nothing.
    pub fn process(&mut self, channels: &mut [&mut [f32]], settings: &MatchEqSettings) {
        let n_ch = channels.len().min(self.max_channels);
        let channels = &mut channels[..n_ch];
        let frames = channels.iter().map(|c| c.len()).min().unwrap_or(0);
        if frames == 0 {
            return;
        }
        self.take_settings(settings);
        let mut pos = 0;
        while pos < frames {
            if self.moving && self.phase == 0 {
                self.mid.tick(self.decay, &self.designer);
                self.side.tick(self.decay, &self.designer);
                self.moving = !(self.mid.is_settled() && self.side.is_settled());
            }
            let len = if self.moving {
                (TICK - self.phase).min(frames - pos)
            } else {
                frames - pos
            };
            self.run(channels, pos, pos + len);
            pos += len;
            self.phase = (self.phase + len) % TICK;
        }
    }

    fn take_settings(&mut self, settings: &MatchEqSettings) {
        if self.last == Some(*settings) {
            return;
        }
        let s = settings.clamped();
        let k = f64::from(s.amount_pct) / 100.0;
        let mid_gains = s.mid_gains_db();
        let mid: [Target; MATCH_SECTIONS] =
            std::array::from_fn(|i| target(mid_section(i), f64::from(mid_gains[i]) * k));
        let side: [Target; SIDE_BANDS] =
            std::array::from_fn(|i| target(side_section(i), f64::from(s.side_db[i]) * k));
        let snap = self.last.is_none();
        self.mid.take(&mid, snap, &self.designer);
        self.side.take(&side, snap, &self.designer);
        self.moving = !(self.mid.is_settled() && self.side.is_settled());
        self.last = Some(*settings);
    }

    fn run(&mut self, channels: &mut [&mut [f32]], start: usize, end: usize) {
        for (lane, samples) in channels.iter().enumerate() {
            self.mid.note_input(lane, &samples[start..end]);
        }
        let [left, right] = match channels {
            [mono] => {
                self.mid
                    .run(&mut Io::Mono(&mut mono[start..end]), self.phase);
                return;
            }
            [left, right, ..] => [left, right],
            [] => return,
        };
        self.mid.run(
            &mut Io::Stereo(&mut left[start..end], &mut right[start..end]),
            self.phase,
        );
        // The side bank, on the side of what the mid bank made.
        let mut side = [0.0f32; SIDE_CHUNK];
        let mut pos = start;
        while pos < end {
            let n = (end - pos).min(SIDE_CHUNK);
            let (l, r) = (&mut left[pos..pos + n], &mut right[pos..pos + n]);
            for ((s, &a), &b) in side.iter_mut().zip(l.iter()).zip(r.iter()) {
                *s = 0.5 * (a - b);
            }
            self.side.note_input(0, &side[..n]);
            self.side.note_input(1, &side[..n]);
            if self.side.n_active > 0 {
                let phase = (self.phase + pos - start) % TICK;
                self.side.run(&mut Io::Mono(&mut side[..n]), phase);
                for ((a, b), &s) in l.iter_mut().zip(r.iter_mut()).zip(side.iter()) {
                    let m = 0.5 * (*a + *b);
                    *a = m + s;
                    *b = m - s;
                }
            }
            pos += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bells_sit_on_the_third_octave_series() {
        assert_eq!(bell_freq_hz(0), 31.25);
        assert_eq!(bell_freq_hz(15), 1000.0);
        assert!((bell_freq_hz(MATCH_BELLS - 1) - 16_000.0).abs() < 1e-6);
        assert_eq!(side_freq_hz(0), 62.5);
        assert_eq!(side_freq_hz(SIDE_BANDS - 1), 8000.0);
    }

    #[test]
    fn amount_zero_and_flat_gains_are_neutral() {
        let mut s = MatchEqSettings::default();
        assert!(s.is_neutral());
        s.bells_db[3] = 2.0;
        assert!(!s.is_neutral());
        s.amount_pct = 0.0;
        assert!(s.is_neutral());
        assert_eq!(MatchEq::magnitude_db(&s, 48_000.0, 125.0), 0.0);
    }

    #[test]
    fn settings_round_trip_through_toml() {
        let mut s = MatchEqSettings::default();
        s.bells_db[4] = -1.25;
        s.side_db[7] = 3.5;
        s.amount_pct = 55.0;
        let text = toml::to_string(&s).unwrap();
        let back: MatchEqSettings = toml::from_str(&text).unwrap();
        assert_eq!(back, s);
        // A file from before the smoothing setting loads with its default.
        let old = text
            .lines()
            .filter(|l| !l.starts_with("smoothing_oct"))
            .collect::<Vec<_>>()
            .join("\n");
        let back: MatchEqSettings = toml::from_str(&old).unwrap();
        assert_eq!(back.smoothing_oct, MATCH_SMOOTHING_OCT.default);
        assert_eq!(back.bells_db, s.bells_db);
    }
}
