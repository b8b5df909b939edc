//! Look-ahead true-peak limiter.
//!
//! The gain computer works on the true peak (see [`super::true_peak`]), so the reconstructed
//! output, not just its samples, stays under the ceiling. The design is the classic
//! "min-hold then smooth" look-ahead limiter (as in e.g. Giannoulis, Massberg & Reiss,
//! "Digital Dynamic Range Compressor Design", JAES 2012, and the sliding-minimum / box-filter
//! limiters described by Sanfilippo and by Wessel for master_me):
//!
//! 1. `r[m] = min(1, threshold / truepeak[m])`, the gain each interval needs;
//! 2. a sliding minimum of `r` over `hold = L + 2M` samples (van Herk / Gil-Werman, O(1));
//! 3. a one-pole release toward that held value (instant attack, so it never rises above it);
//! 4. a moving average over `L` samples: the attack becomes a ramp of length `L` that is
//!    already complete when the peak arrives, because the audio is delayed to match.
//!
//! With the audio delayed by `G + L + M - 1` samples (G: the detector's own delay), every
//! output sample within ±M of a peak is scaled by at most that peak's required gain (the
//! proof is in `latency_for`). So the limiter is exact by construction, not by tuning.
//!
//! Speed: the detector is a pure function of the input, so the limiter measures a pass of up
//! to [`PASS_FRAMES`] frames at once (vectorised, see [`super::true_peak`]), then runs the
//! gain computer over the pass frame by frame, then applies the gains in one loop. Nothing
//! depends on where a pass starts, so the output is the same for any block split.

use super::settings::LimiterSettings;
use super::settings::{AUTO_RELEASE_SLOW_MS, LOOKAHEAD_MS};
use super::true_peak::{TruePeakDetector, TAPS_PER_PHASE};
use super::units::{db_to_gain, ms_to_samples};

/// Samples on either side of a detected peak that are held at its gain, so the interpolating
/// reconstruction around the peak sees a flat gain, not the edge of the attack ramp.
pub const GUARD_SAMPLES: usize = 4;

/// Internal headroom under the ceiling. Between the points of its 8x grid the detector can
/// miss up to 0.14 dB of a 20 kHz peak at 44.1 kHz, and the gain's own movement adds a few
/// hundredths of a dB to what a finer check reads; this margin covers that and the 24-bit
/// quantisation that follows, so ebur128 (read at exactly its own points) never reads over
/// the ceiling and a 16x check stays within 0.1 dB of it (`tests/limiter_ceiling.rs`).
pub const CEILING_MARGIN_DB: f32 = 0.08;

/// Limiting that starts again within this long after it stopped, at the same depth, is a
/// steady tone being held down (see [`Steadiness`]). 25 ms is the half period of 20 Hz: a
/// sine's peaks, of either polarity, come at least this often.
pub const STEADY_GAP_MS: f32 = 25.0;

/// Two stretches of limiting are "at the same depth" when their deepest gain reductions (as
/// linear amounts, 1 − gain) agree within this fraction: a sine held down by 1 dB repeats its
/// depth to the rounding of the detector, while the peaks of music, even of one sustained
/// bass note, differ by more (its attack, its decay, the other instruments on top).
pub const STEADY_DEPTH_TOLERANCE: f32 = 0.01;

/// Sliding-window minimum over the last `window` values, by van Herk / Gil-Werman: the
/// stream is cut into blocks of `window` values, and the minimum over a window is the minimum
/// of the current block's prefix and the previous block's suffix. Three comparisons a value,
/// no data-dependent branches (a monotonic deque costs a mispredicted branch whenever the
/// signal turns).
#[derive(Debug, Clone)]
struct SlidingMin {
    /// The current block's values so far, and the previous block's suffix minima.
    block: Vec<f32>,
    suffix: Vec<f32>,
    prefix: f32,
    pos: usize,
    window: usize,
}

