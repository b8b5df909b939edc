//! The EQ's sections as smoothed natural parameters, and the coefficients they imply.
//!
//! Parameters glide instead of jumping, and the glide is in the units the ear hears: gain in
//! dB, frequency in octaves (log2 Hz), Q as ln Q. Coefficients are recomputed from the glided
//! parameters on a fixed cadence of [`TICK`] samples counted from reset, never at block
//! starts, so the output does not depend on how the host splits its blocks.

use super::biquad::State;
use super::design::{Biquad, Designer};
use super::{EqSettings, HpMode};

/// Samples between coefficient updates while anything moves. At 44.1 kHz that is 0.36 ms,
/// far finer than the 10 ms glide, so each update is a small step (under 0.9 dB of gain even
/// for an instant -12 to +12 dB jump).
pub const TICK: usize = 16;

/// Time constant of every parameter glide. Like the chain's gains (`SmoothedGain`), fast
/// enough to follow automation, slow enough that a jump becomes a sweep, not a click.
pub const GLIDE_MS: f64 = 10.0;

/// Q of the single 12 dB/oct section and of the two 24 dB/oct sections: 2nd- and
/// 4th-order Butterworth, all -3 dB at the cutoff.
pub const BUTTERWORTH_Q12: f64 = std::f64::consts::FRAC_1_SQRT_2;
pub const BUTTERWORTH_Q24: [f64; 2] = [0.541_196_100_146_197, 1.306_562_964_876_376_6];

/// The sections in signal order: high-pass (2), low shelf, three bells, high shelf, tilt.
pub const SECTIONS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A high-pass section; `amount` is its depth (1 flat, 0 full high-pass).
    HighPass,
    LowShelf,
    Bell,
    HighShelf,
    /// `amount` is the tilt in dB; frequency and Q are fixed.
    Tilt,
}

impl Kind {
    const ALL: [Kind; SECTIONS] = [
        Kind::HighPass,
        Kind::HighPass,
        Kind::LowShelf,
        Kind::Bell,
        Kind::Bell,
        Kind::Bell,
        Kind::HighShelf,
        Kind::Tilt,
    ];

    /// The `amount` at which the section is the identity and is skipped.
    fn flat(self) -> f64 {
        match self {
            Kind::HighPass => 1.0,
            _ => 0.0,
        }
    }

    /// Closer than this to its target, a glide lands on it exactly (so a section glided back
    /// to flat really is flat, and skipped): 1e-4 dB, or 1e-6 of high-pass depth (-240 dB).
    fn amount_epsilon(self) -> f64 {
        match self {
            Kind::HighPass => 1e-6,
            _ => 1e-4,
        }
    }
}

/// One-pole glide toward a target, defined per sample (`x += (target - x)·(1 - e^(-1/τ))`)
/// and advanced [`TICK`] samples at a time with the same pole raised to the [`TICK`]th power,
/// which is the per-sample recursion at every sample where coefficients are computed. The
/// distance to go is kept on its own, as in `SmoothedGain`, so it decays to exactly 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Glide {
    target: f64,
    offset: f64,
    epsilon: f64,
}

impl Glide {
    fn new(value: f64, epsilon: f64) -> Self {
        Self {
            target: value,
            offset: 0.0,
            epsilon,
        }
    }

    #[inline]
    pub fn value(&self) -> f64 {
        self.target + self.offset
    }

    fn snap(&mut self, target: f64) {
        self.target = target;
        self.offset = 0.0;
    }

    fn set_target(&mut self, target: f64) {
        if target != self.target {
            self.offset = self.value() - target;
            self.target = target;
        }
    }

    fn is_settled(&self) -> bool {
        self.offset == 0.0
    }

    /// Advances one tick; returns whether the value changed.
    fn tick(&mut self, decay: f64) -> bool {
        if self.offset == 0.0 {
            return false;
        }
        let next = self.offset * decay;
        self.offset = if next.abs() < self.epsilon { 0.0 } else { next };
        true
    }
}

/// What one section should become: frequency in octaves (log2 Hz), ln Q, and its amount
/// (gain in dB, or depth for a high-pass section).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    pub log2_freq: f64,
    pub ln_q: f64,
    pub amount: f64,
}

