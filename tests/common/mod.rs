//! Signals and measurements shared by the integration tests.
#![allow(dead_code)]

use lathe::dsp::{Chain, ChainSettings, Meters};

/// A small deterministic generator (xorshift64*), so every run tests the same signals.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [-1, 1).
    pub fn bipolar(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A music-like stereo test signal: a bass line, chords, bright partials up to 16 kHz,
/// noise and drum-like bursts, peaking near `peak`.
pub fn music_like(frames: usize, sample_rate: f32, peak: f32, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    let mut left = vec![0.0f32; frames];
    let mut right = vec![0.0f32; frames];
    let tau = 2.0 * std::f32::consts::PI;
    let partials = [
        55.0, 110.0, 220.0, 329.6, 440.0, 659.3, 1318.5, 2637.0, 5274.0, 9000.0, 15_800.0,
    ];
    for (n, (lo, ro)) in left.iter_mut().zip(right.iter_mut()).enumerate() {
        let t = n as f32 / sample_rate;
        let beat = (t * 2.0).fract();
        let kick = (-beat * 30.0).exp() * (tau * 60.0 * t).sin();
        let mut l = 0.6 * kick;
        let mut r = 0.6 * kick;
        for (k, f) in partials.iter().enumerate() {
            let a = 0.12 / (1.0 + k as f32 * 0.5);
            l += a * (tau * f * t + k as f32).sin();
            r += a * (tau * f * 1.003 * t + 2.0 * k as f32).sin();
        }
        let hat = if beat > 0.5 && beat < 0.52 {
            rng.bipolar() * 0.4
        } else {
            0.0
        };
        l += hat + rng.bipolar() * 0.02;
        r += hat + rng.bipolar() * 0.02;
        *lo = l;
        *ro = r;
    }
    let mut out = vec![left, right];
    let max = out
        .iter()
        .flat_map(|c| c.iter())
        .fold(0.0f32, |a, &b| a.max(b.abs()));
    for c in &mut out {
        for s in c.iter_mut() {
            *s *= peak / max;
        }
    }
    out
}

/// Runs `input` through a fresh chain in one block and returns the output.
pub fn run_chain(input: &[Vec<f32>], sample_rate: f32, settings: &ChainSettings) -> Vec<Vec<f32>> {
    let mut chain = Chain::new();
    chain.prepare(sample_rate, 8192);
    let mut out = input.to_vec();
    let mut block: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[..]).collect();
    chain.process(&mut block, settings, &mut Meters::default());
    out
}

/// Runs `input` through a fresh chain, split into the given block lengths (cycled).
pub fn run_chain_blocks(
    input: &[Vec<f32>],
    sample_rate: f32,
    settings: &ChainSettings,
    blocks: &[usize],
) -> Vec<Vec<f32>> {
    let mut chain = Chain::new();
    chain.prepare(sample_rate, 8192);
    let mut out = input.to_vec();
    let frames = out[0].len();
    let mut start = 0;
    let mut k = 0;
    while start < frames {
        let end = (start + blocks[k % blocks.len()]).min(frames);
        k += 1;
        let mut block: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
        chain.process(&mut block, settings, &mut Meters::default());
        start = end;
    }
    out
}

/// True peak in dBTP as the ebur128 crate measures it (ITU-R BS.1770-4 Annex 2).
pub fn ebur128_true_peak_dbtp(channels: &[Vec<f32>], sample_rate: u32) -> f64 {
    let mut m = ebur128::EbuR128::new(channels.len() as u32, sample_rate, ebur128::Mode::TRUE_PEAK)
        .expect("ebur128 meter");
    let planar: Vec<&[f32]> = channels.iter().map(|c| &c[..]).collect();
    m.add_frames_planar_f32(&planar).expect("frames");
    let peak = (0..channels.len() as u32)
        .map(|c| m.true_peak(c).expect("true peak"))
        .fold(0.0f64, f64::max);
    20.0 * peak.log10()
}

/// Largest absolute difference between two signals, in dBFS.
pub fn max_difference_db(a: &[f32], b: &[f32]) -> f64 {
    let d = a
        .iter()
        .zip(b)
        .fold(0.0f64, |m, (&x, &y)| m.max((x as f64 - y as f64).abs()));
    if d == 0.0 {
        f64::NEG_INFINITY
    } else {
        20.0 * d.log10()
    }
}

pub const SAMPLE_RATES: [f32; 6] = [44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0, 192_000.0];

/// Settings that make every working stage do something.
pub fn busy_settings() -> ChainSettings {
    let mut s = ChainSettings::default();
    s.input.trim_db = -2.0;
    s.stereo.width_pct = 130.0;
    s.stereo.mono_below = true;
    s.stereo.mono_below_hz = 150.0;
    s.limiter.drive_db = 12.0;
    s.limiter.release_ms = 60.0;
    s.output.gain_db = -0.5;
    s.eq.hp_mode = lathe::dsp::eq::HpMode::Slope24;
    s.eq.hp_freq_hz = 25.0;
    s.eq.tilt_db = 1.5;
    s.eq.low_shelf.gain_db = 2.0;
    s.eq.bells[1].gain_db = -3.0;
    s.eq.high_shelf.gain_db = 1.5;
    // The stage amounts off 100 %, so every contract covers their scaling too.
    s.eq.amount_pct = 120.0;
    s.multiband.amount_pct = 80.0;
    s.multiband.enabled = true;
    for (i, band) in s.multiband.bands.iter_mut().enumerate() {
        band.threshold_db = -24.0 + 2.0 * i as f32;
        band.ratio = 2.0 + i as f32;
        band.makeup_db = 1.0;
    }
    // Learn on: the learner drives the limiter (and runs its shadow limiters).
    s.target.learn = true;
    // A reference-match curve, mid and side, so every contract covers that stage too.
    s.match_eq.amount_pct = 80.0;
    s.match_eq.low_shelf_db = 2.0;
    s.match_eq.high_shelf_db = -1.5;
    for (i, g) in s.match_eq.bells_db.iter_mut().enumerate() {
        *g = 3.0 * (i as f32 * 0.7).sin();
    }
    for (i, g) in s.match_eq.side_db.iter_mut().enumerate() {
        *g = 2.0 - 0.5 * i as f32;
    }
    s
}
