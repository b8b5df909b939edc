//! `Chain::process` allocates nothing: checked with a counting global allocator.

mod common;

use lathe::dsp::{Chain, Meters};

#[path = "common/alloc_counter.rs"]
mod alloc_counter;

#[test]
fn process_never_allocates() {
    for rate in common::SAMPLE_RATES {
        let input = common::music_like(rate as usize * 5, rate, 1.0, 1);
        let mut settings = common::busy_settings();
        let mut chain = Chain::new();
        chain.set_metering(true);
        chain.prepare(rate, 8192);
        let mut meters = Meters::default();
        let mut out = input.clone();
        let mono_src = input[0].clone();
        let mut mono = mono_src.clone();
        let blocks = [1usize, 64, 512, 8192, 3, 1000];

        alloc_counter::start();
        let mut start = 0;
        let mut k = 0;
        let frames = out[0].len();
        while start < frames {
            let end = (start + blocks[k % blocks.len()]).min(frames);
            // Settings move while audio plays, look-ahead included (it replays the limiter).
            settings.limiter.drive_db = (k % 13) as f32;
            settings.limiter.lookahead_ms = if k % 50 < 25 { 2.0 } else { 5.0 };
            settings.stereo.width_pct = 80.0 + (k % 7) as f32 * 10.0;
            settings.stereo.mono_below = k % 90 < 60;
            settings.stereo.mono_below_hz = 40.0 + (k % 11) as f32 * 30.0;
            // Learn off and on again now and then: learning restarts (allocation-free).
            settings.target.learn = !(40..45).contains(&k);
            settings.target.learned_gain_db = (k % 5) as f32;
            // The match curve's amount moves too (its sections glide).
            settings.match_eq.amount_pct = if k % 60 < 30 { 80.0 } else { 40.0 };
            // So do the EQ's and the compressor's (coefficients recomputed in place).
            settings.eq.amount_pct = (k % 16) as f32 * 10.0;
            settings.multiband.amount_pct = 150.0 - (k % 7) as f32 * 25.0;
            let (l, r) = out.split_at_mut(1);
            let mut block = [&mut l[0][start..end], &mut r[0][start..end]];
            chain.process(&mut block, &settings, &mut meters);
            let mut mono_block = [&mut mono[start..end]];
            chain.process(&mut mono_block, &settings, &mut meters);
            // Now and then, as a host does on transport jumps; rarely enough that the loudness
            // readings (taken every 100 ms) run too.
            if k % 400 == 399 {
                chain.reset();
            }
            start = end;
            k += 1;
        }
        let n = alloc_counter::stop();
        assert!(
            meters.output_loudness.momentary_lufs.is_finite(),
            "{rate} Hz: readings ran"
        );
        assert!(
            chain.learner().model().len() > lathe::dsp::learn::MIN_RECORDS,
            "{rate} Hz: the learner solved"
        );
        assert_eq!(n, 0, "{rate} Hz: {n} allocations inside process/reset");
    }
}

#[test]
fn the_counter_sees_an_allocation() {
    alloc_counter::start();
    let v = std::hint::black_box(vec![1u8; 64]);
    let n = alloc_counter::stop();
    drop(v);
    assert!(n >= 1, "the counting allocator counted nothing");
}
