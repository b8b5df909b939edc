//! Measuring what was written: integrated loudness, loudness range, true peak and sample
//! peak, per ITU-R BS.1770-4 and EBU Tech 3342, with the ebur128 crate. Offline, so the
//! meter's (allocating) default mode is fine here.

use ebur128::{EbuR128, Mode};

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Measurement {
    pub integrated_lufs: f64,
    pub loudness_range_lu: f64,
    pub true_peak_dbtp: f64,
    pub sample_peak_dbfs: f64,
    pub duration_s: f64,
    pub sample_rate: u32,
}

fn to_db(linear: f64) -> f64 {
    if linear > 0.0 {
        20.0 * linear.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// Measures planar audio. Mono is measured as dual mono, as it plays on two speakers.
pub fn measure(channels: &[Vec<f32>], sample_rate: u32) -> Measurement {
    let frames = channels.first().map_or(0, Vec::len);
    let planar: Vec<&[f32]> = match channels {
        [mono] => vec![mono, mono],
        _ => channels.iter().map(|c| &c[..]).collect(),
    };
    let mode = Mode::I | Mode::LRA | Mode::TRUE_PEAK | Mode::SAMPLE_PEAK;
    let meter = EbuR128::new(planar.len() as u32, sample_rate, mode).and_then(|mut m| {
        m.add_frames_planar_f32(&planar)?;
        Ok(m)
    });
    let Ok(m) = meter else {
        return Measurement {
            integrated_lufs: f64::NAN,
            loudness_range_lu: f64::NAN,
            true_peak_dbtp: f64::NAN,
            sample_peak_dbfs: f64::NAN,
            duration_s: frames as f64 / sample_rate as f64,
            sample_rate,
        };
    };
    let peak_over = |f: &dyn Fn(u32) -> f64| (0..planar.len() as u32).map(f).fold(0.0f64, f64::max);
    Measurement {
        integrated_lufs: m.loudness_global().unwrap_or(f64::NEG_INFINITY),
        loudness_range_lu: m.loudness_range().unwrap_or(0.0),
        true_peak_dbtp: to_db(peak_over(&|c| m.true_peak(c).unwrap_or(0.0))),
        sample_peak_dbfs: to_db(peak_over(&|c| m.sample_peak(c).unwrap_or(0.0))),
        duration_s: frames as f64 / sample_rate as f64,
        sample_rate,
    }
}
