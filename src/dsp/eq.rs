//! Tonal EQ stage: high-pass, low shelf, three bells, high shelf and tilt, in that order, after
//! the input trim and before the multiband compressor (DESIGN.md, "Signal path").
//!
//! - **Analog curves, not cramped ones.** Every band is an s-domain prototype mapped to one
//!   biquad with Martin Vicanek's matched method ("Matched Second Order Digital Filters",
//!   2016): a 12 kHz bell at 44.1 kHz keeps its analog width and a 10 kHz shelf its top,
//!   instead of the bilinear transform's squeeze toward Nyquist. See [`design`].
//! - **Glides, no clicks.** Gains (dB), frequencies (octaves) and Q (ln Q) glide with a 10 ms
//!   one-pole; coefficients follow every 16 samples of a counter that runs from reset, so any
//!   block split gives bit-identical output. Switching the high-pass in, out, or between
//!   slopes glides its depth. See [`bands`].
//! - **Neutral is the identity.** A band whose gain has settled at exactly 0 dB (tilt 0,
//!   high-pass off) is skipped, so a neutral EQ returns its input bit for bit, and costs
//!   nothing. Stereo runs both channels in one `f64` loop. See [`biquad`].
//! - Latency 0; no allocation anywhere.

pub mod bands;
pub mod biquad;
pub mod design;
pub mod least_squares;
pub mod match_curve;
pub mod match_fit;

use serde::{Deserialize, Deserializer, Serialize};

use super::settings::ParamRange;
use bands::{Section, SECTIONS, TICK};
use biquad::{Io, State};
use design::{Biquad, Designer};

/// Gain of every shelf and bell, in dB.
pub const EQ_GAIN_DB: ParamRange = ParamRange::new(-12.0, 12.0, 0.0);
/// High-pass cutoff (-3 dB point at either slope), in Hz.
pub const HP_FREQ_HZ: ParamRange = ParamRange::new(10.0, 120.0, 30.0);
/// Low-shelf corner (where the shelf has half its dB gain), in Hz.
pub const LOW_SHELF_FREQ_HZ: ParamRange = ParamRange::new(20.0, 2_000.0, 100.0);
/// High-shelf corner (where the shelf has half its dB gain), in Hz.
pub const HIGH_SHELF_FREQ_HZ: ParamRange = ParamRange::new(1_000.0, 20_000.0, 10_000.0);
/// Shelf Q (RBJ definition): 0.707 is the steepest without overshoot; above it the shelf
/// gains a small bump before the corner and a dip after it, below it a gentler slope.
pub const SHELF_Q: ParamRange = ParamRange::new(0.3, 2.0, std::f32::consts::FRAC_1_SQRT_2);
/// Bell centre frequencies, in Hz; one range per bell for their different defaults.
pub const BELL_FREQ_HZ: [ParamRange; 3] = [
    ParamRange::new(20.0, 20_000.0, 250.0),
    ParamRange::new(20.0, 20_000.0, 1_000.0),
    ParamRange::new(20.0, 20_000.0, 4_000.0),
];
/// Bell Q, measured between the frequencies where the bell has half its dB gain, at any
/// gain (constant-Q): 0.2 spans about five octaves, 10 is a surgical notch.
pub const BELL_Q: ParamRange = ParamRange::new(0.2, 10.0, 1.0);
/// Tilt, in dB: +6 lifts the top of the band toward +6 dB and lowers the bottom toward
/// -6 dB, pivoting at 1 kHz (0 dB there at any setting). The slope is that of two first-order
/// shelves three octaves apart (354 Hz and 2.83 kHz), so it is gentle and spread over the
/// audio band: at +6 dB, -5.5 dB at 100 Hz, -1.8 dB at 500 Hz, +1.8 dB at 2 kHz, +5.5 dB at
/// 10 kHz, within 0.15 dB of ±6 at 20 Hz and 20 kHz.
pub const TILT_DB: ParamRange = ParamRange::new(-6.0, 6.0, 0.0);
/// The EQ's amount, in percent: every shelf's and bell's gain and the tilt, in dB, are
/// multiplied by it before the filters are designed. 0 % makes the tonal EQ flat (with the
/// high-pass off, the stage then returns its input bit for bit); 100 % is the EQ as set (the
/// factor is exactly 1.0, so the coefficients, and the output, are bit for bit those of the
/// gains alone); 150 % exaggerates every move by half again (12 dB becomes 18 dB). The
/// high-pass is not scaled: it has no gain, it removes rumble, and an "amount" knob that
/// faded it in and out would move the low end in a way no engineer expects from it. The
/// amount glides with the gains (10 ms, in dB), so turning it never clicks.
pub const EQ_AMOUNT_PCT: ParamRange = ParamRange::new(0.0, 150.0, 100.0);

