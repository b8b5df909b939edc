//! The match in an engineer's words: one sentence per region (low end, mids, top, width) of
//! what the applied curve does there and by how much, for report.html.

use super::{CurvePoint, ReferenceRecord};

/// Moves smaller than this are "left as it was": under a just-noticeable level change for
/// broadband material (about 0.5 dB, e.g. Zwicker & Fastl, *Psychoacoustics*, 3rd ed., 2007,
/// ch. 7).
pub const AUDIBLE_DB: f64 = 0.5;

/// The regions, `(name, low_hz, high_hz)`: what an engineer calls the low end, the mids and
/// the top.
pub const REGIONS: [(&str, f64, f64); 3] = [
    ("Low end (30–250 Hz)", 30.0, 250.0),
    ("Mids (250 Hz–4 kHz)", 250.0, 4000.0),
    ("Top (4–16 kHz)", 4000.0, 16_000.0),
];

fn hz(f: f64) -> String {
    if f < 1000.0 {
        format!("{f:.0} Hz")
    } else {
        format!("{:.1} kHz", f / 1000.0)
    }
}

/// One sentence on `value` of the curve over `low..=high`.
fn region(
    name: &str,
    curve: &[CurvePoint],
    low: f64,
    high: f64,
    value: impl Fn(&CurvePoint) -> f64,
    up: &str,
    down: &str,
) -> String {
    let pts: Vec<(f64, f64)> = curve
        .iter()
        .filter(|p| (low..=high).contains(&p.freq_hz))
        .map(|p| (p.freq_hz, value(p)))
        .collect();
    let Some(&(f_max, max)) = pts.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
        return format!("{name}: nothing to judge.");
    };
    let &(f_min, min) = pts
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or(&(f_max, max));
    let mean = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
    let mut parts = Vec::new();
    if max >= AUDIBLE_DB {
        parts.push(format!("{up} by up to {max:.1} dB around {}", hz(f_max)));
    }
    if min <= -AUDIBLE_DB {
        parts.push(format!(
            "{down} by up to {:.1} dB around {}",
            -min,
            hz(f_min)
        ));
    }
    if parts.is_empty() {
        format!("{name}: left as it was (within ±{AUDIBLE_DB:.1} dB).")
    } else {
        format!("{name}: {} (on average {mean:+.1} dB).", parts.join("; "))
    }
}

/// The four sentences, in the order low end, mids, top, width.
pub fn sentences(r: &ReferenceRecord) -> Vec<String> {
    let mut out: Vec<String> = REGIONS
        .iter()
        .map(|&(name, lo, hi)| {
            region(
                name,
                &r.curve,
                lo,
                hi,
                |p| p.applied_db,
                "raised",
                "lowered",
            )
        })
        .collect();
    let mut width = region(
        "Width",
        &r.curve,
        30.0,
        16_000.0,
        |p| p.side_applied_db,
        "side widened",
        "side narrowed",
    );
    if let (Some(a), Some(b)) = (r.low_band_correlation_mix, r.low_band_correlation_master) {
        width.pop();
        width.push_str(&format!(
            "; correlation below 150 Hz {a:.3} in the mix, {b:.3} in the master."
        ));
    }
    out.push(width);
    out
}
