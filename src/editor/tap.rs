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

    /// Appends the mono sum of `channels` (audio thread: atomic stores only).
    pub fn push(&self, channels: &[&mut [f32]]) {
        let Some(first) = channels.first() else {
            return;
        };
        let frames = first.len();
        let scale = 1.0 / channels.len() as f32;
        let start = self.written.load(Ordering::Relaxed);
        for i in 0..frames {
            let mut sum = 0.0;
            for channel in channels {
                sum += channel.get(i).copied().unwrap_or(0.0);
            }
            let value = if (sum * scale).is_finite() {
                sum * scale
            } else {
                0.0
            };
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
    fn non_finite_input_reads_as_silence() {
        let tap = AudioTap::new();
        let mut block = [f32::NAN, f32::INFINITY, 0.5];
        tap.push(&[&mut block]);
        let mut out = [1.0; 3];
        tap.read_latest(&mut out);
        assert_eq!(out, [0.0, 0.0, 0.5]);
    }
}