/// High-pass slope. Both are Butterworth (maximally flat, -3 dB at the cutoff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum HpMode {
    #[default]
    #[serde(rename = "off")]
    Off,
    /// 12 dB per octave: one second-order section, Q 0.7071.
    #[serde(rename = "12")]
    Slope12,
    /// 24 dB per octave: two second-order sections, Q 0.5412 and 1.3066.
    #[serde(rename = "24")]
    Slope24,
}

impl HpMode {
    pub const ALL: [HpMode; 3] = [HpMode::Off, HpMode::Slope12, HpMode::Slope24];
}

/// A shelf: corner frequency, gain and Q (see [`LOW_SHELF_FREQ_HZ`], [`SHELF_Q`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShelfSettings {
    pub freq_hz: f32,
    pub gain_db: f32,
    pub q: f32,
}

/// A peaking bell: centre frequency, gain and constant Q (see [`BELL_Q`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BellSettings {
    pub freq_hz: f32,
    pub gain_db: f32,
    pub q: f32,
}

/// The tonal EQ's settings. The scalars come first so the TOML file lists them before the
/// band tables (`[eq.low_shelf]`, `[[eq.bells]]`, `[eq.high_shelf]`).
///
/// Missing fields take their defaults, per band: a `[eq.high_shelf]` table that only sets
/// `gain_db` keeps the high shelf's 10 kHz, and `[[eq.bells]]` may list fewer than three
/// bells (the rest stay neutral at their default frequencies).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EqSettings {
    pub hp_mode: HpMode,
    pub hp_freq_hz: f32,
    pub tilt_db: f32,
    /// See [`EQ_AMOUNT_PCT`]. Files and saved states written before it existed load at 100 %.
    pub amount_pct: f32,
    #[serde(deserialize_with = "low_shelf_with_defaults")]
    pub low_shelf: ShelfSettings,
    #[serde(deserialize_with = "bells_with_defaults")]
    pub bells: [BellSettings; 3],
    #[serde(deserialize_with = "high_shelf_with_defaults")]
    pub high_shelf: ShelfSettings,
}

impl Default for EqSettings {
    fn default() -> Self {
        let shelf = |freq: ParamRange| ShelfSettings {
            freq_hz: freq.default,
            gain_db: EQ_GAIN_DB.default,
            q: SHELF_Q.default,
        };
        Self {
            hp_mode: HpMode::Off,
            hp_freq_hz: HP_FREQ_HZ.default,
            tilt_db: TILT_DB.default,
            amount_pct: EQ_AMOUNT_PCT.default,
            low_shelf: shelf(LOW_SHELF_FREQ_HZ),
            bells: BELL_FREQ_HZ.map(|freq| BellSettings {
                freq_hz: freq.default,
                gain_db: EQ_GAIN_DB.default,
                q: BELL_Q.default,
            }),
            high_shelf: shelf(HIGH_SHELF_FREQ_HZ),
        }
    }
}

impl EqSettings {
    /// Every continuous control with its name in the settings file (bells numbered from 1),
    /// its value and its range, for validation and for building plugin parameters.
    pub fn controls(&self) -> Vec<(String, f32, ParamRange)> {
        let mut out = vec![
            ("eq.hp_freq_hz".to_string(), self.hp_freq_hz, HP_FREQ_HZ),
            ("eq.tilt_db".to_string(), self.tilt_db, TILT_DB),
            ("eq.amount_pct".to_string(), self.amount_pct, EQ_AMOUNT_PCT),
        ];
        let mut band = |name: &str, f: f32, f_range, g: f32, q: f32, q_range| {
            out.push((format!("eq.{name}.freq_hz"), f, f_range));
            out.push((format!("eq.{name}.gain_db"), g, EQ_GAIN_DB));
            out.push((format!("eq.{name}.q"), q, q_range));
        };
        let ls = &self.low_shelf;
        band(
            "low_shelf",
            ls.freq_hz,
            LOW_SHELF_FREQ_HZ,
            ls.gain_db,
            ls.q,
            SHELF_Q,
        );
        for (i, b) in self.bells.iter().enumerate() {
            let name = format!("bell{}", i + 1);
            band(&name, b.freq_hz, BELL_FREQ_HZ[i], b.gain_db, b.q, BELL_Q);
        }
        let hs = &self.high_shelf;
        band(
            "high_shelf",
            hs.freq_hz,
            HIGH_SHELF_FREQ_HZ,
            hs.gain_db,
            hs.q,
            SHELF_Q,
        );
        out
    }

