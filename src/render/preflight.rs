//! Pre-flight checks: what a mastering engineer looks for in a mix before touching it, and
//! tells the client. Mastering does not fix these; it reports them, every time, so nothing
//! is silently ignored.
//!
//! Findings differ in weight, and a report that turns red for a missing pre-gap teaches
//! people to ignore it: each carries a [`Severity`], and only a problem (something the
//! client must fix before a release, like a clipped mix) is an alarm.

use super::decode::SourceFormat;
use super::measure::Measurement;

/// How much a finding matters, in rising order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Nothing to report.
    Ok,
    /// Worth knowing; mastering takes care of it or it is a matter of taste (a short
    /// pre-gap, peaks far under full scale, a 16-bit source).
    Note,
    /// Costs the master something the client may want to fix (a lossy source, a limiter on
    /// the mix bus, a cut-off ending, DC).
    Warning,
    /// Must be fixed in the mix before a release (clipping).
    Problem,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Note => "note",
            Self::Warning => "warning",
            Self::Problem => "problem",
        }
    }
}

/// One check's outcome. `passed: false` is a finding to tell the client about, as heavy as
/// its `severity` says.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Check {
    /// Short stable name, e.g. `"clipping"`.
    pub name: &'static str,
    pub passed: bool,
    /// `Ok` where it passed.
    pub severity: Severity,
    /// What was measured, in words a client understands.
    pub detail: String,
}

impl Check {
    /// A check that found something (`found`) of weight `severity`, or nothing.
    fn new(name: &'static str, found: bool, severity: Severity, detail: String) -> Self {
        Self {
            name,
            passed: !found,
            severity: if found { severity } else { Severity::Ok },
            detail,
        }
    }
}

/// The heaviest finding among `checks` (`Ok` for none).
pub fn worst(checks: &[Check]) -> Severity {
    checks
        .iter()
        .map(|c| c.severity)
        .max()
        .unwrap_or(Severity::Ok)
}

/// Peaks below this waste resolution (and suggest a gain-staging mistake upstream).
pub const LOW_PEAK_DBFS: f64 = -6.0;
/// A sample at or above this magnitude is at full scale (32767/32768 for 16-bit).
pub const FULL_SCALE: f32 = 0.999_97;
/// Consecutive full-scale samples that make a clip rather than a peak that touches 0 dBFS.
pub const CLIP_RUN: usize = 3;
/// A peak-to-loudness ratio under this suggests a limiter or heavy compression on the mix
/// bus (unmastered mixes typically sit at 12–20 LU; loud masters at 6–9).
pub const MIN_PLR_DB: f64 = 8.0;
/// Peaks within this of the maximum count toward the "flat-topped" cluster.
pub const CLUSTER_WINDOW_DB: f32 = 0.1;
/// Distinct peaks per second within [`CLUSTER_WINDOW_DB`] of the maximum beyond which the
/// mix looks limited: a free mix reaches its maximum a handful of times in a song.
pub const CLUSTER_PER_SECOND: f64 = 1.0;
/// Leading silence the CD and streaming pipelines expect before the music starts.
pub const MIN_LEADING_SILENCE_S: f64 = 0.3;
/// Below this level a sample counts as silence.
pub const SILENCE_DBFS: f32 = -60.0;
/// DC above this (about -60 dBFS) wastes headroom and thumps at edits.
pub const MAX_DC: f64 = 0.001;
/// A mix within this of the target, with a PLR under [`MIN_PLR_DB`], looks mastered already.
pub const MASTERED_WITHIN_LU: f64 = 1.0;

fn db(x: f64) -> f64 {
    if x > 0.0 {
        20.0 * x.log10()
    } else {
        f64::NEG_INFINITY
    }
}

fn time(frame: usize, rate: u32) -> String {
    let s = frame as f64 / rate as f64;
    format!("{}:{:06.3}", (s / 60.0) as u64, s % 60.0)
}

