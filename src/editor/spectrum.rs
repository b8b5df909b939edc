//! The live spectrum: realfft over the newest samples of an [`AudioTap`], on the GUI thread,
//! and the log-frequency plot geometry shared by the EQ and multiband panels.

use std::sync::Arc;

use egui::{Color32, Pos2, Rect, Stroke};
use realfft::{RealFftPlanner, RealToComplex};

use super::tap::AudioTap;

/// FFT length: 4096 points at 48 kHz resolve 11.7 Hz, enough to place a low shelf.
pub const FFT_SIZE: usize = 4096;
/// Plot range, Hz (the audible band).
pub const MIN_HZ: f32 = 20.0;
pub const MAX_HZ: f32 = 20_000.0;
/// Spectrum range, dBFS (per-bin level of a Hann-windowed FFT scaled to a full-scale sine).
pub const SPECTRUM_FLOOR_DB: f32 = -96.0;
pub const SPECTRUM_TOP_DB: f32 = 0.0;
/// Points drawn across the plot.
const PLOT_POINTS: usize = 256;
/// Per-frame fall of the displayed level, as a fraction of the way to the new reading
/// (a peak-hold-like ballistic: rises at once, falls smoothly).
const FALL: f32 = 0.25;

pub struct Analyser {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    samples: Vec<f32>,
    spectrum: Vec<realfft::num_complex::Complex<f32>>,
    scratch: Vec<realfft::num_complex::Complex<f32>>,
    /// Smoothed level per plot point, dBFS.
    pub display_db: Vec<f32>,
    last_written: usize,
}

impl Default for Analyser {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyser {
    pub fn new() -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT_SIZE);
        // Hann window (periodic); its coherent gain of 1/2 is undone in `update`.
        let window = (0..FFT_SIZE)
            .map(|i| {
                let x = std::f32::consts::TAU * i as f32 / FFT_SIZE as f32;
                0.5 - 0.5 * x.cos()
            })
            .collect();
        Self {
            samples: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
            window,
            display_db: vec![SPECTRUM_FLOOR_DB; PLOT_POINTS],
            last_written: 0,
        }
    }

    /// Reads the tap and updates the display. Returns whether new audio arrived.
    pub fn update(&mut self, tap: &AudioTap, sample_rate: f32) -> bool {
        let written = tap.written();
        let fresh = written != self.last_written;
        self.last_written = written;
        if !fresh {
            return false;
        }
        tap.read_latest(&mut self.samples);
        for (s, w) in self.samples.iter_mut().zip(&self.window) {
            *s *= w;
        }
        if self
            .fft
            .process_with_scratch(&mut self.samples, &mut self.spectrum, &mut self.scratch)
            .is_err()
        {
            return false;
        }
        // A full-scale sine gives |X| = N/2 · 1/2 (Hann coherent gain): scale to 0 dBFS.
        let norm = 4.0 / FFT_SIZE as f32;
        let bins = self.spectrum.len();
        let nyquist = sample_rate.max(1.0) / 2.0;
        for (point, shown) in self.display_db.iter_mut().enumerate() {
            // Each plot point takes the loudest bin between it and the next point, so high
            // octaves (many bins per point) show their peaks, not one arbitrary bin.
            let f0 = point_hz(point);
            let f1 = point_hz(point + 1);
            let b0 = ((f0 / nyquist) * (bins - 1) as f32).floor() as usize;
            let b1 = (((f1 / nyquist) * (bins - 1) as f32).ceil() as usize).max(b0 + 1);
            let peak = self.spectrum[b0.min(bins - 1)..b1.min(bins)]
                .iter()
                .map(|c| c.norm() * norm)
                .fold(0.0f32, f32::max);
            let db = (20.0 * peak.max(1e-9).log10()).clamp(SPECTRUM_FLOOR_DB, SPECTRUM_TOP_DB);
            *shown = if db > *shown {
                db
            } else {
                *shown + (db - *shown) * FALL
            };
        }
        true
    }
}

