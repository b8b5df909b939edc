//! A lock-free single-producer ring of recent samples, for the editor's spectrum.
//!
//! The audio thread writes the mono sum of each block with relaxed atomic stores and then
//! publishes the new write position with a release store: no lock, no allocation, no waiting
//! on the GUI. The editor reads the newest `n` samples whenever it paints. A read that races a
//! write can mix samples of two neighbouring blocks; for a display that is harmless, and each
//! sample is itself a whole `f32` (stored as its bits in an `AtomicU32`).

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// Samples the ring holds: twice the editor's largest FFT, so the window the editor reads is
/// not being overwritten while the audio thread writes at block sizes up to 8192.
pub const TAP_CAPACITY: usize = 16_384;

pub struct AudioTap {
    samples: Box<[AtomicU32]>,
    /// Total samples ever written (wraps at `usize::MAX`, far beyond any session).
    written: AtomicUsize,
}

impl Default for AudioTap {
    fn default() -> Self {
        Self::new()
    }
}

impl AudioTap {
    /// Allocates the ring (on the main thread, when the plugin is created).
    pub fn new() -> Self {
        Self {
            samples: (0..TAP_CAPACITY).map(|_| AtomicU32::new(0)).collect(),
            written: AtomicUsize::new(0),
        }
    }

    /// Appends the mono sum of `channels` (audio thread: atomic stores only). For stereo this
    /// is the mid signal `(L + R) / 2`, as the renderer's analysis defines it.
    pub fn push(&self, channels: &[&mut [f32]]) {
        let scale = 1.0 / channels.len().max(1) as f32;
        self.push_with(channels, |i| {
            channels
                .iter()
                .map(|c| c.get(i).copied().unwrap_or(0.0))
                .sum::<f32>()
                * scale
        });
    }

    /// Appends the side signal `(L - R) / 2` of `channels` (silence for mono), for the
    /// reference loader's capture of the input (audio thread: atomic stores only).
    pub fn push_side(&self, channels: &[&mut [f32]]) {
        self.push_with(channels, |i| match channels {
            [l, r, ..] => {
                (l.get(i).copied().unwrap_or(0.0) - r.get(i).copied().unwrap_or(0.0)) * 0.5
            }
            _ => 0.0,
        });
    }

    fn push_with(&self, channels: &[&mut [f32]], sample: impl Fn(usize) -> f32) {
        let Some(first) = channels.first() else {
            return;
        };
        let frames = first.len();
        let start = self.written.load(Ordering::Relaxed);
        for i in 0..frames {
            let v = sample(i);
            let value = if v.is_finite() { v } else { 0.0 };
            self.samples[start.wrapping_add(i) % TAP_CAPACITY]
                .store(value.to_bits(), Ordering::Relaxed);
        }
        self.written
            .store(start.wrapping_add(frames), Ordering::Release);
    }

    /// Total samples written so far; the editor uses it to tell whether audio is flowing.
    pub fn written(&self) -> usize {
        self.written.load(Ordering::Acquire)
    }

    /// Copies the samples from position `start` (counted in samples ever written) into `out`,
    /// if the ring still holds all of them and they have all been written; otherwise leaves
    /// `out` alone and returns false. A read racing a write of the oldest part can still see
    /// newer samples there (see the module docs); callers keep well inside the ring.
    pub fn read_from(&self, start: usize, out: &mut [f32]) -> bool {
        let end = self.written.load(Ordering::Acquire);
        let behind = end.wrapping_sub(start);
        if out.len() > behind || behind > TAP_CAPACITY {
            return false;
        }
        for (i, sample) in out.iter_mut().enumerate() {
            let bits = self.samples[start.wrapping_add(i) % TAP_CAPACITY].load(Ordering::Relaxed);
            *sample = f32::from_bits(bits);
        }
        true
    }

    /// Copies the newest `out.len()` samples (oldest first) into `out`.
    pub fn read_latest(&self, out: &mut [f32]) {
        let n = out.len().min(TAP_CAPACITY);
        let end = self.written.load(Ordering::Acquire);
        let start = end.wrapping_sub(n);
        for (i, sample) in out.iter_mut().take(n).enumerate() {
            let bits = self.samples[start.wrapping_add(i) % TAP_CAPACITY].load(Ordering::Relaxed);
            *sample = f32::from_bits(bits);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_the_newest_samples_in_order_across_the_wrap() {
        let tap = AudioTap::new();
        let total = TAP_CAPACITY + 1000;
        let mut left: Vec<f32> = (0..total).map(|i| i as f32).collect();
        let mut right = left.clone();
        for (l, r) in left.chunks_mut(777).zip(right.chunks_mut(777)) {
            tap.push(&[l, r]);
        }
        let mut out = vec![0.0; 4096];
        tap.read_latest(&mut out);
        for (k, &v) in out.iter().enumerate() {
            assert_eq!(v, (total - 4096 + k) as f32);
        }
        assert_eq!(tap.written(), total);
    }

    #[test]
    fn the_side_tap_holds_half_the_difference_and_reads_from_a_position() {
        let tap = AudioTap::new();
        let mut l = [1.0, 0.5, -0.25, 0.0];
        let mut r = [0.0, 0.5, 0.25, f32::NAN];
        tap.push_side(&[&mut l, &mut r]);
        let mut out = [9.0; 3];
        assert!(tap.read_from(1, &mut out));
        assert_eq!(out, [0.0, -0.25, 0.0]);
        // Past the newest sample, or overwritten: refused.
        assert!(!tap.read_from(2, &mut out));
        let mut mono = [0.7; 4];
        tap.push_side(&[&mut mono]);
        assert!(tap.read_from(4, &mut [0.0; 4]));
        let big = vec![0.0; TAP_CAPACITY];
        let mut block = big.clone();
        tap.push_side(&[&mut block]);
        assert!(!tap.read_from(0, &mut [0.0; 4]));
    }

    #[test]
    fn non_finite_input_reads_as_silence() {
        let tap = AudioTap::new();
        let mut block = [f32::NAN, f32::INFINITY, 0.5];
        tap.push(&[&mut block]);
        let mut out = [1.0; 3];
        tap.read_latest(&mut out);
        assert_eq!(out, [0.0, 0.0, 0.5]);
    }
}
