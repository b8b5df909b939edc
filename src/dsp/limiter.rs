//! Look-ahead true-peak limiter.
//!
//! The gain computer works on the true peak (see [`super::true_peak`]), so the reconstructed
//! output, not just its samples, stays under the ceiling. The design is the classic
//! "min-hold then smooth" look-ahead limiter (as in e.g. Giannoulis, Massberg & Reiss,
//! "Digital Dynamic Range Compressor Design", JAES 2012, and the sliding-minimum / box-filter
//! limiters described by Sanfilippo and by Wessel for master_me):
//!
//! 1. `r[m] = min(1, threshold / truepeak[m])`, the gain each interval needs;
//! 2. a sliding minimum of `r` over `hold = L + 2M` samples (monotonic deque, O(1));
//! 3. a one-pole release toward that held value (instant attack, so it never rises above it);
//! 4. a moving average over `L` samples: the attack becomes a ramp of length `L` that is
//!    already complete when the peak arrives, because the audio is delayed to match.
//!
//! With the audio delayed by `G + L + M - 1` samples (G: the detector's own delay), every
//! output sample within ±M of a peak is scaled by at most that peak's required gain (the
//! proof is in `latency_for`). So the limiter is exact by construction, not by tuning.

use super::sanitize::flush;
use super::settings::LimiterSettings;
use super::settings::{AUTO_RELEASE_SLOW_MS, LOOKAHEAD_MS};
use super::true_peak::{TruePeakDetector, TAPS_PER_PHASE};
use super::units::{db_to_gain, ms_to_samples};

/// Samples on either side of a detected peak that are held at its gain, so the interpolating
/// reconstruction around the peak sees a flat gain, not the edge of the attack ramp.
pub const GUARD_SAMPLES: usize = 4;

/// Internal headroom under the ceiling. The detector reads within 0.1 dB of the ideal
/// reconstruction up to 20 kHz; this margin covers the rest and the 24-bit quantisation that
/// follows, so a meter of another design (ebur128's 4x, a 16x check) still reads at or under
/// the ceiling.
pub const CEILING_MARGIN_DB: f32 = 0.1;

/// How far back the automatic release looks to judge whether limiting is sustained.
pub const SUSTAIN_WINDOW_MS: f32 = 400.0;

/// Sliding-window minimum over the last `window` values (monotonic deque in a ring buffer).
#[derive(Debug, Clone)]
struct SlidingMin {
    index: Vec<u64>,
    value: Vec<f32>,
    head: usize,
    len: usize,
    window: u64,
}

impl SlidingMin {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            index: vec![0; capacity],
            value: vec![0.0; capacity],
            head: 0,
            len: 0,
            window: 1,
        }
    }

    fn configure(&mut self, window: usize) {
        self.window = window.clamp(1, self.index.len()) as u64;
        self.reset();
    }

    fn reset(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    #[inline]
    fn push(&mut self, n: u64, v: f32) -> f32 {
        let cap = self.index.len();
        // Values at least as large as the new one can never be the minimum again.
        while self.len > 0 {
            let back = (self.head + self.len - 1) % cap;
            if self.value[back] >= v {
                self.len -= 1;
            } else {
                break;
            }
        }
        let slot = (self.head + self.len) % cap;
        self.index[slot] = n;
        self.value[slot] = v;
        self.len += 1;
        // Drop what has left the window.
        while n - self.index[self.head] >= self.window {
            self.head = (self.head + 1) % cap;
            self.len -= 1;
        }
        self.value[self.head]
    }
}

/// Moving average over the last `len` values. The running sum is rebuilt from the ring once
/// per lap so rounding never accumulates, and a run of 1.0s averages to exactly 1.0.
#[derive(Debug, Clone)]
struct MovingAverage {
    ring: Vec<f32>,
    len: usize,
    pos: usize,
    sum: f64,
}