/// Runs every check over a decoded mix (planar) and its measurement.
pub fn check(
    channels: &[Vec<f32>],
    rate: u32,
    source: &SourceFormat,
    m: &Measurement,
) -> Vec<Check> {
    vec![
        low_peak(m),
        clipping(channels, rate),
        over_compression(channels, rate, m),
        leading_silence(channels, rate),
        abrupt_ending(channels, rate),
        dc_offset(channels),
        word_length(source),
        source_codec(source),
    ]
}

/// A mix that is already as loud as the target and as dense as a master is most likely a
/// master (the client sent the wrong file, or a bounce with the mastering chain left on).
/// Known only once the target is, so the renderer adds it after the others.
pub fn already_mastered(m: &Measurement, target_lufs: f64) -> Check {
    let plr = m.true_peak_dbtp - m.integrated_lufs;
    let distance = m.integrated_lufs - target_lufs;
    let found = plr.is_finite() && distance.abs() <= MASTERED_WITHIN_LU && plr < MIN_PLR_DB;
    Check::new(
        "already mastered",
        found,
        Severity::Note,
        if found {
            format!(
                "the mix is already at {:.1} LUFS ({distance:+.1} LU from the {target_lufs:.1}                  target) with a PLR of {plr:.1} LU: it looks mastered; if this is a master, send                  the mix as it was before",
                m.integrated_lufs
            )
        } else if distance.is_finite() {
            format!("{distance:+.1} LU from the {target_lufs:.1} LUFS target, PLR {plr:.1} LU")
        } else {
            "silent: no loudness to compare with the target".to_string()
        },
    )
}

fn low_peak(m: &Measurement) -> Check {
    let passed = m.sample_peak_dbfs >= LOW_PEAK_DBFS;
    Check::new(
        "peak level",
        !passed,
        Severity::Note,
        if passed {
            format!("peaks at {:.1} dBFS", m.sample_peak_dbfs)
        } else {
            format!(
                "peaks at {:.1} dBFS: {:.1} dB of the file's resolution is unused; export the mix \
                 with its peaks between -6 and -1 dBFS",
                m.sample_peak_dbfs, -m.sample_peak_dbfs
            )
        },
    )
}

fn clipping(channels: &[Vec<f32>], rate: u32) -> Check {
    let mut runs = 0;
    let mut first = Vec::new();
    for ch in channels {
        let mut run = 0;
        for (i, &x) in ch.iter().enumerate() {
            if x.abs() >= FULL_SCALE {
                run += 1;
                if run == CLIP_RUN {
                    runs += 1;
                    if first.len() < 5 {
                        first.push(i + 1 - CLIP_RUN);
                    }
                }
            } else {
                run = 0;
            }
        }
    }
    first.sort_unstable();
    let times: Vec<String> = first.iter().map(|&f| time(f, rate)).collect();
    Check::new(
        "clipping",
        runs != 0,
        Severity::Problem,
        if runs == 0 {
            format!("no runs of {CLIP_RUN} or more samples at full scale")
        } else {
            format!(
                "{runs} clipped run(s) of {CLIP_RUN}+ samples at full scale, first at {}",
                times.join(", ")
            )
        },
    )
}

/// Distinct peaks (at least 1 ms apart) within [`CLUSTER_WINDOW_DB`] of the maximum.
fn peaks_near_max(channels: &[Vec<f32>], rate: u32) -> usize {
    let max = channels
        .iter()
        .flat_map(|c| c.iter())
        .fold(0.0f32, |a, &b| a.max(b.abs()));
    if max <= 0.0 {
        return 0;
    }
    let near = max * 10f32.powf(-CLUSTER_WINDOW_DB / 20.0);
    let gap = (rate / 1000).max(1) as usize;
    let frames = channels.first().map_or(0, Vec::len);
    let mut count = 0;
    let mut last: Option<usize> = None;
    for i in 0..frames {
        if channels.iter().any(|c| c[i].abs() >= near) {
            if last.is_none_or(|l| i - l > gap) {
                count += 1;
            }
            last = Some(i);
        }
    }
    count
}