impl SlidingMin {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            block: vec![1.0; capacity.max(1)],
            suffix: vec![1.0; capacity.max(1) + 1],
            prefix: f32::INFINITY,
            pos: 0,
            window: 1,
        }
    }

    fn configure(&mut self, window: usize) {
        self.window = window.clamp(1, self.block.len());
        self.reset();
    }

    /// Empty window. The values pushed are gains (at most 1), so a previous block of 1.0s
    /// leaves every minimum to the values actually pushed.
    fn reset(&mut self) {
        self.suffix.fill(1.0);
        self.prefix = f32::INFINITY;
        self.pos = 0;
    }

    #[inline]
    fn push(&mut self, v: f32) -> f32 {
        let pos = self.pos;
        self.block[pos] = v;
        self.prefix = if v < self.prefix { v } else { self.prefix };
        // The window's older part is the previous block from `pos + 1` on (`suffix[window]`
        // is 1.0: when the block is full the window is exactly the block).
        let older = self.suffix[pos + 1];
        let min = if older < self.prefix {
            older
        } else {
            self.prefix
        };
        self.pos += 1;
        if self.pos == self.window {
            let mut m = f32::INFINITY;
            for k in (0..self.window).rev() {
                m = if self.block[k] < m { self.block[k] } else { m };
                self.suffix[k] = m;
            }
            self.suffix[self.window] = 1.0;
            self.prefix = f32::INFINITY;
            self.pos = 0;
        }
        min
    }
}

/// Moving average over the last `len` values. The running sum is rebuilt from the ring once
/// per lap so rounding never accumulates, and a run of 1.0s averages to exactly 1.0 (the sum
/// of f32 values is exact in f64 at these lengths, and the product with `1/len` is within an
/// f64 ulp of the value, which rounds back to it in f32).
#[derive(Debug, Clone)]
struct MovingAverage {
    ring: Vec<f32>,
    len: usize,
    inv_len: f64,
    pos: usize,
    sum: f64,
}

impl MovingAverage {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            ring: vec![1.0; capacity],
            len: 1,
            inv_len: 1.0,
            pos: 0,
            sum: 1.0,
        }
    }

    fn configure(&mut self, len: usize) {
        self.len = len.clamp(1, self.ring.len());
        self.inv_len = 1.0 / self.len as f64;
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
        (self.sum * self.inv_len) as f32
    }
}

/// Program-dependent release: tells a steady tone being held down from music.
///
/// A limiter that releases between the peaks of a low note modulates its gain at the note's
/// frequency, which is distortion (a 50 Hz sine held 1 dB down with a 40 ms release measured
/// -46 dB THD+N). Releasing slowly everywhere avoids that but holds the gain down after every
/// drum hit: with the 1.5 s slow release Lathe had before, the song went down instead of
/// getting louder, and a -9 LUFS target on dense music was out of reach. So the release is
/// fast except while limiting is *steady*: stretches of limiting (the held gain under 1) that
/// come back within [`STEADY_GAP_MS`] of each other at the same depth
/// ([`STEADY_DEPTH_TOLERANCE`]), which is what a sustained tone through a limiter looks like;
/// the slow release then lasts until [`STEADY_GAP_MS`] after the last such stretch. This is
/// the dual time-constant release of broadcast limiters with its switch made explicit, and
/// the slow path is bounded ([`AUTO_RELEASE_SLOW_MS`]) so it cannot saturate.
#[derive(Debug, Clone)]
struct Steadiness {
    /// Steps since reset.
    step: u64,
    gap: u64,
    limiting: bool,
    /// Where the current stretch of limiting started, and the gap before it.
    started: u64,
    gap_before: u64,
    /// The deepest held gain of the current and the previous stretch.
    deepest: f32,
    previous_deepest: f32,
    steady_until: u64,
}

impl Steadiness {
    fn new(gap: u64) -> Self {
        let mut s = Self {
            step: 0,
            gap: gap.max(1),
            limiting: false,
            started: 0,
            gap_before: u64::MAX,
            deepest: 1.0,
            previous_deepest: 1.0,
            steady_until: 0,
        };
        s.reset();
        s
    }