impl MovingAverage {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            ring: vec![1.0; capacity],
            len: 1,
            pos: 0,
            sum: 1.0,
        }
    }

    fn configure(&mut self, len: usize) {
        self.len = len.clamp(1, self.ring.len());
        self.reset();
    }

    fn reset(&mut self) {
        self.fill(1.0);
    }

    /// Starts the average from a steady `value`.
    fn fill(&mut self, value: f32) {
        self.ring[..self.len].fill(value);
        self.pos = 0;
        self.sum = value as f64 * self.len as f64;
    }

    #[inline]
    fn push(&mut self, v: f32) -> f32 {
        self.sum += v as f64 - self.ring[self.pos] as f64;
        self.ring[self.pos] = v;
        self.pos += 1;
        if self.pos == self.len {
            self.pos = 0;
            self.sum = self.ring[..self.len].iter().map(|&x| x as f64).sum();
        }
        (self.sum / self.len as f64) as f32
    }
}

/// The limiter's latency at `sample_rate`. It is the delay of the longest look-ahead, whatever
/// the look-ahead is set to: a latency that moved with a knob would make the host re-align
/// every track while the engineer turns it (and CLAP only allows a latency change while the
/// plugin is deactivated). A shorter look-ahead just sits later in the same delay.
pub fn latency_at(sample_rate: f32) -> usize {
    latency_for(ms_to_samples(LOOKAHEAD_MS.max, sample_rate))
}

/// The delay from the detector's input to the output for a look-ahead of `lookahead` samples.
///
/// A peak detected at detector index `m` is handled by the gain at output time
/// `n = m + G + j` for the sample `j` frames from it. The moving average at `n` spans held
/// values over `[n - G - L + 1, n - G]`, and each of those is at most `r[m]` while it lies in
/// `[m, m + hold - 1]`. Both ends fit for every `j` in `-M..=M` exactly when the delay is
/// `G + L + M - 1`.
pub fn latency_for(lookahead: usize) -> usize {
    TruePeakDetector::delay() + lookahead + GUARD_SAMPLES - 1
}

#[derive(Debug, Clone)]
pub struct TruePeakLimiter {
    sample_rate: f32,
    detector: TruePeakDetector,
    hold: SlidingMin,
    smooth: MovingAverage,
    /// Per channel, the input history: the output reads it `latency` back, the detector
    /// `max_lookahead - lookahead` back, and a look-ahead change replays it.
    history: Vec<Vec<f32>>,
    pos: usize,
    max_lookahead: usize,
    latency: usize,
    lookahead: usize,
    release_coeff: f32,
    /// The release coefficient under sustained limiting (auto release), and a slow average of
    /// the envelope that tells sustained limiting from isolated peaks.
    slow_release_coeff: f32,
    sustain_coeff: f32,
    sustained_envelope: f32,
    auto_release: bool,
    release_ms: f32,
    envelope: f32,
    gain: f32,
    threshold: f32,
    clock: u64,
}

impl TruePeakLimiter {
    /// Allocates for the longest look-ahead at `sample_rate`, for up to `channels` channels.
    pub fn new(sample_rate: f32, channels: usize) -> Self {
        let max_lookahead = ms_to_samples(LOOKAHEAD_MS.max, sample_rate);
        let latency = latency_for(max_lookahead);
        // Enough history to replay every sample that can still influence a future output.
        let capacity = latency + max_lookahead + 2 * GUARD_SAMPLES + TAPS_PER_PHASE + 2;
        let mut limiter = Self {
            sample_rate,
            detector: TruePeakDetector::new(sample_rate, channels),
            hold: SlidingMin::with_capacity(max_lookahead + 2 * GUARD_SAMPLES + 1),
            smooth: MovingAverage::with_capacity(max_lookahead),
            history: vec![vec![0.0; capacity]; channels.max(1)],
            pos: 0,
            max_lookahead,
            latency,
            lookahead: 0,
            release_coeff: 0.0,
            slow_release_coeff: 0.0,
            sustain_coeff: (-1.0 / (SUSTAIN_WINDOW_MS * 0.001 * sample_rate)).exp(),
            sustained_envelope: 1.0,
            auto_release: true,
            release_ms: f32::NAN,
            envelope: 1.0,
            gain: 1.0,
            threshold: 1.0,
            clock: 0,
        };
        limiter.configure(&LimiterSettings::default());
        limiter.reset();
        limiter
    }

