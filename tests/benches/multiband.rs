//! Speed of the multiband compressor, stereo and mono, per sample rate: enabled with every
//! band compressing (the worst case), enabled but neutral, and disabled (should cost
//! nothing). One second of music-like audio per iteration, in 512-frame blocks; throughput
//! is in frames per second, so ns/frame = 1e9 / throughput.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lathe::dsp::multiband::{Multiband, MultibandSettings};

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
        let x = 0.5 * (2.0 * std::f32::consts::PI * 80.0 * t).sin()
            + 0.2 * (2.0 * std::f32::consts::PI * 2_500.0 * t).sin()
            + 0.2 * noise;
        *l = x;
        *r = 0.9 * x + 0.05 * noise;
    }
    vec![left, right]
}

fn settings(kind: &str) -> MultibandSettings {
    let mut s = MultibandSettings {
        enabled: kind != "disabled",
        ..Default::default()
    };
    if kind == "compressing" {
        for (i, b) in s.bands.iter_mut().enumerate() {
            b.threshold_db = -30.0 + 2.0 * i as f32;
            b.ratio = 4.0;
            b.makeup_db = 3.0;
        }
    }
    s
}

fn multiband(c: &mut Criterion) {
    let mut group = c.benchmark_group("multiband");
    let block = 512;
    for rate in [48_000.0f32, 96_000.0] {
        let frames = rate as usize;
        let input = music(frames, rate);
        for channels in [2usize, 1] {
            for kind in ["compressing", "neutral", "disabled"] {
                if rate != 48_000.0 && (channels == 1 || kind != "compressing") {
                    continue;
                }
                let s = settings(kind);
                let mut mb = Multiband::new(rate, 2);
                let mut buf = input[..channels].to_vec();
                group.throughput(Throughput::Elements(frames as u64));
                let id = format!(
                    "{}k/{}/{kind}",
                    rate as u32 / 1000,
                    if channels == 2 { "stereo" } else { "mono" }
                );
                group.bench_function(BenchmarkId::from_parameter(id), |b| {
                    b.iter(|| {
                        for (dst, src) in buf.iter_mut().zip(&input) {
                            dst.copy_from_slice(src);
                        }
                        if channels == 2 {
                            let (l, r) = buf.split_at_mut(1);
                            for (lb, rb) in l[0].chunks_mut(block).zip(r[0].chunks_mut(block)) {
                                mb.process(&mut [lb, rb], &s);
                            }
                        } else {
                            for lb in buf[0].chunks_mut(block) {
                                mb.process(&mut [lb], &s);
                            }
                        }
                    })
                });
            }
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(3));
    targets = multiband
}
criterion_main!(benches);