/// The per-section targets for `settings`, which must already be clamped. Every shelf's and
/// bell's gain and the tilt are scaled by the amount ([`super::EQ_AMOUNT_PCT`]); at 100 % the
/// factor is exactly 1.0 and the targets are the gains themselves, bit for bit.
pub fn targets(settings: &EqSettings) -> [Target; SECTIONS] {
    let scale = f64::from(settings.amount_pct) / 100.0;
    let hp_freq = f64::from(settings.hp_freq_hz).log2();
    let q0 = match settings.hp_mode {
        HpMode::Slope24 => BUTTERWORTH_Q24[0],
        _ => BUTTERWORTH_Q12,
    };
    let d0 = if settings.hp_mode == HpMode::Off {
        1.0
    } else {
        0.0
    };
    let d1 = if settings.hp_mode == HpMode::Slope24 {
        0.0
    } else {
        1.0
    };
    let band = |freq_hz: f32, q: f32, gain_db: f32| Target {
        log2_freq: f64::from(freq_hz).log2(),
        ln_q: f64::from(q).ln(),
        amount: f64::from(gain_db) * scale,
    };
    let ls = &settings.low_shelf;
    let hs = &settings.high_shelf;
    let [b1, b2, b3] = &settings.bells;
    [
        Target {
            log2_freq: hp_freq,
            ln_q: q0.ln(),
            amount: d0,
        },
        Target {
            log2_freq: hp_freq,
            ln_q: BUTTERWORTH_Q24[1].ln(),
            amount: d1,
        },
        band(ls.freq_hz, ls.q, ls.gain_db),
        band(b1.freq_hz, b1.q, b1.gain_db),
        band(b2.freq_hz, b2.q, b2.gain_db),
        band(b3.freq_hz, b3.q, b3.gain_db),
        band(hs.freq_hz, hs.q, hs.gain_db),
        Target {
            log2_freq: 0.0,
            ln_q: 0.0,
            amount: f64::from(settings.tilt_db) * scale,
        },
    ]
}

/// Coefficients of a section of `kind` at the (glided) parameters `t`.
pub fn design(kind: Kind, t: &Target, designer: &Designer) -> Biquad {
    let freq = t.log2_freq.exp2();
    let q = t.ln_q.exp();
    match kind {
        Kind::HighPass => designer.high_pass_section(freq, q, t.amount),
        Kind::LowShelf => designer.low_shelf(freq, q, t.amount),
        Kind::Bell => designer.bell(freq, q, t.amount),
        Kind::HighShelf => designer.high_shelf(freq, q, t.amount),
        Kind::Tilt => designer.tilt(t.amount),
    }
}

/// Whether a section at `t` is the identity (and is skipped).
pub fn is_flat(kind: Kind, t: &Target) -> bool {
    t.amount == kind.flat()
}

/// The kind of each section, in signal order.
pub fn kinds() -> [Kind; SECTIONS] {
    Kind::ALL
}

/// The glided parameters of one section.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Section {
    pub kind: Kind,
    log2_freq: Glide,
    ln_q: Glide,
    amount: Glide,
}

impl Section {
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            log2_freq: Glide::new(0.0, 1e-6),
            ln_q: Glide::new(0.0, 1e-6),
            amount: Glide::new(kind.flat(), kind.amount_epsilon()),
        }
    }

    pub fn current(&self) -> Target {
        Target {
            log2_freq: self.log2_freq.value(),
            ln_q: self.ln_q.value(),
            amount: self.amount.value(),
        }
    }

    /// Jumps straight to `t` (the first block after a reset: a session that opens with a
    /// boost must not sweep in from flat).
    pub fn snap(&mut self, t: &Target) {
        self.log2_freq.snap(t.log2_freq);
        self.ln_q.snap(t.ln_q);
        self.amount.snap(t.amount);
    }

    pub fn set_target(&mut self, t: &Target) {
        self.log2_freq.set_target(t.log2_freq);
        self.ln_q.set_target(t.ln_q);
        self.amount.set_target(t.amount);
    }

    pub fn is_settled(&self) -> bool {
        self.log2_freq.is_settled() && self.ln_q.is_settled() && self.amount.is_settled()
    }

    /// Settled at the identity: skipped, deterministically, from the next tick on.
    pub fn is_bypassed(&self) -> bool {
        self.amount.is_settled() && is_flat(self.kind, &self.current())
    }

    /// Advances every glide one tick; returns whether anything changed.
    pub fn tick(&mut self, decay: f64) -> bool {
        // No short-circuit: every glide must advance.
        let f = self.log2_freq.tick(decay);
        let q = self.ln_q.tick(decay);
        let a = self.amount.tick(decay);
        f | q | a
    }
}

