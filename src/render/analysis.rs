//! Offline analysis of whole files for the report (and for reference matching): short-term
//! loudness over time, and the long-term average spectrum.
//!
//! The spectrum is kept in two steps so other users can stop half-way: [`welch_power_spectrum`]
//! gives linear power per FFT bin, normalised so the bins sum to the signal's mean square, and
//! [`fractional_octave_bands`] sums those bins into fractional-octave bands. The report shows
//! [`long_term_spectrum`], the two chained over the mid signal, in dB.

use ebur128::{EbuR128, Mode};
use realfft::RealFftPlanner;

/// Short-term loudness is read every this many seconds: EBU Tech 3341 §2.2 asks a meter to
/// update short-term loudness at least 10 times a second.
pub const SHORT_TERM_HOP_S: f64 = 0.1;
/// The short-term window (EBU Tech 3341 §2.2, ITU-R BS.1771): 3 s.
pub const SHORT_TERM_WINDOW_S: f64 = 3.0;

/// Lowest and highest band centres of the report's spectrum: the audible range.
pub const SPECTRUM_LOW_HZ: f64 = 20.0;
pub const SPECTRUM_HIGH_HZ: f64 = 20_000.0;
/// The report's smoothing: 1/6 octave, fine enough to show a mastering EQ's broad moves,
/// coarse enough that the music's individual notes do not dominate the curve.
pub const SPECTRUM_BANDS_PER_OCTAVE: u32 = 6;
/// Power of a full-scale sine (peak 1.0): the 0 dB reference of [`long_term_spectrum`].
pub const FULL_SCALE_SINE_POWER: f64 = 0.5;

/// Short-term loudness (BS.1770-4 K-weighted, 3 s window) every [`SHORT_TERM_HOP_S`], as
/// `(time_s, loudness_lufs)` with `time_s` the end of the window: what a loudness meter shows
/// at that moment of playback.
///
/// Readings start once the first window is full (at 3 s): before that, the meter's window holds
/// silence it never heard and would read low. A file shorter than 3 s gives no readings.
/// Silence reads `f64::NEG_INFINITY`. Mono is measured as dual mono, as it plays on two
/// speakers (as in `measure`).
pub fn short_term_series(channels: &[Vec<f32>], sample_rate: u32) -> Vec<(f64, f64)> {
    let planar: Vec<&[f32]> = match channels {
        [mono] => vec![mono, mono],
        _ => channels.iter().map(|c| &c[..]).collect(),
    };
    let frames = planar.first().map_or(0, |c| c.len());
    let Ok(mut meter) = EbuR128::new(planar.len() as u32, sample_rate, Mode::S) else {
        return Vec::new();
    };
    let hop = ((sample_rate as f64 * SHORT_TERM_HOP_S).round() as usize).max(1);
    let window = (sample_rate as f64 * SHORT_TERM_WINDOW_S).round() as usize;
    let mut series = Vec::with_capacity(frames / hop + 1);
    let mut start = 0;
    while start + hop <= frames {
        let end = start + hop;
        let block: Vec<&[f32]> = planar.iter().map(|c| &c[start..end]).collect();
        if meter.add_frames_planar_f32(&block).is_err() {
            break;
        }
        if end >= window {
            let lufs = meter.loudness_shortterm().unwrap_or(f64::NEG_INFINITY);
            series.push((end as f64 / sample_rate as f64, lufs));
        }
        start = end;
    }
    series
}

/// A long-term average power spectrum.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerSpectrum {
    /// Spacing of the bins; bin `k` is centred on `k * bin_hz`.
    pub bin_hz: f64,
    /// Mean-square power per bin, one-sided, from DC to Nyquist: the bins sum to the mean
    /// square of the analysed signal (Parseval, with the window's power taken out).
    pub power: Vec<f64>,
    /// How many windowed segments were averaged (0 for a signal too short to analyse).
    pub segments: usize,
}

/// Segment length for [`welch_power_spectrum`] at `sample_rate`: the power of two nearest
/// above half a second, so bins are under 1.5 Hz apart at 44.1 and 48 kHz and the 1/6-octave
/// band around 20 Hz (2.3 Hz wide) spans more than one bin.
pub fn default_segment_len(sample_rate: u32) -> usize {
    ((sample_rate as usize) / 2).next_power_of_two().max(256)
}