    /// A copy with every control clamped into its range; non-finite values take the
    /// default. This is what the DSP uses.
    pub fn clamped(&self) -> Self {
        let shelf = |s: &ShelfSettings, freq: ParamRange| ShelfSettings {
            freq_hz: freq.clamp(s.freq_hz),
            gain_db: EQ_GAIN_DB.clamp(s.gain_db),
            q: SHELF_Q.clamp(s.q),
        };
        let mut bells = self.bells;
        for (b, range) in bells.iter_mut().zip(BELL_FREQ_HZ) {
            *b = BellSettings {
                freq_hz: range.clamp(b.freq_hz),
                gain_db: EQ_GAIN_DB.clamp(b.gain_db),
                q: BELL_Q.clamp(b.q),
            };
        }
        Self {
            hp_mode: self.hp_mode,
            hp_freq_hz: HP_FREQ_HZ.clamp(self.hp_freq_hz),
            tilt_db: TILT_DB.clamp(self.tilt_db),
            amount_pct: EQ_AMOUNT_PCT.clamp(self.amount_pct),
            low_shelf: shelf(&self.low_shelf, LOW_SHELF_FREQ_HZ),
            bells,
            high_shelf: shelf(&self.high_shelf, HIGH_SHELF_FREQ_HZ),
        }
    }
}

/// One band as written in a file: any field may be missing and takes that band's default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BandInFile {
    freq_hz: Option<f32>,
    gain_db: Option<f32>,
    q: Option<f32>,
}

impl BandInFile {
    fn or(&self, freq_hz: f32, gain_db: f32, q: f32) -> (f32, f32, f32) {
        (
            self.freq_hz.unwrap_or(freq_hz),
            self.gain_db.unwrap_or(gain_db),
            self.q.unwrap_or(q),
        )
    }
}

fn shelf_with_defaults<'de, D: Deserializer<'de>>(
    d: D,
    default: ShelfSettings,
) -> Result<ShelfSettings, D::Error> {
    let (freq_hz, gain_db, q) =
        BandInFile::deserialize(d)?.or(default.freq_hz, default.gain_db, default.q);
    Ok(ShelfSettings {
        freq_hz,
        gain_db,
        q,
    })
}

fn low_shelf_with_defaults<'de, D: Deserializer<'de>>(d: D) -> Result<ShelfSettings, D::Error> {
    shelf_with_defaults(d, EqSettings::default().low_shelf)
}

fn high_shelf_with_defaults<'de, D: Deserializer<'de>>(d: D) -> Result<ShelfSettings, D::Error> {
    shelf_with_defaults(d, EqSettings::default().high_shelf)
}

fn bells_with_defaults<'de, D: Deserializer<'de>>(d: D) -> Result<[BellSettings; 3], D::Error> {
    let listed = Vec::<BandInFile>::deserialize(d)?;
    if listed.len() > 3 {
        return Err(serde::de::Error::invalid_length(
            listed.len(),
            &"at most 3 bells",
        ));
    }
    let mut bells = EqSettings::default().bells;
    for (b, f) in bells.iter_mut().zip(&listed) {
        let (freq_hz, gain_db, q) = f.or(b.freq_hz, b.gain_db, b.q);
        *b = BellSettings {
            freq_hz,
            gain_db,
            q,
        };
    }
    Ok(bells)
}

/// The tonal EQ stage. See the module docs.
#[derive(Debug, Clone)]
pub struct TonalEq {
    sample_rate: f32,
    max_channels: usize,
    designer: Designer,
    /// Per-tick decay of every glide.
    decay: f64,
    sections: [Section; SECTIONS],
    coeffs: [Biquad; SECTIONS],
    states: [State; SECTIONS],
    /// The stage's last two input frames, `[x1, x2]`: the history a section coming out of
    /// bypass starts from when no running section precedes it.
    input_hist: [[f64; 2]; 2],
    /// Indices of the sections that run, in signal order; the rest are exactly flat.
    active: [usize; SECTIONS],
    n_active: usize,
    /// Running sample counter since reset, modulo [`TICK`]: coefficient updates and state
    /// flushes happen where it is 0, wherever the blocks begin.
    phase: usize,
    /// Some glide has not reached its target: update coefficients at every tick.
    moving: bool,
    /// The settings the targets were last taken from; `None` until the first block after
    /// `reset`, whose settings are taken at once.
    last: Option<EqSettings>,
}