fn over_compression(channels: &[Vec<f32>], rate: u32, m: &Measurement) -> Check {
    let plr = m.true_peak_dbtp - m.integrated_lufs;
    let cluster = peaks_near_max(channels, rate);
    let per_second = cluster as f64 / m.duration_s.max(1e-9);
    let low_plr = plr.is_finite() && plr < MIN_PLR_DB;
    let flat_top = per_second > CLUSTER_PER_SECOND;
    Check::new(
        "dynamics",
        low_plr || flat_top,
        Severity::Warning,
        match (low_plr, flat_top) {
            (false, false) => format!(
                "PLR {plr:.1} LU; {cluster} peak(s) within {CLUSTER_WINDOW_DB} dB of the maximum"
            ),
            _ => format!(
                "looks compressed or limited on the mix bus: PLR {plr:.1} LU (under {MIN_PLR_DB} \
                 suggests a limiter), {cluster} peaks within {CLUSTER_WINDOW_DB} dB of the maximum \
                 ({per_second:.1} per second); send the mix without bus limiting if you can"
            ),
        },
    )
}

fn leading_silence(channels: &[Vec<f32>], rate: u32) -> Check {
    let threshold = 10f32.powf(SILENCE_DBFS / 20.0);
    let frames = channels.first().map_or(0, Vec::len);
    let first_sound = (0..frames)
        .find(|&i| channels.iter().any(|c| c[i].abs() > threshold))
        .unwrap_or(frames);
    let seconds = first_sound as f64 / rate as f64;
    let passed = seconds >= MIN_LEADING_SILENCE_S;
    Check::new(
        "leading silence",
        !passed,
        Severity::Note,
        if passed {
            format!("{:.0} ms of silence before the music", seconds * 1000.0)
        } else {
            format!(
                "only {:.0} ms of silence before the music; leave at least {:.0} ms so the first \
                 transient is not cut by players and the CD pre-gap",
                seconds * 1000.0,
                MIN_LEADING_SILENCE_S * 1000.0
            )
        },
    )
}

/// RMS of all channels over `range`.
fn rms(channels: &[Vec<f32>], range: std::ops::Range<usize>) -> f64 {
    let n = (range.len() * channels.len()).max(1) as f64;
    let sum: f64 = channels
        .iter()
        .map(|c| {
            c[range.clone()]
                .iter()
                .map(|&x| (x as f64).powi(2))
                .sum::<f64>()
        })
        .sum();
    (sum / n).sqrt()
}

fn abrupt_ending(channels: &[Vec<f32>], rate: u32) -> Check {
    let frames = channels.first().map_or(0, Vec::len);
    let tail = (rate as usize / 10).min(frames); // the last 100 ms
    let last = (rate as usize / 100).min(tail); // its last 10 ms
    let tail_rms = db(rms(channels, frames - tail..frames - last));
    let end_rms = db(rms(channels, frames - last..frames));
    // A decay or fade leaves the last 10 ms well under the 90 ms before them, or silent.
    let cut = end_rms > SILENCE_DBFS as f64 && end_rms > tail_rms - 6.0;
    Check::new(
        "ending",
        cut,
        Severity::Warning,
        if cut {
            format!(
                "the music is still playing at the last sample ({end_rms:.1} dBFS RMS in the last \
                 10 ms): the ending looks cut off; send the full tail (a fade-out can be made in \
                 mastering)"
            )
        } else {
            format!("the ending decays (last 10 ms at {end_rms:.1} dBFS RMS)")
        },
    )
}

fn dc_offset(channels: &[Vec<f32>]) -> Check {
    let worst = channels
        .iter()
        .map(|c| (c.iter().map(|&x| x as f64).sum::<f64>() / c.len().max(1) as f64).abs())
        .fold(0.0f64, f64::max);
    let passed = worst <= MAX_DC;
    Check::new(
        "DC offset",
        !passed,
        Severity::Warning,
        if passed {
            format!("DC offset {:.1} dBFS", db(worst))
        } else {
            format!(
                "DC offset of {:.1} dBFS: it wastes headroom and thumps at edits; remove it \
                 at the source",
                db(worst)
            )
        },
    )
}