/// Frequency of plot point `i` (log spaced from MIN_HZ to MAX_HZ).
pub fn point_hz(i: usize) -> f32 {
    let t = i as f32 / (PLOT_POINTS - 1) as f32;
    MIN_HZ * (MAX_HZ / MIN_HZ).powf(t)
}

/// Frequency → x inside `rect` (log axis).
pub fn hz_to_x(rect: Rect, hz: f32) -> f32 {
    let t = (hz.max(MIN_HZ) / MIN_HZ).ln() / (MAX_HZ / MIN_HZ).ln();
    rect.left() + t * rect.width()
}

/// x inside `rect` → frequency.
pub fn x_to_hz(rect: Rect, x: f32) -> f32 {
    let t = ((x - rect.left()) / rect.width()).clamp(0.0, 1.0);
    MIN_HZ * (MAX_HZ / MIN_HZ).powf(t)
}

/// dB → y inside `rect` for a range `bottom_db..top_db`.
pub fn db_to_y(rect: Rect, db: f32, bottom_db: f32, top_db: f32) -> f32 {
    let t = ((db - bottom_db) / (top_db - bottom_db)).clamp(0.0, 1.0);
    rect.bottom() - t * rect.height()
}

/// Draws the plot background, octave grid lines and their labels.
pub fn draw_grid(painter: &egui::Painter, rect: Rect) {
    painter.rect_filled(rect, 4.0, Color32::from_gray(18));
    let grid = Stroke::new(1.0, Color32::from_gray(40));
    for hz in [50.0, 100.0, 200.0, 500.0, 1e3, 2e3, 5e3, 10e3] {
        let x = hz_to_x(rect, hz);
        painter.line_segment(
            [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
            grid,
        );
        let label = if hz >= 1e3 {
            format!("{}k", hz / 1e3)
        } else {
            format!("{hz}")
        };
        painter.text(
            Pos2::new(x + 2.0, rect.bottom() - 2.0),
            egui::Align2::LEFT_BOTTOM,
            label,
            egui::FontId::proportional(10.0),
            Color32::from_gray(110),
        );
    }
}

/// Draws one analyser's spectrum as a filled outline.
pub fn draw_spectrum(painter: &egui::Painter, rect: Rect, analyser: &Analyser, color: Color32) {
    let points: Vec<Pos2> = analyser
        .display_db
        .iter()
        .enumerate()
        .map(|(i, &db)| {
            Pos2::new(
                hz_to_x(rect, point_hz(i)),
                db_to_y(rect, db, SPECTRUM_FLOOR_DB, SPECTRUM_TOP_DB),
            )
        })
        .collect();
    painter.add(egui::Shape::line(points, Stroke::new(1.2, color)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_scale_sine_reads_0_dbfs_at_its_frequency() {
        let tap = AudioTap::new();
        let rate = 48_000.0;
        let hz = 1_000.0;
        let mut block: Vec<f32> = (0..FFT_SIZE)
            .map(|n| (std::f32::consts::TAU * hz * n as f32 / rate).sin())
            .collect();
        tap.push(&[&mut block]);
        let mut analyser = Analyser::new();
        assert!(analyser.update(&tap, rate));
        let (i, peak) = analyser
            .display_db
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::MIN), |a, (i, v)| if v > a.1 { (i, v) } else { a });
        // Hann scalloping loss is at most 1.42 dB (Harris 1978, table 1).
        assert!((-1.5..=0.1).contains(&peak), "{peak}");
        let at = point_hz(i);
        assert!((at / hz).log2().abs() < 0.1, "peak at {at} Hz");
        // Far from the tone the Hann sidelobes are more than 60 dB down.
        assert!(analyser.display_db[0] < -60.0);
        // No new audio: nothing to update.
        assert!(!analyser.update(&tap, rate));
    }

    #[test]
    fn frequency_axis_round_trips() {
        let rect = Rect::from_min_size(Pos2::new(10.0, 0.0), egui::vec2(500.0, 100.0));
        for hz in [20.0, 100.0, 1_000.0, 19_000.0] {
            let back = x_to_hz(rect, hz_to_x(rect, hz));
            assert!((back / hz - 1.0).abs() < 1e-3);
        }
    }
}
