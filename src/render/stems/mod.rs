//! Stem mastering: up to four stereo stems (1 rhythm, 2 harmony, 3 low end, 4 main vocal)
//! beside their mix. Before anything is processed, each stem is checked against the mix:
//! same rate, channels and length ([`check_format`]), sample alignment by cross-correlation
//! ([`align`]), and the null test, how far the stem sum is from the mix. Then each stem runs
//! its own stage ([`stage`]: EQ, compressor, gain from `[stems.<role>]`), the stages sum,
//! and the sum is what the bus chain masters; the mix is only the reference.
//!
//! Every figure lands in the report ([`StemsRecord`]) so an engineer can check it.

pub mod align;
pub mod html;
pub mod settings;
pub mod stage;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::cancel::Cancel;
use super::decode::decode_file;
use super::solve::integrated_lufs;
use super::RenderError;
pub use settings::{load_render_settings, RenderSettings, StemStageSettings, StemsSettings};

/// The null test passes when the stem sum is at least this far under the mix, dB: the
/// residual is then below the quietest parts of a typical mix, and the stems are the mix.
/// Above it, something (a missing stem, bus processing on the mix, a level change) is in the
/// mix and not in the stems, and the master of the stems will not sound like the mix.
pub const NULL_TEST_MAX_DB: f64 = -30.0;

/// The four stems a mastering client sends, in their usual numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StemRole {
    /// 1: drums and percussion.
    Rhythm,
    /// 2: keys, guitars, horns, pads.
    Harmony,
    /// 3: bass and low synths.
    Low,
    /// 4: the main vocal.
    Vocal,
}

impl StemRole {
    pub const ALL: [StemRole; 4] = [
        StemRole::Rhythm,
        StemRole::Harmony,
        StemRole::Low,
        StemRole::Vocal,
    ];

    /// The name on the command line and in the settings file.
    pub fn name(self) -> &'static str {
        match self {
            StemRole::Rhythm => "rhythm",
            StemRole::Harmony => "harmony",
            StemRole::Low => "low",
            StemRole::Vocal => "vocal",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// One stem file and its role.
#[derive(Debug, Clone, PartialEq)]
pub struct StemInput {
    pub role: StemRole,
    pub path: PathBuf,
}

impl StemInput {
    /// Parses `role=path` as the command line gives it.
    pub fn parse(arg: &str) -> Result<Self, String> {
        let (role, path) = arg
            .split_once('=')
            .ok_or_else(|| format!("'{arg}': give a stem as role=file, e.g. vocal=vox.wav"))?;
        let role = StemRole::parse(role).ok_or_else(|| {
            format!("'{role}' is no stem role; the roles are rhythm, harmony, low and vocal")
        })?;
        if path.is_empty() {
            return Err(format!("{}: no file given", role.name()));
        }
        Ok(Self {
            role,
            path: path.into(),
        })
    }
}

/// The stems of a render and what to do with them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StemsJob {
    /// One to four stems, each role at most once.
    pub inputs: Vec<StemInput>,
    pub settings: StemsSettings,
    /// Shift a stem that is not sample-aligned with the mix into place instead of refusing it.
    pub allow_offset: bool,
}

/// One stem in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StemRecord {
    pub role: StemRole,
    pub path: String,
    /// How many samples the stem lagged the mix (positive: late); `None` when the
    /// correlation was too weak to measure it (a silent stem).
    pub offset_samples: Option<i64>,
    pub offset_ms: Option<f64>,
    /// Normalised cross-correlation at the peak (1: the mix's window is this stem; a quiet
    /// stem is a small part of the mix and scores low).
    pub correlation: Option<f64>,
    /// How far the weighted correlation's peak stands above its RMS over the searched lags
    /// (see `align::MIN_PROMINENCE`): the confidence in the offset.
    pub peak_prominence: Option<f64>,
    /// The offset was compensated (`--allow-offset`).
    pub offset_compensated: bool,
    /// The stem's stage ran; false when `enabled = false` or every control is neutral.
    pub stage_active: bool,
    pub stage_enabled: bool,
    /// The stage's gain, dB, as run (after clamping).
    pub gain_db: f32,
    /// Integrated loudness of the stem alone (BS.1770-4) before and after its stage.
    pub lufs_before: Option<f64>,
    pub lufs_after: Option<f64>,
    /// The stem's share of the stems' summed loudness power (10^(L/10) over the sum of
    /// them), percent, before and after. Stems that share content (correlate) sum to more
    /// or less than their powers, so the shares describe balance, not the sum's loudness.
    pub share_before_pct: Option<f64>,
    pub share_after_pct: Option<f64>,
}