/// The mid signal `(L + R) / 2` of stereo (the channel itself for mono): what the two
/// channels have in common, as a listener on the centre line hears their sum.
pub fn mid_signal(channels: &[Vec<f32>]) -> Vec<f32> {
    match channels {
        [] => Vec::new(),
        [mono] => mono.clone(),
        [l, r, ..] => l.iter().zip(r).map(|(l, r)| 0.5 * (l + r)).collect(),
    }
}

/// The side signal `(L - R) / 2` of stereo (silence for mono): what differs between the
/// channels, the part of the image a width control scales.
pub fn side_signal(channels: &[Vec<f32>]) -> Vec<f32> {
    match channels {
        [l, r, ..] => l.iter().zip(r).map(|(l, r)| 0.5 * (l - r)).collect(),
        [mono] => vec![0.0; mono.len()],
        [] => Vec::new(),
    }
}

/// Welch's averaged periodogram (P. D. Welch, "The use of fast Fourier transform for the
/// estimation of power spectra", IEEE Trans. Audio Electroacoust. AU-15, 1967): Hann-windowed
/// segments of `segment_len` samples, overlapping by half (the overlap at which Hann segments
/// weigh every sample equally), each periodogram averaged.
///
/// A signal shorter than `segment_len` is analysed with the largest power of two that fits
/// (at least 256 samples); shorter than that, the spectrum is empty (`segments == 0`).
/// `segment_len` is rounded up to a power of two.
pub fn welch_power_spectrum(signal: &[f32], sample_rate: u32, segment_len: usize) -> PowerSpectrum {
    welch_power_spectrum_where(signal, sample_rate, segment_len, &|_, _| true)
}

/// [`welch_power_spectrum`] over only the segments `keep(start, end)` accepts (sample
/// indices, end exclusive): the long-term spectrum of chosen sections, e.g. the loudest
/// passages that reference matching compares. Accepting none gives `segments == 0` and a
/// spectrum of zeros.
pub fn welch_power_spectrum_where(
    signal: &[f32],
    sample_rate: u32,
    segment_len: usize,
    keep: &dyn Fn(usize, usize) -> bool,
) -> PowerSpectrum {
    welch_of(signal.len(), |i| signal[i], sample_rate, segment_len, keep)
}

/// Which part of a stereo signal to analyse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StereoPart {
    /// [`mid_signal`].
    Mid,
    /// [`side_signal`].
    Side,
}

/// [`welch_power_spectrum_where`] of the mid or side signal of `channels`, formed sample
/// by sample as the segments are read: no copy of the whole signal is made (memory, issue 8).
/// The figures equal those of the signal built by [`mid_signal`] or [`side_signal`].
pub fn welch_power_spectrum_of_part(
    channels: &[Vec<f32>],
    part: StereoPart,
    sample_rate: u32,
    segment_len: usize,
    keep: &dyn Fn(usize, usize) -> bool,
) -> PowerSpectrum {
    match (channels, part) {
        ([l, r, ..], StereoPart::Mid) => {
            let len = l.len().min(r.len());
            welch_of(len, |i| 0.5 * (l[i] + r[i]), sample_rate, segment_len, keep)
        }
        ([l, r, ..], StereoPart::Side) => {
            let len = l.len().min(r.len());
            welch_of(len, |i| 0.5 * (l[i] - r[i]), sample_rate, segment_len, keep)
        }
        ([mono], StereoPart::Mid) => {
            welch_of(mono.len(), |i| mono[i], sample_rate, segment_len, keep)
        }
        ([mono], StereoPart::Side) => welch_of(mono.len(), |_| 0.0, sample_rate, segment_len, keep),
        ([], _) => welch_of(0, |_| 0.0, sample_rate, segment_len, keep),
    }
}