fn word_length(source: &SourceFormat) -> Check {
    let sixteen = !source.is_float && source.bits_per_sample == Some(16);
    Check::new(
        "word length",
        sixteen,
        Severity::Note,
        match (source.is_float, source.bits_per_sample) {
            (true, Some(b)) => format!("{b}-bit float"),
            (_, Some(16)) => "16-bit source: 24-bit or float is recommended, so the mix's own \
                              dither and quantisation noise are not mastered with it"
                .to_string(),
            (_, Some(b)) => format!("{b}-bit"),
            (_, None) if source.lossy.is_some() => {
                "none: a lossy codec stores no samples".to_string()
            }
            (_, None) => "word length unknown".to_string(),
        },
    )
}

/// A lossy source is accepted (sometimes it is all there is), but the client should know
/// what it costs: the codec's band limit, pre-echo and smeared transients are in the audio
/// and mastering makes them louder, and a second lossy encode on the platforms compounds
/// them.
fn source_codec(source: &SourceFormat) -> Check {
    match &source.lossy {
        Some(lossy) => Check::new(
            "source codec",
            true,
            Severity::Warning,
            format!(
                "{} at about {:.0} kbps: a lossy file; mastering it bakes the codec's artefacts                  (band limit, pre-echo, smeared transients) into the master; send the WAV,                  AIFF or FLAC export of the mix if there is one",
                lossy.codec, lossy.bitrate_kbps
            ),
        ),
        None => Check::new(
            "source codec",
            false,
            Severity::Warning,
            format!("lossless ({})", source.container),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::measure::measure;
    use super::*;

    const RATE: u32 = 48_000;

    /// A free-flowing test mix: decaying tones, peaks at -3 dBFS once, 0.5 s of silence first
    /// and a 1 s fade at the end.
    fn healthy() -> Vec<Vec<f32>> {
        let frames = RATE as usize * 6;
        let mut x = vec![0.0f32; frames];
        for (n, s) in x.iter_mut().enumerate().skip(RATE as usize / 2) {
            let t = n as f64 / RATE as f64;
            let beat = (t * 2.0).fract();
            let env = (-beat * 6.0).exp() * (1.0 - ((t - 5.0).max(0.0)));
            *s = (0.5 * env * (2.0 * std::f64::consts::PI * 220.0 * t).sin()) as f32;
        }
        let max = x.iter().fold(0.0f32, |a, &b| a.max(b.abs()));
        let peak_at = x.iter().position(|&v| v.abs() == max).unwrap();
        for s in x.iter_mut() {
            *s *= 0.5;
        }
        x[peak_at] = 0.708 * x[peak_at].signum();
        vec![x.clone(), x]
    }

    fn run(channels: &[Vec<f32>], bits: u32) -> Vec<Check> {
        let source = SourceFormat {
            container: "WAV",
            bits_per_sample: Some(bits),
            is_float: false,
            lossy: None,
        };
        check(channels, RATE, &source, &measure(channels, RATE))
    }

    fn failed(checks: &[Check]) -> Vec<&'static str> {
        checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name)
            .collect()
    }

    #[test]
    fn a_healthy_mix_passes_every_check() {
        let checks = run(&healthy(), 24);
        assert!(failed(&checks).is_empty(), "{checks:#?}");
    }

    #[test]
    fn each_problem_trips_its_own_check() {
        let mut quiet = healthy();
        quiet.iter_mut().flatten().for_each(|s| *s *= 0.25);
        assert_eq!(failed(&run(&quiet, 24)), ["peak level"]);

        let mut clipped = healthy();
        for s in &mut clipped[1][100_000..100_004] {
            *s = 1.0;
        }
        let checks = run(&clipped, 24);
        assert!(failed(&checks).contains(&"clipping"), "{checks:#?}");
        assert!(
            checks[1].detail.contains("0:02.083"),
            "{}",
            checks[1].detail
        );

        // A limited mix: a dense square-ish wave flat-topped at -1 dBFS.
        let mut limited = healthy();
        for c in &mut limited {
            for (n, s) in c.iter_mut().enumerate().skip(RATE as usize / 2) {
                *s = (((n as f32) * 0.07).sin() * 4.0).clamp(-0.89, 0.89);
            }
            let len = c.len();
            for (k, s) in c[len - RATE as usize..].iter_mut().enumerate() {
                *s *= 1.0 - k as f32 / RATE as f32;
            }
        }
        assert!(failed(&run(&limited, 24)).contains(&"dynamics"));

        let mut no_lead = healthy();
        for c in &mut no_lead {
            c.drain(..RATE as usize / 2 - 480);
        }
        assert_eq!(failed(&run(&no_lead, 24)), ["leading silence"]);

        let mut cut = healthy();
        for c in &mut cut {
            c.truncate(RATE as usize * 2 + 1234);
        }
        assert_eq!(failed(&run(&cut, 24)), ["ending"]);

        let mut dc = healthy();
        dc.iter_mut().flatten().for_each(|s| *s += 0.01);
        assert!(failed(&run(&dc, 24)).contains(&"DC offset"));

        assert_eq!(failed(&run(&healthy(), 16)), ["word length"]);
    }

    #[test]
    fn findings_carry_their_weight() {
        let severity =
            |checks: &[Check], name: &str| checks.iter().find(|c| c.name == name).unwrap().severity;
        let clean = run(&healthy(), 24);
        assert!(clean.iter().all(|c| c.severity == Severity::Ok));
        assert_eq!(worst(&clean), Severity::Ok);

        // A short pre-gap is a note, not an alarm (8 of 8 real mixes have one).
        let mut no_lead = healthy();
        for c in &mut no_lead {
            c.drain(..RATE as usize / 2 - 480);
        }
        let checks = run(&no_lead, 24);
        assert_eq!(severity(&checks, "leading silence"), Severity::Note);
        assert_eq!(worst(&checks), Severity::Note);

        // Clipping is the one problem.
        let mut clipped = healthy();
        for s in &mut clipped[1][100_000..100_004] {
            *s = 1.0;
        }
        let checks = run(&clipped, 24);
        assert_eq!(severity(&checks, "clipping"), Severity::Problem);
        assert_eq!(worst(&checks), Severity::Problem);

        // A lossy source is a warning that names the codec and its bitrate.
        let source = SourceFormat {
            container: "MP3",
            bits_per_sample: None,
            is_float: false,
            lossy: Some(crate::render::decode::LossyCodec {
                codec: "MP3",
                bitrate_kbps: 128.4,
            }),
        };
        let mix = healthy();
        let checks = check(&mix, RATE, &source, &measure(&mix, RATE));
        let codec = checks.iter().find(|c| c.name == "source codec").unwrap();
        assert_eq!(codec.severity, Severity::Warning);
        assert!(
            codec.detail.starts_with("MP3 at about 128 kbps"),
            "{}",
            codec.detail
        );
        assert!(codec.detail.contains("bakes"), "{}", codec.detail);
        assert_eq!(severity(&checks, "word length"), Severity::Ok);
    }

    #[test]
    fn a_mix_as_loud_and_dense_as_its_target_looks_mastered() {
        // A dense, limited signal: PLR about 3 dB.
        let dense: Vec<Vec<f32>> = (0..2)
            .map(|_| {
                (0..RATE as usize * 5)
                    .map(|n| (((n as f32) * 0.07).sin() * 4.0).clamp(-0.89, 0.89))
                    .collect()
            })
            .collect();
        let m = measure(&dense, RATE);
        let plr = m.true_peak_dbtp - m.integrated_lufs;
        assert!(plr < MIN_PLR_DB, "{plr}");
        let near = already_mastered(&m, m.integrated_lufs - 0.8);
        assert_eq!(near.severity, Severity::Note, "{}", near.detail);
        assert!(near.detail.contains("looks mastered"), "{}", near.detail);
        // Further than 1 LU from the target it is only loud, not a master of this target.
        assert_eq!(
            already_mastered(&m, m.integrated_lufs - 1.2).severity,
            Severity::Ok
        );
        // At the target but dynamic (PLR over 8 dB): a mix.
        let mix = healthy();
        let m = measure(&mix, RATE);
        assert!(m.true_peak_dbtp - m.integrated_lufs > MIN_PLR_DB);
        assert_eq!(
            already_mastered(&m, m.integrated_lufs).severity,
            Severity::Ok
        );
    }
}