    fn reset(&mut self) {
        self.step = 0;
        self.limiting = false;
        self.started = 0;
        self.gap_before = u64::MAX;
        self.deepest = 1.0;
        self.previous_deepest = 1.0;
        self.steady_until = 0;
    }

    /// Takes the held gain of one step; true while the release should be slow.
    #[inline]
    fn step(&mut self, held: f32) -> bool {
        self.step += 1;
        let limiting = held < 1.0;
        if limiting {
            if !self.limiting {
                self.gap_before = self.step - self.started;
                self.started = self.step;
                self.deepest = held;
            }
            self.deepest = self.deepest.min(held);
        } else if self.limiting {
            // A stretch ended: steady if it came soon after the last one, as deep.
            let (a, b) = (1.0 - self.deepest, 1.0 - self.previous_deepest);
            let same_depth = (a - b).abs() <= STEADY_DEPTH_TOLERANCE * a.max(b);
            if self.gap_before <= self.gap && same_depth {
                self.steady_until = self.step + self.gap;
            }
            self.previous_deepest = self.deepest;
        }
        self.limiting = limiting;
        self.step < self.steady_until
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

/// Frames the limiter measures and computes gains for in one pass; longer blocks go in
/// pieces of this size (the result does not depend on it).
pub const PASS_FRAMES: usize = 256;

#[derive(Debug, Clone)]
pub struct TruePeakLimiter {
    sample_rate: f32,
    detector: TruePeakDetector,
    hold: SlidingMin,
    smooth: MovingAverage,
    /// Per channel, the input, oldest first; `write` is where the next frame goes. The last
    /// `keep` frames are always there: the output reads `latency` back, the detector
    /// `max_lookahead - lookahead` back (and its window further), and a look-ahead change
    /// replays all of them. When the buffer is full they move back to its start.
    history: Vec<Vec<f32>>,
    /// Per input frame, the true peak of the interval that ends at it (0 where the detector
    /// skipped an interval that could not matter), aligned with `history`.
    peaks: Vec<f32>,
    write: usize,
    keep: usize,
    /// The gains of one pass.
    gains: Vec<f32>,
    max_lookahead: usize,
    latency: usize,
    lookahead: usize,
    release_coeff: f32,
    /// The release coefficient while a steady tone is held down (auto release).
    slow_release_coeff: f32,
    auto_release: bool,
    release_ms: f32,
    steadiness: Steadiness,
    envelope: f32,
    /// The gain applied to the last output frame.
    gain: f32,
    threshold: f32,
}

impl TruePeakLimiter {
    /// Allocates for the longest look-ahead at `sample_rate`, for up to `channels` channels.
    pub fn new(sample_rate: f32, channels: usize) -> Self {
        let max_lookahead = ms_to_samples(LOOKAHEAD_MS.max, sample_rate);
        let latency = latency_for(max_lookahead);
        // Enough history to replay every sample that can still influence a future output.
        let keep = latency + max_lookahead + 2 * GUARD_SAMPLES + TAPS_PER_PHASE + 2;
        // Room for several passes before the history has to move back.
        let len = keep + 8 * PASS_FRAMES;
        let mut limiter = Self {
            sample_rate,
            detector: TruePeakDetector::new(sample_rate),
            hold: SlidingMin::with_capacity(max_lookahead + 2 * GUARD_SAMPLES + 1),
            smooth: MovingAverage::with_capacity(max_lookahead),
            history: vec![vec![0.0; len]; channels.max(1)],
            peaks: vec![0.0; len],
            write: keep,
            keep,
            gains: vec![1.0; PASS_FRAMES],
            max_lookahead,
            latency,
            lookahead: 0,
            release_coeff: 0.0,
            slow_release_coeff: 0.0,
            auto_release: true,
            release_ms: f32::NAN,
            steadiness: Steadiness::new(ms_to_samples(STEADY_GAP_MS, sample_rate) as u64),
            envelope: 1.0,
            gain: 1.0,
            threshold: 1.0,
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
        self.peaks.fill(0.0);
        self.write = self.keep;
        self.envelope = 1.0;
        self.gain = 1.0;
        self.restart_gain_computer();
    }

    fn restart_gain_computer(&mut self) {
        self.hold.configure(self.lookahead + 2 * GUARD_SAMPLES);
        self.smooth.configure(self.lookahead);
        self.smooth.fill(self.gain);
        self.envelope = self.gain;
        self.steadiness.reset();
    }

    /// How many frames the detector runs behind the newest input.
    fn tap(&self) -> usize {
        self.max_lookahead - self.lookahead
    }

    /// Re-runs the gain computer over the stored input, as if the current look-ahead had been
    /// set all along, starting from the gain now applied so the output does not jump. Costs
    /// one pass over ~2 look-aheads of audio; allocation-free.
    fn replay(&mut self) {
        self.restart_gain_computer();
        // Every stored detector position with a whole window, up to the detector's new tap.
        let first = self.write - self.keep + TruePeakDetector::history();
        let end = self.write - self.tap();
        let mut at = first;
        while at < end {
            let n = (end - at).min(PASS_FRAMES);
            // Everything exactly: the threshold may have moved since these were measured, and
            // the output meter still reads the ones not yet out.
            self.detect(at, n, 0.0);
            for i in 0..n {
                let peak = self.peaks[at + i - TruePeakDetector::delay()];
                self.step_gain(peak);
            }
            at += n;
        }
    }

    /// Measures detector positions `at..at + n` (history indices of each window's newest
    /// sample) into `peaks`, skipping intervals that provably stay at or under `skip`.
    fn detect(&mut self, at: usize, n: usize, skip: f32) {
        let delay = TruePeakDetector::delay();
        let peaks = &mut self.peaks[at - delay..at - delay + n];
        peaks.fill(0.0);
        let window = at - TruePeakDetector::history();
        for h in &self.history {
            self.detector.measure(&h[window..at + n], peaks, skip);
        }
    }

    /// Advances the gain computer by one detector position with that position's peak and
    /// returns the gain for the output.
    #[inline]
    fn step_gain(&mut self, peak: f32) -> f32 {
        let required = if peak > self.threshold {
            self.threshold / peak
        } else {
            1.0
        };
        let held = self.hold.push(required);
        let steady = self.steadiness.step(held);
        let release = if self.auto_release && steady {
            self.slow_release_coeff
        } else {
            self.release_coeff
        };
        self.envelope = if held <= self.envelope {
            held
        } else {
            let step = (held - self.envelope) * release;
            // Land exactly on the held value so an idle limiter is exactly unity gain (and the
            // distance never decays into subnormal numbers).
            if step < 1e-7 {
                held
            } else {
                arrive(self.envelope, held - step, held)
            }
        };
        self.smooth.push(self.envelope)
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
        self.process_metered(channels, settings, None)
    }

    /// [`Self::process`], also measuring the output's true peak from the detector's own
    /// readings (no second oversampling pass): `meter.0[i]` gets the true peak of the output
    /// interval that ends at frame `i` (the input interval's peak times the larger of the
    /// gains at its two ends; the gain is flat around every peak it limits, see
    /// [`GUARD_SAMPLES`]). Intervals whose peak is provably at or under `meter.1` may read 0:
    /// pass the largest reading so far, so a running maximum stays exact.
    pub fn process_metered(
        &mut self,
        channels: &mut [&mut [f32]],
        settings: &LimiterSettings,
        mut meter: Option<(&mut [f32], f32)>,
    ) -> f32 {
        self.configure(settings);
        let frames = channels.first().map_or(0, |c| c.len());
        let n_ch = channels.len().min(self.history.len());
        let floor = meter.as_ref().map_or(f32::INFINITY, |m| m.1);
        let mut min_gain = 1.0f32;
        let mut start = 0;
        while start < frames {
            let n = (frames - start).min(PASS_FRAMES);
            if self.write + n > self.peaks.len() {
                self.move_history_back();
            }
            let write = self.write;
            for (c, h) in self.history.iter_mut().enumerate() {
                let new = &mut h[write..write + n];
                match channels.get(c).filter(|_| c < n_ch) {
                    Some(ch) => new.copy_from_slice(&ch[start..start + n]),
                    // A mono block on a stereo limiter: the unused channel reads silence.
                    None => new.fill(0.0),
                }
            }
            // The newest input is at `write + i`; the detector's window ends `tap` frames
            // before it, and the output leaves `latency` frames after it came in.
            let at = write - self.tap();
            self.detect(at, n, self.threshold.min(floor));
            let delay = TruePeakDetector::delay();
            for i in 0..n {
                let peak = self.peaks[at + i - delay];
                self.gains[i] = self.step_gain(peak);
            }
            let gains = &self.gains[..n];
            min_gain = gains.iter().fold(min_gain, |m, &g| m.min(g));
            let out_at = write - self.latency;
            for (h, ch) in self.history.iter().zip(channels.iter_mut()).take(n_ch) {
                let out = &mut ch[start..start + n];
                for ((o, &x), &g) in out.iter_mut().zip(&h[out_at..out_at + n]).zip(gains) {
                    *o = x * g;
                }
            }
            if let Some((true_peak, _)) = &mut meter {
                let mut before = self.gain;
                let tp = &mut true_peak[start..start + n];
                for ((t, &p), &g) in tp.iter_mut().zip(&self.peaks[out_at..]).zip(gains) {
                    *t = p * if g > before { g } else { before };
                    before = g;
                }
            }
            self.gain = gains[n - 1];
            self.write += n;
            start += n;
        }
        min_gain
    }

    /// Moves the last `keep` frames of history (and their peaks) to the start of the buffers.
    fn move_history_back(&mut self) {
        let from = self.write - self.keep;
        for h in &mut self.history {
            h.copy_within(from..self.write, 0);
        }
        self.peaks.copy_within(from..self.write, 0);
        self.write = self.keep;
    }
}

/// One step of a one-pole from `from` toward `to`, given as `next`. In f32 a step smaller
/// than half a unit in the last place of `from` rounds back to `from`, and the one-pole
/// stalls short of its target for good: at the slow automatic release (1.5 s) at 48 kHz the
/// envelope stayed 0.0022 (0.019 dB) under unity after limiting ended, through an hour of
/// silence and into the music after it (found by `tests/hostile_audio.rs`). Where rounding
/// would stall it, it moves by one unit in the last place instead, so it always arrives.
#[inline(always)]
fn arrive(from: f32, next: f32, to: f32) -> f32 {
    if next != from {
        next
    } else if from < to {
        from.next_up()
    } else if from > to {
        from.next_down()
    } else {
        to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_min_tracks_the_window() {
        let mut m = SlidingMin::with_capacity(8);
        m.configure(3);
        let xs = [0.5, 0.3, 0.4, 0.6, 0.7, 0.1, 0.8, 0.9, 0.9];
        let want = [0.5, 0.3, 0.3, 0.3, 0.4, 0.1, 0.1, 0.1, 0.8];
        for (n, (&x, &w)) in xs.iter().zip(want.iter()).enumerate() {
            assert_eq!(m.push(x), w, "at {n}");
        }
        // Against the definition, for every window length, with a restart in between.
        let mut seed = 1u32;
        let xs: Vec<f32> = (0..500)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 8) as f32 / (1u32 << 24) as f32
            })
            .collect();
        for window in 1..=8 {
            m.configure(window);
            for (n, &x) in xs.iter().enumerate() {
                let want = xs[n.saturating_sub(window - 1)..=n]
                    .iter()
                    .fold(1.0f32, |a, &b| a.min(b));
                assert_eq!(m.push(x), want, "window {window}, at {n}");
            }
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
