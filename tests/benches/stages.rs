//! Speed of the chain's costly stages one by one, stereo, at 44.1, 48 and 96 kHz in blocks
//! of 64 and 512 frames: the true-peak detector alone, the limiter (detector and gain
//! computer, 8 dB over its ceiling, as in the chain bench), the limiter with the output meter's
//! true peak, the loudness meter (K-weighting, gating, its own BS.1770 true peak) and the
//! stereo stage. One second of music-like audio per iteration; throughput is in frames per
//! second, so ns/frame = 1e9 / throughput and "x real time" = throughput / rate.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lathe::dsp::limiter::TruePeakLimiter;
use lathe::dsp::loudness::LoudnessMeter;
use lathe::dsp::settings::{LimiterSettings, StereoSettings};
use lathe::dsp::stereo::StereoStage;
use lathe::dsp::true_peak::TruePeakDetector;

/// The chain bench's signal (an 80 Hz tone and noise), scaled by `gain`.
fn music(frames: usize, rate: f32, gain: f32) -> Vec<Vec<f32>> {
    let mut seed = 0x1234_5678u64;
    let mut left = vec![0.0f32; frames];
    let mut right = vec![0.0f32; frames];
    for (n, (l, r)) in left.iter_mut().zip(right.iter_mut()).enumerate() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let noise = (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
        let t = n as f32 / rate;
        let x = 0.5 * (2.0 * std::f32::consts::PI * 80.0 * t).sin() + 0.2 * noise;
        *l = x * gain;
        *r = (0.9 * x + 0.05 * noise) * gain;
    }
    vec![left, right]
}

const RATES: [f32; 3] = [44_100.0, 48_000.0, 96_000.0];
const BLOCKS: [usize; 2] = [64, 512];

/// Runs `process` over one second of `input` in `block`-frame stereo blocks per iteration.
fn bench_blocks(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: String,
    input: &[Vec<f32>],
    block: usize,
    mut process: impl FnMut(&mut [&mut [f32]]),
) {
    let mut buf = input.to_vec();
    group.throughput(Throughput::Elements(input[0].len() as u64));
    group.bench_function(BenchmarkId::from_parameter(id), |b| {
        b.iter(|| {
            for (dst, src) in buf.iter_mut().zip(input) {
                dst.copy_from_slice(src);
            }
            let (l, r) = buf.split_at_mut(1);
            for (lb, rb) in l[0].chunks_mut(block).zip(r[0].chunks_mut(block)) {
                process(&mut [lb, rb]);
            }
        })
    });
}

fn stages(c: &mut Criterion) {
    // 8 dB of drive, as in the chain bench: the limiter works all the time.
    let drive = 10f32.powf(8.0 / 20.0);
    for rate in RATES {
        let frames = rate as usize;
        let loud = music(frames, rate, drive);
        let plain = music(frames, rate, 1.0);
        let k = rate as u32 / 1000;

        let mut group = c.benchmark_group("true_peak_detector");
        // The detector alone over both channels, with no skipping: what the limiter pays.
        let detector = TruePeakDetector::new(rate);
        let history = TruePeakDetector::history();
        for block in BLOCKS {
            let mut windows = vec![vec![0.0f32; history + block]; 2];
            let mut peaks = vec![0.0f32; block];
            bench_blocks(&mut group, format!("{k}k/{block}"), &loud, block, |ch| {
                peaks[..ch[0].len()].fill(0.0);
                for (w, x) in windows.iter_mut().zip(ch.iter()) {
                    let n = x.len();
                    w[history..history + n].copy_from_slice(x);
                    detector.measure(&w[..history + n], &mut peaks[..n], 0.0);
                    w.copy_within(n..n + history, 0);
                }
            });
        }
        group.finish();

        let mut group = c.benchmark_group("limiter");
        let settings = LimiterSettings::default();
        for block in BLOCKS {
            let mut limiter = TruePeakLimiter::new(rate, 2);
            bench_blocks(&mut group, format!("{k}k/{block}"), &loud, block, |ch| {
                limiter.process(ch, &settings);
            });
            // As the chain runs it with its output meter on: the true peak of every output
            // frame from the detector's readings.
            let mut limiter = TruePeakLimiter::new(rate, 2);
            let mut true_peak = vec![0.0f32; block];
            let mut running = 0.0f32;
            bench_blocks(
                &mut group,
                format!("{k}k/{block}/metered"),
                &loud,
                block,
                |ch| {
                    let tp = &mut true_peak[..ch[0].len()];
                    limiter.process_metered(ch, &settings, Some((&mut *tp, running)));
                    running = tp.iter().fold(running, |m, &p| m.max(p));
                },
            );
        }
        group.finish();

        let mut group = c.benchmark_group("loudness_meter");
        for block in BLOCKS {
            let mut meter = LoudnessMeter::new(rate).expect("meter");
            bench_blocks(&mut group, format!("{k}k/{block}"), &plain, block, |ch| {
                meter.add(ch);
            });
            // The chain's output meter: no true peak of its own.
            let mut meter = LoudnessMeter::without_true_peak(rate).expect("meter");
            bench_blocks(
                &mut group,
                format!("{k}k/{block}/no-tp"),
                &plain,
                block,
                |ch| {
                    meter.add(ch);
                },
            );
        }
        group.finish();

        let mut group = c.benchmark_group("stereo");
        for block in BLOCKS {
            let mut stage = StereoStage::default();
            stage.prepare(rate);
            // Working: wider, with the low end summed to mono below 120 Hz.
            let settings = StereoSettings {
                width_pct: 130.0,
                mono_below: true,
                mono_below_hz: 120.0,
            };
            bench_blocks(&mut group, format!("{k}k/{block}"), &plain, block, |ch| {
                stage.process(ch, &settings);
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(2));
    targets = stages
}
criterion_main!(benches);