/// Welch's periodogram of a signal of `len` samples read through `sample`.
fn welch_of(
    len: usize,
    sample: impl Fn(usize) -> f32,
    sample_rate: u32,
    segment_len: usize,
    keep: &dyn Fn(usize, usize) -> bool,
) -> PowerSpectrum {
    let mut n = segment_len.max(2).next_power_of_two();
    if len < n {
        n = prev_power_of_two(len);
    }
    if n < 256 {
        return PowerSpectrum {
            bin_hz: sample_rate as f64 / segment_len.max(2) as f64,
            power: Vec::new(),
            segments: 0,
        };
    }
    let hop = n / 2;
    // Periodic Hann (the DFT-even form): its 50 %-overlapped copies sum to a constant.
    let window: Vec<f64> = (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
        .collect();
    let window_power: f64 = window.iter().map(|w| w * w).sum();

    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut input = fft.make_input_vec();
    let mut output = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut power = vec![0.0f64; n / 2 + 1];
    let mut segments = 0;
    let mut start = 0;
    while start + n <= len {
        if !keep(start, start + n) {
            start += hop;
            continue;
        }
        for (i, (x, w)) in input.iter_mut().zip(&window).enumerate() {
            *x = sample(start + i) as f64 * w;
        }
        // The lengths come from the planner itself, so this cannot fail.
        if fft
            .process_with_scratch(&mut input, &mut output, &mut scratch)
            .is_ok()
        {
            for (p, c) in power.iter_mut().zip(&output) {
                *p += c.norm_sqr();
            }
            segments += 1;
        }
        start += hop;
    }
    // One-sided mean-square per bin: |X|² / (N · Σw²), doubled except at DC and Nyquist.
    let scale = 1.0 / (n as f64 * window_power * segments.max(1) as f64);
    let last = power.len() - 1;
    for (k, p) in power.iter_mut().enumerate() {
        *p *= if k == 0 || k == last {
            scale
        } else {
            2.0 * scale
        };
    }
    PowerSpectrum {
        bin_hz: sample_rate as f64 / n as f64,
        power,
        segments,
    }
}

fn prev_power_of_two(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        1 << (usize::BITS - 1 - n.leading_zeros())
    }
}

/// Centres of the base-2 fractional-octave bands `1000 · 2^(k / bands_per_octave)` Hz
/// (IEC 61260-1:2014 §5.2, the base-two system) from `low_hz` to `high_hz`, each band
/// included when its centre lies within half a band of the range.
pub fn band_centres_hz(bands_per_octave: u32, low_hz: f64, high_hz: f64) -> Vec<f64> {
    let b = bands_per_octave.max(1) as f64;
    let half = 0.5 / b;
    let first = (b * ((low_hz / 1000.0).log2() - half)).ceil() as i64;
    let last = (b * ((high_hz / 1000.0).log2() + half)).floor() as i64;
    (first..=last)
        .map(|k| 1000.0 * 2f64.powf(k as f64 / b))
        .collect()
}

/// Sums a spectrum's bins into fractional-octave bands, as `(centre_hz, power)` with power
/// linear mean square: each bin counts with the fraction of its width (`bin_hz`, centred on
/// the bin) that falls inside the band's edges `centre · 2^(±1 / (2 · bands_per_octave))`.
/// Counting fractions keeps narrow low bands honest when they hold only a bin or two.
///
/// Band power is what a real-time analyser's filter bank reads (IEC 61260-1): pink noise reads
/// flat, white noise rises 3 dB per octave, and a sine reads its own power in its band.
pub fn fractional_octave_bands(
    spectrum: &PowerSpectrum,
    bands_per_octave: u32,
    low_hz: f64,
    high_hz: f64,
) -> Vec<(f64, f64)> {
    if spectrum.power.is_empty() {
        return Vec::new();
    }
    let half = 0.5 / bands_per_octave.max(1) as f64;
    let df = spectrum.bin_hz;
    let nyquist = df * (spectrum.power.len() - 1) as f64;
    band_centres_hz(bands_per_octave, low_hz, high_hz)
        .into_iter()
        .filter(|&fc| fc * 2f64.powf(half) <= nyquist)
        .map(|fc| {
            let lo = fc * 2f64.powf(-half);
            let hi = fc * 2f64.powf(half);
            let first = ((lo / df) - 0.5).floor().max(0.0) as usize;
            let last = (((hi / df) + 0.5).ceil() as usize).min(spectrum.power.len() - 1);
            let sum: f64 = (first..=last)
                .map(|k| {
                    let bin_lo = (k as f64 - 0.5) * df;
                    let bin_hi = (k as f64 + 0.5) * df;
                    let overlap = (hi.min(bin_hi) - lo.max(bin_lo)).max(0.0) / df;
                    spectrum.power[k] * overlap
                })
                .sum();
            (fc, sum)
        })
        .collect()
}