/// The null test: the stem sum (offsets compensated) against the mix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NullTestRecord {
    /// Energy of (stem sum − mix) over the energy of the mix, all channels, dB; `None`
    /// when the mix is silent.
    pub residual_db: Option<f64>,
    pub limit_db: f64,
    pub passed: bool,
}

/// One check, as the report lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StemCheckRecord {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// What the stems did, for report.json and report.html.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StemsRecord {
    /// Which signal the bus chain mastered: always the (processed) stem sum when stems are
    /// given; the mix serves as the reference the checks compare against.
    pub mastered_signal: String,
    pub stems: Vec<StemRecord>,
    pub null_test: NullTestRecord,
    pub mix_lufs: Option<f64>,
    /// Loudness of the stem sum before and after the stem stages.
    pub sum_lufs_before: Option<f64>,
    pub sum_lufs_after: Option<f64>,
    /// Every check, in the order it ran.
    pub checks: Vec<StemCheckRecord>,
}

/// The stem sum to master, and what it took.
#[derive(Debug, Clone)]
pub struct PreparedStems {
    /// The processed stems, summed: what the bus chain masters.
    pub sum: Vec<Vec<f32>>,
    pub record: StemsRecord,
    pub warnings: Vec<String>,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn stem_error(path: &Path, role: StemRole, detail: String) -> RenderError {
    RenderError::Stem {
        path: path.to_path_buf(),
        detail: format!("{} stem: {detail}", role.name()),
    }
}

/// Rate, channel count and length against the mix's.
pub fn check_format(
    path: &Path,
    role: StemRole,
    (rate, channels, frames): (u32, usize, usize),
    mix: (u32, usize, usize),
) -> Result<(), RenderError> {
    if rate != mix.0 {
        return Err(stem_error(
            path,
            role,
            format!(
                "sample rate is {rate} Hz, the mix's is {} Hz; export the stems at the mix's rate",
                mix.0
            ),
        ));
    }
    if channels != mix.1 {
        return Err(stem_error(
            path,
            role,
            format!("{channels} channel(s), the mix has {}", mix.1),
        ));
    }
    if frames != mix.2 {
        return Err(stem_error(
            path,
            role,
            format!(
                "{frames} samples long ({:.3} s), the mix is {} samples ({:.3} s); export every \
                 stem over the mix's whole length",
                frames as f64 / rate as f64,
                mix.2,
                mix.2 as f64 / rate as f64
            ),
        ));
    }
    Ok(())
}

/// Energy of (Σ stems − mix) relative to the mix's, dB (all channels).
pub fn null_residual_db(mix: &[Vec<f32>], stems: &[Vec<Vec<f32>>]) -> Option<f64> {
    let mut residual = 0.0f64;
    let mut reference = 0.0f64;
    for (ch, m) in mix.iter().enumerate() {
        for (i, &x) in m.iter().enumerate() {
            let sum: f64 = stems.iter().map(|s| f64::from(s[ch][i])).sum();
            let d = sum - f64::from(x);
            residual += d * d;
            reference += f64::from(x) * f64::from(x);
        }
    }
    (reference > 0.0).then(|| 10.0 * (residual.max(1e-300) / reference).log10())
}

/// Sums planar stems sample by sample, in the order given.
pub fn sum_stems(stems: &[Vec<Vec<f32>>]) -> Vec<Vec<f32>> {
    let Some(first) = stems.first() else {
        return Vec::new();
    };
    let mut out = first.clone();
    for s in &stems[1..] {
        for (o, c) in out.iter_mut().zip(s) {
            for (o, &x) in o.iter_mut().zip(c) {
                *o += x;
            }
        }
    }
    out
}

/// Shares of the stems' loudness powers, percent.
fn shares(lufs: &[f64]) -> Vec<Option<f64>> {
    let powers: Vec<f64> = lufs
        .iter()
        .map(|&l| {
            if l.is_finite() {
                10f64.powf(l / 10.0)
            } else {
                0.0
            }
        })
        .collect();
    let total: f64 = powers.iter().sum();
    powers
        .iter()
        .map(|&p| (total > 0.0).then(|| 100.0 * p / total))
        .collect()
}

/// Decodes and checks the stems against the mix, runs each stage and sums them. Nothing is
/// processed until every stem has passed its format and alignment checks.
pub fn prepare(
    mix: &[Vec<f32>],
    rate: u32,
    job: &StemsJob,
    cancel: &Cancel,
) -> Result<PreparedStems, RenderError> {
    if job.inputs.is_empty() || job.inputs.len() > 4 {
        return Err(RenderError::Unsupported {
            what: format!("give one to four stems, not {}", job.inputs.len()),
        });
    }
    let mut inputs = job.inputs.clone();
    inputs.sort_by_key(|s| s.role);
    if let Some(w) = inputs.windows(2).find(|w| w[0].role == w[1].role) {
        return Err(stem_error(
            &w[1].path,
            w[1].role,
            format!("given twice (also {})", w[0].path.display()),
        ));
    }
    let mix_shape = (rate, mix.len(), mix.first().map_or(0, Vec::len));
    let mut checks = Vec::new();
    let mut warnings = Vec::new();

    // 1. Format: every stem, before any correlation.
    let mut audio = Vec::with_capacity(inputs.len());
    for s in &inputs {
        cancel.check()?;
        let a = decode_file(&s.path)?;
        check_format(
            &s.path,
            s.role,
            (a.sample_rate, a.channels.len(), a.frames()),
            mix_shape,
        )?;
        checks.push(StemCheckRecord {
            name: format!("{} format", s.role.name()),
            passed: true,
            detail: format!(
                "{} Hz, {} channel(s), {} samples: as the mix",
                a.sample_rate,
                a.channels.len(),
                a.frames()
            ),
        });
        audio.push(a.channels);
    }

    // 2. Alignment.
    let ms = |samples: i64| samples as f64 * 1000.0 / rate as f64;
    let mut alignments = Vec::with_capacity(inputs.len());
    // Every stem is measured before any is refused, so one error names them all.
    let mut misaligned: Vec<(&StemInput, align::Alignment)> = Vec::new();
    for (s, a) in inputs.iter().zip(&audio) {
        cancel.check()?;
        let found = align::measure_offset(mix, a, rate);
        match found {
            Some(al) if al.offset_samples != 0 && !job.allow_offset => misaligned.push((s, al)),
            Some(al) => checks.push(StemCheckRecord {
                name: format!("{} alignment", s.role.name()),
                passed: al.offset_samples == 0,
                detail: if al.offset_samples == 0 {
                    format!(
                        "sample-aligned with the mix (correlation {:.2})",
                        al.correlation
                    )
                } else {
                    format!(
                        "{} samples ({:+.2} ms) off the mix (correlation {:.2}); shifted into \
                         place (--allow-offset)",
                        al.offset_samples,
                        ms(al.offset_samples),
                        al.correlation
                    )
                },
            }),
            None => checks.push(StemCheckRecord {
                name: format!("{} alignment", s.role.name()),
                passed: true,
                detail: format!(
                    "not measurable: no correlation peak {:.0} times over the noise (silent, \
                     or nothing of it is in the mix); taken as aligned",
                    align::MIN_PROMINENCE
                ),
            }),
        }
        alignments.push(found);
    }
    if let Some((first, _)) = misaligned.first() {
        let each: Vec<String> = misaligned
            .iter()
            .map(|(s, al)| {
                format!(
                    "{} ({}) is {} samples ({:+.2} ms) {}",
                    s.role.name(),
                    s.path.display(),
                    al.offset_samples.abs(),
                    ms(al.offset_samples),
                    if al.offset_samples > 0 {
                        "late"
                    } else {
                        "early"
                    }
                )
            })
            .collect();
        return Err(stem_error(
            &first.path,
            first.role,
            format!(
                "not aligned with the mix: {}; export the stems from the same start as the mix, \
                 or pass --allow-offset to shift them into place",
                each.join("; ")
            ),
        ));
    }
    for ((s, a), al) in inputs.iter().zip(&mut audio).zip(&alignments) {
        if let Some(al) = al.filter(|al| al.offset_samples != 0) {
            align::compensate(a, al.offset_samples);
            warnings.push(format!(
                "{} stem ({}) was {} samples ({:+.2} ms) off the mix and was shifted into place",
                s.role.name(),
                s.path.display(),
                al.offset_samples,
                ms(al.offset_samples)
            ));
        }
    }

    // 3. The null test.
    let residual_db = null_residual_db(mix, &audio);
    let passed = residual_db.is_some_and(|r| r <= NULL_TEST_MAX_DB);
    let roles: Vec<&str> = inputs.iter().map(|s| s.role.name()).collect();
    let null_detail = match residual_db {
        Some(r) => format!(
            "the sum of {} is {r:.1} dB from the mix (limit {NULL_TEST_MAX_DB:.0} dB); the stem \
             sum is what gets mastered, the mix is the reference",
            roles.join(" + ")
        ),
        None => "the mix is silent: nothing to compare the stems with".to_string(),
    };
    if !passed {
        warnings.push(format!(
            "null test: {null_detail}; the master follows the stems, not the mix"
        ));
    }
    checks.push(StemCheckRecord {
        name: "null test".into(),
        passed,
        detail: null_detail,
    });

    // 4. The stages.
    let lufs_before: Vec<f64> = audio.iter().map(|a| integrated_lufs(a, rate)).collect();
    let sum_before = integrated_lufs(&sum_stems(&audio), rate);
    for (s, a) in inputs.iter().zip(&mut audio) {
        stage::run_stage(a, rate, job.settings.get(s.role), cancel)?;
    }
    let lufs_after: Vec<f64> = audio.iter().map(|a| integrated_lufs(a, rate)).collect();
    let sum = sum_stems(&audio);
    let sum_after = integrated_lufs(&sum, rate);
    let (share_before, share_after) = (shares(&lufs_before), shares(&lufs_after));

    let stems = inputs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let st = job.settings.get(s.role).clamped();
            let al = alignments[i];
            StemRecord {
                role: s.role,
                path: s.path.to_string_lossy().into_owned(),
                offset_samples: al.map(|a| a.offset_samples),
                offset_ms: al.map(|a| ms(a.offset_samples)),
                correlation: al.map(|a| a.correlation),
                peak_prominence: al.map(|a| a.prominence),
                offset_compensated: al.is_some_and(|a| a.offset_samples != 0),
                stage_active: !st.is_neutral(),
                stage_enabled: st.enabled,
                gain_db: if st.enabled { st.gain_db } else { 0.0 },
                lufs_before: finite(lufs_before[i]),
                lufs_after: finite(lufs_after[i]),
                share_before_pct: share_before[i],
                share_after_pct: share_after[i],
            }
        })
        .collect();
    Ok(PreparedStems {
        sum,
        record: StemsRecord {
            mastered_signal: format!("stem sum ({})", roles.join(" + ")),
            stems,
            null_test: NullTestRecord {
                residual_db,
                limit_db: NULL_TEST_MAX_DB,
                passed,
            },
            mix_lufs: finite(integrated_lufs(mix, rate)),
            sum_lufs_before: finite(sum_before),
            sum_lufs_after: finite(sum_after),
            checks,
        },
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stem_arguments_parse_as_role_equals_file() {
        let s = StemInput::parse("vocal=a b.wav").unwrap();
        assert_eq!(
            (s.role, s.path),
            (StemRole::Vocal, PathBuf::from("a b.wav"))
        );
        assert!(StemInput::parse("drums=x.wav")
            .unwrap_err()
            .contains("rhythm"));
        assert!(StemInput::parse("x.wav").is_err());
        assert!(StemInput::parse("low=").is_err());
    }

    #[test]
    fn the_null_residual_is_the_energy_ratio_in_db() {
        let mix = vec![vec![1.0f32, -1.0, 1.0, -1.0]];
        let a = vec![vec![0.5f32, -0.5, 0.5, -0.5]];
        let b = vec![vec![0.4f32, -0.4, 0.4, -0.4]];
        // Residual 0.1 of 1.0 in amplitude: -20 dB.
        let r = null_residual_db(&mix, &[a.clone(), b]).unwrap();
        assert!((r + 20.0).abs() < 1e-5, "{r}");
        assert_eq!(sum_stems(&[a.clone(), a])[0], vec![1.0, -1.0, 1.0, -1.0]);
    }

    #[test]
    fn shares_add_up_to_a_hundred() {
        let s = shares(&[-20.0, -20.0, f64::NEG_INFINITY]);
        assert_eq!(s[2], Some(0.0));
        assert!((s[0].unwrap() - 50.0).abs() < 1e-9);
    }
}