    /// Takes the look-ahead, release and ceiling from `settings`. A new look-ahead rebuilds the
    /// gain computer's state from the audio still in flight (see `replay`), so no peak that is
    /// yet to leave escapes it; the latency stays the same.
    #[inline]
    pub fn configure(&mut self, settings: &LimiterSettings) {
        self.threshold = db_to_gain(settings.ceiling_dbtp - CEILING_MARGIN_DB);
        if settings.release_ms != self.release_ms {
            self.release_ms = settings.release_ms;
            let coeff = |ms: f32| (-1.0 / (ms * 0.001 * self.sample_rate)).exp();
            self.release_coeff = coeff(settings.release_ms);
            self.slow_release_coeff = coeff(AUTO_RELEASE_SLOW_MS.max(settings.release_ms));
        }
        self.auto_release = settings.auto_release;
        let lookahead =
            ms_to_samples(settings.lookahead_ms, self.sample_rate).min(self.max_lookahead);
        if lookahead != self.lookahead {
            self.lookahead = lookahead;
            self.replay();
        }
    }

    /// Clears all state: silence in, unity gain.
    pub fn reset(&mut self) {
        for h in &mut self.history {
            h.fill(0.0);
        }
        self.pos = 0;
        self.envelope = 1.0;
        self.gain = 1.0;
        self.restart_gain_computer();
    }

    fn restart_gain_computer(&mut self) {
        self.detector.reset();
        self.hold.configure(self.lookahead + 2 * GUARD_SAMPLES);
        self.smooth.configure(self.lookahead);
        self.smooth.fill(self.gain);
        self.envelope = self.gain;
        self.sustained_envelope = self.gain;
        self.clock = 0;
    }

    /// Re-runs the gain computer over the stored input, as if the current look-ahead had been
    /// set all along, starting from the gain now applied so the output does not jump. Costs
    /// one pass over ~2 look-aheads of audio; allocation-free.
    fn replay(&mut self) {
        self.restart_gain_computer();
        let capacity = self.history[0].len();
        let tap = self.max_lookahead - self.lookahead;
        // Oldest stored sample first, up to the detector's current tap.
        let count = capacity - 1 - tap;
        for k in (0..count).rev() {
            let back = tap + k;
            let idx = (self.pos + capacity - 1 - back) % capacity;
            self.step_gain(|h: &Vec<f32>| h[idx]);
        }
    }

    /// Advances the gain computer by one detector frame and returns the gain for the output.
    #[inline]
    fn step_gain(&mut self, frame: impl Fn(&Vec<f32>) -> f32) -> f32 {
        let mut peak = 0.0f32;
        for c in 0..self.history.len() {
            let x = frame(&self.history[c]);
            peak = peak.max(self.detector.push(c, x));
        }
        self.detector.advance();
        let required = if peak > self.threshold {
            self.threshold / peak
        } else {
            1.0
        };
        let held = self.hold.push(self.clock, required);
        self.clock += 1;
        let release = if self.auto_release {
            self.auto_release_coeff()
        } else {
            self.release_coeff
        };
        self.envelope = if held <= self.envelope {
            held
        } else {
            let e = held - flush(held - self.envelope) * release;
            // Land exactly on the held value so an idle limiter is exactly unity gain.
            if held - e < 1e-7 {
                held
            } else {
                e
            }
        };
        self.sustained_envelope =
            self.envelope + (self.sustained_envelope - self.envelope) * self.sustain_coeff;
        self.smooth.push(self.envelope)
    }

    /// Program-dependent release. How much of the current gain reduction has been there on
    /// average over the last [`SUSTAIN_WINDOW_MS`] tells a sustained passage (a held bass note,
    /// a dense chorus: the reduction is steady, and releasing between its peaks would modulate
    /// the gain at the note's frequency, which is distortion) from an isolated peak (a snare
    /// hit: release fast so the limiting is not heard as a dip). The coefficient slides from
    /// the set release to [`AUTO_RELEASE_SLOW_MS`] with that ratio, the idea of the dual
    /// time-constant release in broadcast limiters, here without a log per sample.
    #[inline]
    fn auto_release_coeff(&self) -> f32 {
        let reduction = 1.0 - self.envelope;
        let sustained = if reduction > 1e-6 {
            ((1.0 - self.sustained_envelope) / reduction).clamp(0.0, 1.0)
        } else {
            0.0
        };
        // Only near-steady reduction earns the slow release: music whose peaks come and go
        // (sustain ratio ~0.3–0.7) should keep most of the set release's speed and loudness.
        let s2 = sustained * sustained;
        let s4 = s2 * s2;
        let s8 = s4 * s4;
        self.release_coeff + (self.slow_release_coeff - self.release_coeff) * (s8 * s8)
    }