/// The per-tick decay of a glide with time constant [`GLIDE_MS`] at `sample_rate`.
pub fn tick_decay(sample_rate: f64) -> f64 {
    (-(TICK as f64) / (GLIDE_MS * 0.001 * sample_rate)).exp()
}

/// Rebuilds the list of sections a cascade runs (`active[..n_active]`, in order), for the
/// tonal EQ and the match curve alike. A section settled flat leaves it with its history
/// cleared and identity coefficients. A section coming back starts with the history of the
/// signal at its input (it was the identity until now, so that is also its output history),
/// exactly as if it had run all along; its first coefficient update then acts on the real
/// signal, not on silence. `input_hist` is the cascade's input history. At most 64 sections.
pub fn rebuild_active(
    sections: &[Section],
    coeffs: &mut [Biquad],
    states: &mut [State],
    active: &mut [usize],
    n_active: &mut usize,
    input_hist: [[f64; 2]; 2],
) {
    debug_assert!(sections.len() <= 64);
    let was_active = active[..*n_active]
        .iter()
        .fold(0u64, |mask, &i| mask | (1 << i));
    let mut upstream = input_hist;
    *n_active = 0;
    for (i, section) in sections.iter().enumerate() {
        if section.is_bypassed() {
            states[i] = [[0.0; 2]; 4];
            coeffs[i] = Biquad::IDENTITY;
            continue;
        }
        if was_active & (1 << i) == 0 {
            states[i] = [upstream[0], upstream[1], upstream[0], upstream[1]];
        }
        upstream = [states[i][2], states[i][3]];
        active[*n_active] = i;
        *n_active += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glides_land_exactly_and_in_bounded_time() {
        let decay = tick_decay(44_100.0);
        let mut g = Glide::new(-12.0, 1e-4);
        g.set_target(12.0);
        let mut ticks = 0;
        let mut last = g.value();
        while !g.is_settled() {
            assert!(g.tick(decay));
            assert!(g.value() > last, "monotonic");
            last = g.value();
            ticks += 1;
        }
        assert_eq!(g.value(), 12.0);
        // 24 dB down to 1e-4 dB at 10 ms per e-fold: ~124 ms, 342 ticks of 16 at 44.1 kHz.
        assert!((300..400).contains(&ticks), "{ticks}");
        assert!(!g.tick(decay), "a settled glide stays put");
    }

    #[test]
    fn high_pass_modes_map_to_depths_and_butterworth_q() {
        let mut s = EqSettings::default();
        let depth = |s: &EqSettings| {
            let t = targets(s);
            (t[0].amount, t[1].amount, t[0].ln_q.exp())
        };
        assert_eq!(depth(&s).0, 1.0);
        assert_eq!(depth(&s).1, 1.0);
        s.hp_mode = HpMode::Slope12;
        let (d0, d1, q0) = depth(&s);
        assert_eq!((d0, d1), (0.0, 1.0));
        assert!((q0 - BUTTERWORTH_Q12).abs() < 1e-12);
        s.hp_mode = HpMode::Slope24;
        let (d0, d1, q0) = depth(&s);
        assert_eq!((d0, d1), (0.0, 0.0));
        assert!((q0 - BUTTERWORTH_Q24[0]).abs() < 1e-12);
        // Neutral settings leave every section flat, whatever the frequencies.
        for (kind, t) in kinds().iter().zip(&targets(&EqSettings::default())) {
            assert!(is_flat(*kind, t));
        }
    }
}
