//! The rules a [`RenderJob`] must keep before any work starts: every number within the range
//! the plugin offers, no two options that contradict each other. The command lines only parse
//! and print; the rules live here so a library caller gets the same refusals (issue 17/18).

use crate::dsp::eq::match_curve::{MATCH_AMOUNT_PCT, MATCH_SMOOTHING_OCT};
use crate::dsp::learn::TARGET_LUFS;
use crate::dsp::settings::SettingsError;

use super::fade::Fades;
use super::RenderJob;

/// Why a job was refused before it started. Each variant carries the value and the allowed
/// range, so a command line can name its own option beside them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    /// The plugin's target control spans -36 to -5 LUFS; a target outside it is almost
    /// always a typo (`14` for `-14`) that would otherwise render 25 dB of limiting.
    #[error("target {value} LUFS is outside {min} to {max} LUFS")]
    Target { value: f64, min: f32, max: f32 },
    /// A chain setting outside its range: refused rather than clamped, so what is rendered
    /// is what was asked for.
    #[error("`{field}` = {value} is outside {min} to {max}")]
    Setting {
        field: String,
        value: f32,
        min: f32,
        max: f32,
    },
    #[error("{which} of {value} is not a length (0 or more)")]
    Fade { which: FadeEnd, value: f64 },
    /// Known only once the mix is decoded; still refused before mastering starts.
    #[error(
        "fade-in {fade_in_s:.3} s and fade-out {fade_out_s:.3} s are longer than the mix \
         ({mix_s:.3} s)"
    )]
    FadesLongerThanMix {
        fade_in_s: f64,
        fade_out_s: f64,
        mix_s: f64,
    },
    #[error("match amount {value} % is outside {min} to {max} %")]
    MatchAmount { value: f32, min: f32, max: f32 },
    #[error("match smoothing {value} octaves is outside {min} to {max} octaves")]
    MatchSmoothing { value: f32, min: f32, max: f32 },
    #[error("assistant amount {value} % is outside 0 to 100 %")]
    AssistAmount { value: f32 },
    /// Taking the target from the reference needs a loudness solve; a job without a target
    /// renders its settings as they are, so the two contradict each other.
    #[error("a target taken from the reference needs a loudness target; this job has none")]
    ReferenceTargetWithoutSolve,
}

/// Which end of the song a fade is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FadeEnd {
    In,
    Out,
}

impl std::fmt::Display for FadeEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FadeEnd::In => "fade-in",
            FadeEnd::Out => "fade-out",
        })
    }
}

impl From<SettingsError> for JobError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::OutOfRange {
                field,
                value,
                min,
                max,
            } => JobError::Setting {
                field,
                value,
                min,
                max,
            },
            // Settings in a job are values, not text: only a range can be wrong.
            SettingsError::Parse(e) => JobError::Setting {
                field: e.to_string(),
                value: f32::NAN,
                min: f32::NAN,
                max: f32::NAN,
            },
        }
    }
}

impl RenderJob {
    /// Checks every rule that needs no audio: ranges and contradictions. `render` calls it
    /// first; a command line may call it before it shows any progress.
    pub fn validate(&self) -> Result<(), JobError> {
        if let Some(value) = self.target_lufs {
            // Non-finite targets fail `contains` too.
            if !TARGET_LUFS.contains(value as f32) {
                return Err(JobError::Target {
                    value,
                    min: TARGET_LUFS.min,
                    max: TARGET_LUFS.max,
                });
            }
        }
        self.settings.validate()?;
        for (which, value) in [
            (FadeEnd::In, self.fades.fade_in_ms),
            (FadeEnd::Out, self.fades.fade_out_s),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(JobError::Fade { which, value });
            }
        }
        if let Some(r) = &self.reference {
            if !MATCH_AMOUNT_PCT.contains(r.amount_pct) {
                return Err(JobError::MatchAmount {
                    value: r.amount_pct,
                    min: MATCH_AMOUNT_PCT.min,
                    max: MATCH_AMOUNT_PCT.max,
                });
            }
            if let Some(value) = r.smoothing_oct {
                if !MATCH_SMOOTHING_OCT.contains(value) {
                    return Err(JobError::MatchSmoothing {
                        value,
                        min: MATCH_SMOOTHING_OCT.min,
                        max: MATCH_SMOOTHING_OCT.max,
                    });
                }
            }
            if r.target_from_reference && self.target_lufs.is_none() {
                return Err(JobError::ReferenceTargetWithoutSolve);
            }
        }
        if let Some(value) = self.assist_pct {
            if !(value.is_finite() && (0.0..=100.0).contains(&value)) {
                return Err(JobError::AssistAmount { value });
            }
        }
        Ok(())
    }
}

impl Fades {
    /// Refuses fades that together last longer than the mix: they would overlap and the
    /// song would never reach full level, which is never what was meant.
    pub fn check_fits(&self, mix_s: f64) -> Result<(), JobError> {
        let fade_in_s = self.fade_in_ms / 1000.0;
        if fade_in_s + self.fade_out_s > mix_s {
            return Err(JobError::FadesLongerThanMix {
                fade_in_s,
                fade_out_s: self.fade_out_s,
                mix_s,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::ChainSettings;

    fn job() -> RenderJob {
        RenderJob::new("mix.wav", "out", ChainSettings::default())
    }

    #[test]
    fn the_default_job_is_valid() {
        assert_eq!(job().validate(), Ok(()));
    }

    #[test]
    fn a_target_outside_the_plugins_range_is_refused() {
        for t in [14.0, 0.0, -4.9, -36.1, f64::NAN] {
            let mut j = job();
            j.target_lufs = Some(t);
            assert!(matches!(j.validate(), Err(JobError::Target { .. })), "{t}");
        }
        let mut j = job();
        j.target_lufs = Some(-5.0);
        assert_eq!(j.validate(), Ok(()));
    }

    #[test]
    fn settings_out_of_range_are_refused_not_clamped() {
        let mut j = job();
        j.settings.limiter.ceiling_dbtp = 1.5;
        assert!(matches!(
            j.validate(),
            Err(JobError::Setting { ref field, .. }) if field == "limiter.ceiling_dbtp"
        ));
    }

    #[test]
    fn the_reference_target_needs_a_solve() {
        let mut j = job();
        let mut r = super::super::reference::ReferenceOptions::new("ref.wav");
        r.target_from_reference = true;
        j.reference = Some(r);
        j.target_lufs = None;
        assert_eq!(j.validate(), Err(JobError::ReferenceTargetWithoutSolve));
    }

    #[test]
    fn fades_must_fit_the_mix() {
        let f = Fades {
            fade_in_ms: 500.0,
            fade_out_s: 10.0,
        };
        assert!(f.check_fits(10.5).is_ok());
        assert!(matches!(
            f.check_fits(10.0),
            Err(JobError::FadesLongerThanMix { .. })
        ));
    }
}