impl TonalEq {
    /// A stage for `sample_rate` and up to `max_channels` channels (at most 2 are processed;
    /// further channels pass through untouched). All memory is inline: nothing allocates,
    /// here or later.
    pub fn new(sample_rate: f32, max_channels: usize) -> Self {
        let designer = Designer::new(f64::from(sample_rate));
        let mut eq = Self {
            sample_rate,
            max_channels: max_channels.min(2),
            decay: bands::tick_decay(f64::from(sample_rate)),
            sections: bands::kinds().map(Section::new),
            coeffs: [Biquad::IDENTITY; SECTIONS],
            states: [[[0.0; 2]; 4]; SECTIONS],
            input_hist: [[0.0; 2]; 2],
            active: [0; SECTIONS],
            n_active: 0,
            phase: 0,
            moving: false,
            last: None,
            designer,
        };
        eq.reset();
        eq
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// Clears every filter and restarts the sample counter. Real-time safe. The next block's
    /// settings are taken at once, without a glide.
    pub fn reset(&mut self) {
        self.states = [[[0.0; 2]; 4]; SECTIONS];
        self.input_hist = [[0.0; 2]; 2];
        self.n_active = 0;
        self.phase = 0;
        self.moving = false;
        self.last = None;
    }

    pub fn latency_samples(&self) -> usize {
        0
    }

    /// Whether any filter state word is subnormal. Never true (see `biquad::flush`); public so
    /// the integration tests can check it.
    pub fn has_subnormal_state(&self) -> bool {
        self.states
            .iter()
            .flatten()
            .flatten()
            .any(|v| v.is_subnormal())
    }

    /// Filters `channels` (1 or 2 slices of equal length, any length including 0) in place.
    /// Allocates nothing.
    pub fn process(&mut self, channels: &mut [&mut [f32]], settings: &EqSettings) {
        let n_ch = channels.len().min(self.max_channels);
        let channels = &mut channels[..n_ch];
        let frames = channels.iter().map(|c| c.len()).min().unwrap_or(0);
        if frames == 0 {
            // No sample passes, so nothing may change: not even the first-block snap.
            return;
        }
        self.take_settings(settings);
        let mut pos = 0;
        while pos < frames {
            if self.moving && self.phase == 0 {
                self.tick();
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

    /// The EQ's magnitude response at `freq_hz`, in dB, for the editor's curve: the product
    /// of the sections `settings` imply at `sample_rate`, computed from the very coefficients
    /// the stage settles on.
    pub fn magnitude_db(settings: &EqSettings, sample_rate: f32, freq_hz: f32) -> f32 {
        let designer = Designer::new(f64::from(sample_rate));
        let w = design::omega(f64::from(freq_hz), f64::from(sample_rate))
            .clamp(0.0, std::f64::consts::PI);
        let targets = bands::targets(&settings.clamped());
        let mut db = 0.0;
        for (kind, t) in bands::kinds().iter().zip(&targets) {
            if !bands::is_flat(*kind, t) {
                db += 10.0 * bands::design(*kind, t, &designer).magnitude_sq(w).log10();
            }
        }
        db as f32
    }

    /// Turns new settings into glide targets (or, first after reset, into the state itself).
    fn take_settings(&mut self, settings: &EqSettings) {
        if self.last == Some(*settings) {
            return;
        }
        let targets = bands::targets(&settings.clamped());
        if self.last.is_none() {
            for (i, t) in targets.iter().enumerate() {
                self.sections[i].snap(t);
                self.coeffs[i] = bands::design(self.sections[i].kind, t, &self.designer);
            }
            self.moving = false;
        } else {
            for (s, t) in self.sections.iter_mut().zip(&targets) {
                s.set_target(t);
            }
            self.moving = self.sections.iter().any(|s| !s.is_settled());
        }
        self.last = Some(*settings);
        self.update_active();
    }

    /// One coefficient update: every glide advances [`TICK`] samples and every section that
    /// moved gets new coefficients.
    fn tick(&mut self) {
        for i in 0..SECTIONS {
            let section = &mut self.sections[i];
            if section.tick(self.decay) && !section.is_bypassed() {
                self.coeffs[i] = bands::design(section.kind, &section.current(), &self.designer);
            }
        }
        self.moving = self.sections.iter().any(|s| !s.is_settled());
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

    fn run(&mut self, channels: &mut [&mut [f32]], start: usize, end: usize) {
        // The input history, taken before the in-place processing overwrites it.
        for (ch, samples) in channels.iter().enumerate() {
            let span = &samples[start..end];
            let x1 = f64::from(span[span.len() - 1]);
            let x2 = match span.len() {
                1 => self.input_hist[0][ch],
                n => f64::from(span[n - 2]),
            };
            self.input_hist[0][ch] = x1;
            self.input_hist[1][ch] = x2;
        }
        if self.n_active == 0 {
            return;
        }
        let mut io = match channels {
            [mono] => Io::Mono(&mut mono[start..end]),
            [left, right, ..] => Io::Stereo(&mut left[start..end], &mut right[start..end]),
            [] => return,
        };
        let active = &self.active[..self.n_active];
        biquad::run(&self.coeffs, &mut self.states, active, &mut io, self.phase);
    }
}
