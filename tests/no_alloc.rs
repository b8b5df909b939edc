//! `Chain::process` allocates nothing: checked with a counting global allocator. This file
//! holds one test so no other test allocates on another thread while it counts.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use lathe::dsp::{Chain, Meters};

struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

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

        COUNTING.store(true, Ordering::SeqCst);
        let mut start = 0;
        let mut k = 0;
        let frames = out[0].len();
        while start < frames {
            let end = (start + blocks[k % blocks.len()]).min(frames);
            // Settings move while audio plays, look-ahead included (it replays the limiter).
            settings.limiter.drive_db = (k % 13) as f32;
            settings.limiter.lookahead_ms = if k % 50 < 25 { 2.0 } else { 5.0 };
            settings.stereo.width_pct = 80.0 + (k % 7) as f32 * 10.0;
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
        COUNTING.store(false, Ordering::SeqCst);
        assert!(
            meters.output_loudness.momentary_lufs.is_finite(),
            "{rate} Hz: readings ran"
        );
        let n = ALLOCATIONS.swap(0, Ordering::SeqCst);
        assert_eq!(n, 0, "{rate} Hz: {n} allocations inside process/reset");
    }
}
