//! Speed of the tonal EQ, 48 kHz stereo, 512-frame blocks: neutral (nothing runs), one bell
//! (still, and gliding as under automation), every band (8 sections: 24 dB/oct high-pass, two
//! shelves, three bells, tilt), every band while all parameters glide, and every band in mono.
//! Throughput is in frames per second; ns per frame = 1e9 / throughput.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lathe::dsp::eq::{BellSettings, EqSettings, HpMode, ShelfSettings, TonalEq};

const RATE: f32 = 48_000.0;
const BLOCK: usize = 512;

fn noise(frames: usize, mut seed: u64) -> Vec<f32> {
    (0..frames)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            ((seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.5
        })
        .collect()
}

fn all_bands(shift: f32) -> EqSettings {
    let band = |freq_hz: f32, gain_db: f32, q: f32| BellSettings {
        freq_hz,
        gain_db,
        q,
    };
    EqSettings {
        hp_mode: HpMode::Slope24,
        hp_freq_hz: 30.0 + shift,
        tilt_db: -1.0 + shift * 0.1,
        amount_pct: 100.0,
        low_shelf: ShelfSettings {
            freq_hz: 90.0,
            gain_db: 2.0 + shift,
            q: 0.7,
        },
        bells: [
            band(300.0 * (1.0 + shift * 0.1), -3.0, 1.4),
            band(2_500.0, 1.5 - shift, 0.8),
            band(12_000.0, 4.0, 2.0 + shift),
        ],
        high_shelf: ShelfSettings {
            freq_hz: 9_000.0,
            gain_db: 2.0 - shift,
            q: 0.7,
        },
    }
}

fn eq(c: &mut Criterion) {
    let frames = RATE as usize; // one second per iteration
    let input = vec![noise(frames, 1), noise(frames, 2)];
    let mut one_bell = EqSettings::default();
    one_bell.bells[1].gain_db = 3.0;
    let mut one_bell_up = one_bell;
    one_bell_up.bells[1].gain_db = 4.0;
    let cases: [(&str, usize, [EqSettings; 2]); 6] = [
        ("neutral", 2, [EqSettings::default(); 2]),
        ("one-bell", 2, [one_bell; 2]),
        ("one-bell-gliding", 2, [one_bell, one_bell_up]),
        ("all-bands", 2, [all_bands(0.0); 2]),
        ("all-bands-gliding", 2, [all_bands(0.0), all_bands(1.0)]),
        ("all-bands-mono", 1, [all_bands(0.0); 2]),
    ];
    let mut group = c.benchmark_group("eq");
    group.throughput(Throughput::Elements(frames as u64));
    for (name, channels, settings) in cases {
        let mut stage = TonalEq::new(RATE, 2);
        let mut buf = input[..channels].to_vec();
        group.bench_function(
            BenchmarkId::from_parameter(format!("48k/{BLOCK}/{name}")),
            |b| {
                b.iter(|| {
                    for (dst, src) in buf.iter_mut().zip(&input) {
                        dst.copy_from_slice(src);
                    }
                    // Gliding: the target changes every 20 ms, so the glides never settle.
                    for (k, start) in (0..frames).step_by(BLOCK).enumerate() {
                        let end = (start + BLOCK).min(frames);
                        let s = &settings[(k / 2) % 2];
                        match &mut buf[..] {
                            [mono] => stage.process(&mut [&mut mono[start..end]], s),
                            [l, r] => {
                                stage.process(&mut [&mut l[start..end], &mut r[start..end]], s)
                            }
                            _ => unreachable!(),
                        }
                    }
                })
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = eq
}
criterion_main!(benches);