/// Power as dB relative to a full-scale sine ([`FULL_SCALE_SINE_POWER`]), so a sine's band
/// reads the sine's level in dBFS; silence reads `f64::NEG_INFINITY`.
pub fn power_to_db(power: f64) -> f64 {
    if power > 0.0 {
        10.0 * (power / FULL_SCALE_SINE_POWER).log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// The long-term spectrum the report draws: the mid signal's Welch spectrum, in
/// 1/6-octave bands from 20 Hz to 20 kHz, as `(centre_hz, level_db)` with 0 dB the power of a
/// full-scale sine. Bands above the file's Nyquist frequency are left out.
pub fn long_term_spectrum(channels: &[Vec<f32>], sample_rate: u32) -> Vec<(f64, f64)> {
    let spectrum = welch_power_spectrum_of_part(
        channels,
        StereoPart::Mid,
        sample_rate,
        default_segment_len(sample_rate),
        &|_, _| true,
    );
    fractional_octave_bands(
        &spectrum,
        SPECTRUM_BANDS_PER_OCTAVE,
        SPECTRUM_LOW_HZ,
        SPECTRUM_HIGH_HZ,
    )
    .into_iter()
    .map(|(f, p)| (f, power_to_db(p)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_centres_cover_the_audible_range_in_sixth_octaves() {
        let c = band_centres_hz(6, 20.0, 20_000.0);
        assert!((c[0] - 19.69).abs() < 0.01, "{}", c[0]);
        assert!((c[c.len() - 1] - 20_158.7).abs() < 0.1);
        assert!(c.iter().any(|&f| (f - 1000.0).abs() < 1e-9));
        assert_eq!(c.len(), 61); // ten octaves of six bands, plus one
    }

    #[test]
    fn bins_sum_to_the_mean_square() {
        // Parseval: the one-sided bins of white noise add up to its mean square.
        let mut state = 1u32;
        let noise: Vec<f32> = (0..200_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state as f32 / u32::MAX as f32) - 0.5
            })
            .collect();
        let mean_square = noise.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / 200_000.0;
        let s = welch_power_spectrum(&noise, 48_000, 4096);
        let total: f64 = s.power.iter().sum();
        assert!(
            (total / mean_square - 1.0).abs() < 0.01,
            "{total} vs {mean_square}"
        );
    }

    #[test]
    fn mid_and_side_read_in_place_equal_their_copies() {
        let l: Vec<f32> = (0..20_000).map(|n| (n as f32 * 0.11).sin()).collect();
        let r: Vec<f32> = (0..20_000)
            .map(|n| (n as f32 * 0.017).cos() * 0.3)
            .collect();
        let stereo = vec![l, r];
        for (part, copy) in [
            (StereoPart::Mid, mid_signal(&stereo)),
            (StereoPart::Side, side_signal(&stereo)),
        ] {
            let in_place = welch_power_spectrum_of_part(&stereo, part, 48_000, 4096, &|_, _| true);
            assert_eq!(in_place, welch_power_spectrum(&copy, 48_000, 4096));
            assert!(in_place.segments > 0);
        }
    }

    #[test]
    fn too_short_signals_give_empty_spectra() {
        let s = welch_power_spectrum(&[0.1; 100], 48_000, 4096);
        assert_eq!(s.segments, 0);
        assert!(long_term_spectrum(&[vec![0.1; 100]], 48_000).is_empty());
        assert!(short_term_series(&[vec![0.1; 48_000]], 48_000).is_empty());
    }
}