    pub fn latency_samples(&self) -> usize {
        self.latency
    }

    pub fn oversampling(&self) -> usize {
        self.detector.factor()
    }

    /// Limits `channels` in place (linked: one gain for all channels, so the image does not
    /// shift). Channels beyond those prepared for pass through untouched. Returns the smallest
    /// gain applied in the block (1.0: no limiting).
    pub fn process(&mut self, channels: &mut [&mut [f32]], settings: &LimiterSettings) -> f32 {
        self.configure(settings);
        let frames = channels.first().map_or(0, |c| c.len());
        let n_ch = channels.len().min(self.history.len());
        let capacity = self.history[0].len();
        let tap = self.max_lookahead - self.lookahead;
        let mut min_gain = 1.0f32;
        for i in 0..frames {
            for (h, ch) in self.history.iter_mut().zip(channels.iter()).take(n_ch) {
                h[self.pos] = ch[i];
            }
            // A mono block on a stereo limiter: the unused channel reads silence.
            for h in self.history.iter_mut().skip(n_ch) {
                h[self.pos] = 0.0;
            }
            let newest = self.pos;
            self.pos = (self.pos + 1) % capacity;
            let detect_at = (newest + capacity - tap) % capacity;
            let gain = self.step_gain(|h: &Vec<f32>| h[detect_at]);
            self.gain = gain;
            min_gain = min_gain.min(gain);
            let out_at = (newest + capacity - self.latency) % capacity;
            for (h, ch) in self.history.iter().zip(channels.iter_mut()).take(n_ch) {
                ch[i] = h[out_at] * gain;
            }
        }
        min_gain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_min_tracks_the_window() {
        let mut m = SlidingMin::with_capacity(8);
        m.configure(3);
        let xs = [5.0, 3.0, 4.0, 6.0, 7.0, 1.0, 8.0, 9.0, 9.0];
        let want = [5.0, 3.0, 3.0, 3.0, 4.0, 1.0, 1.0, 1.0, 8.0];
        for (n, (&x, &w)) in xs.iter().zip(want.iter()).enumerate() {
            assert_eq!(m.push(n as u64, x), w, "at {n}");
        }
    }

    #[test]
    fn idle_limiter_is_an_exact_delay() {
        let mut lim = TruePeakLimiter::new(48_000.0, 1);
        let s = LimiterSettings::default();
        let latency = lim.latency_samples();
        let mut x: Vec<f32> = (0..2000).map(|n| (n as f32 * 0.01).sin() * 0.3).collect();
        let input = x.clone();
        lim.process(&mut [&mut x[..]], &s);
        for n in latency..2000 {
            assert_eq!(x[n], input[n - latency]);
        }
    }

    #[test]
    fn a_single_over_is_fully_caught_at_every_look_ahead() {
        for lookahead_ms in [0.5, 2.0, 10.0] {
            let s = LimiterSettings {
                lookahead_ms,
                ..LimiterSettings::default()
            };
            let mut lim = TruePeakLimiter::new(44_100.0, 1);
            let mut x = vec![0.0f32; 4000];
            x[1000] = 4.0;
            lim.process(&mut [&mut x[..]], &s);
            let peak = x.iter().fold(0.0f32, |a, &b| a.max(b.abs()));
            assert!(
                peak <= db_to_gain(s.ceiling_dbtp),
                "{lookahead_ms} ms: {peak}"
            );
            assert!(
                peak > db_to_gain(s.ceiling_dbtp - 0.5),
                "{lookahead_ms} ms: {peak}"
            );
        }
    }
}
