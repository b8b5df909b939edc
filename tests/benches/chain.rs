//! Speed of the whole chain, stereo, default settings with the limiter working
//! (8 dB of drive), per block size and sample rate, with the plugin's meters on and off.
//! Throughput is reported in frames per second; divide by the rate for "x real time".
//!
//! The `denormals` group runs every stage (EQ, multiband, width, limiter, meters) on music,
//! on input made of subnormal numbers, and on a burst followed by silence, whose decaying
//! filter states would enter the subnormal range if nothing flushed them. Subnormal arithmetic
//! costs x86 cores up to ~100x per operation, so comparable times mean the flushing works
//! (`tests/hostile_audio.rs` asserts the property itself: no subnormal state or output).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lathe::dsp::{Chain, ChainSettings, Meters};

fn music(frames: usize, rate: f32) -> Vec<Vec<f32>> {
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
        *l = x;
        *r = 0.9 * x + 0.05 * noise;
    }
    vec![left, right]
}

fn chain(c: &mut Criterion) {
    let mut settings = ChainSettings::default();
    settings.limiter.drive_db = 8.0;
    let mut group = c.benchmark_group("chain");
    for rate in [44_100.0f32, 48_000.0, 96_000.0] {
        let frames = rate as usize; // one second of audio per iteration
        let input = music(frames, rate);
        for block in [64usize, 512] {
            for metering in [false, true] {
                let mut chain = Chain::new();
                chain.set_metering(metering);
                chain.prepare(rate, block);
                let mut meters = Meters::default();
                let mut buf = input.clone();
                group.throughput(Throughput::Elements(frames as u64));
                let id = format!(
                    "{}k/{block}/{}",
                    rate as u32 / 1000,
                    if metering { "meters" } else { "no-meters" }
                );
                group.bench_function(BenchmarkId::from_parameter(id), |b| {
                    b.iter(|| {
                        for (dst, src) in buf.iter_mut().zip(&input) {
                            dst.copy_from_slice(src);
                        }
                        let (l, r) = buf.split_at_mut(1);
                        for (lb, rb) in l[0].chunks_mut(block).zip(r[0].chunks_mut(block)) {
                            chain.process(&mut [lb, rb], &settings, &mut meters);
                        }
                    })
                });
            }
        }
    }
    group.finish();
}

fn denormals(c: &mut Criterion) {
    let rate = 48_000.0f32;
    let frames = rate as usize;
    let mut settings = ChainSettings::default();
    settings.limiter.drive_db = 8.0;
    settings.eq.hp_mode = lathe::dsp::eq::HpMode::Slope24;
    settings.eq.low_shelf.gain_db = 3.0;
    settings.eq.bells[0].gain_db = -4.0;
    settings.eq.high_shelf.gain_db = 2.0;
    settings.multiband.enabled = true;
    for band in &mut settings.multiband.bands {
        band.threshold_db = -30.0;
        band.ratio = 3.0;
    }
    settings.stereo.width_pct = 120.0;
    let music = music(frames, rate);
    let mut seed = 0x9E37_79B9u64;
    let subnormal: Vec<Vec<f32>> = (0..2)
        .map(|_| {
            (0..frames)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    f32::from_bits(1 + (seed % 0x007F_FFFF) as u32)
                })
                .collect()
        })
        .collect();
    let mut tail = music.clone();
    for c in &mut tail {
        c[frames / 10..].fill(0.0);
    }
    let mut group = c.benchmark_group("denormals");
    group.throughput(Throughput::Elements(frames as u64));
    for (name, input) in [("music", music), ("subnormal", subnormal), ("tail", tail)] {
        let mut chain = Chain::new();
        chain.prepare(rate, 512);
        let mut meters = Meters::default();
        let mut buf = input.clone();
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                for (dst, src) in buf.iter_mut().zip(&input) {
                    dst.copy_from_slice(src);
                }
                let (l, r) = buf.split_at_mut(1);
                for (lb, rb) in l[0].chunks_mut(512).zip(r[0].chunks_mut(512)) {
                    chain.process(&mut [lb, rb], &settings, &mut meters);
                }
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(3));
    targets = chain, denormals
}
criterion_main!(benches);
