//! The report's opening: what was done to the mix, in a few sentences an artist reads
//! without a glossary (how loud the mix was and the master is, how hard the limiter worked
//! and whether that may be heard, what the tone, width and fades did, what the streaming
//! services will do). Drawn from the [`ReportDocument`], so it never says more than the
//! figures below it.

use super::document::ReportDocument;
use crate::dsp::eq::HpMode;
use crate::render::preflight::Severity;

/// Limiting up to this deep is rarely heard on any material (the peak limiting a broadcast
/// or streaming master typically carries).
const INAUDIBLE_LIMITING_DB: f32 = 2.0;
/// Beyond this the loudest hits lose attack on most material.
const AUDIBLE_LIMITING_DB: f32 = 5.0;
/// EQ gains smaller than this are no move worth naming.
const NEGLIGIBLE_EQ_DB: f32 = 0.05;

/// Three to six sentences, in order: loudness, limiting, tone and width, fades (when any),
/// streaming, the mix's checks.
pub fn plain_summary(doc: &ReportDocument) -> Vec<String> {
    let mut out = vec![loudness(doc)];
    out.extend(limiting(doc));
    out.push(tone(doc));
    out.extend(fades(doc));
    out.extend(streaming(doc));
    out.push(checks(doc));
    out
}

fn master_lufs(doc: &ReportDocument) -> Option<f64> {
    doc.streaming_master()
        .and_then(|d| d.measurement.integrated_lufs)
}

fn loudness(doc: &ReportDocument) -> String {
    let mix = doc.mix.measurement.integrated_lufs;
    match (mix, master_lufs(doc)) {
        (Some(mix), Some(master)) => {
            let change = master - mix;
            let how = if change.abs() < 0.05 {
                "as loud as the mix".to_string()
            } else if change > 0.0 {
                format!("{change:.1} dB louder")
            } else {
                format!("{:.1} dB quieter", -change)
            };
            let aim = match &doc.loudness {
                Some(l) if l.reached => format!(", on the {:.1} LUFS target", l.target_lufs),
                Some(l) => format!(
                    ", short of the {:.1} LUFS target: getting there would have taken more \
                     limiting than is safe",
                    l.target_lufs
                ),
                None => ", with the settings as they are (no loudness target)".to_string(),
            };
            format!(
                "Your mix measured {mix:.1} LUFS (its average loudness); the master is \
                 {master:.1} LUFS, {how}{aim}."
            )
        }
        _ => "The mix or the master is silent, so there is no loudness to compare.".to_string(),
    }
}

fn limiting(doc: &ReportDocument) -> Option<String> {
    let l = doc.loudness.as_ref()?;
    let depth = (-l.peak_limiting_db).max(0.0);
    let peak = doc
        .streaming_master()
        .and_then(|d| d.measurement.true_peak_dbtp)
        .map_or(String::new(), |tp| {
            format!(", and its highest peak sits at {tp:.1} dBTP")
        });
    Some(if depth < 0.05 {
        format!(
            "Nothing was limited: the change is a plain level change of {:+.1} dB, so the \
             mix's peaks and punch are exactly as mixed{peak}.",
            l.gain_db + l.output_gain_db
        )
    } else if depth <= INAUDIBLE_LIMITING_DB {
        format!(
            "The limiter only caught the loudest peaks, by up to {depth:.1} dB, which is \
             rarely audible{peak}."
        )
    } else if depth <= AUDIBLE_LIMITING_DB {
        format!(
            "The limiter held the loudest moments down by up to {depth:.1} dB: usually \
             transparent, but listen to the drums' attack in the loudest passages{peak}."
        )
    } else {
        format!(
            "The limiter works hard, up to {depth:.1} dB: expect softer drum hits and less punch \
             in the loudest passages; a lower target keeps more of them{peak}."
        )
    })
}

fn tone(doc: &ReportDocument) -> String {
    let s = &doc.settings;
    let mut moves = Vec::new();
    let eq = &s.eq;
    let scale = eq.amount_pct / 100.0;
    if eq.hp_mode != HpMode::Off {
        moves.push(format!("a high-pass filter at {:.0} Hz", eq.hp_freq_hz));
    }
    let mut bands = Vec::new();
    let mut band = |name: &str, freq_hz: f32, gain_db: f32| {
        let g = gain_db * scale;
        if g.abs() >= NEGLIGIBLE_EQ_DB {
            bands.push(format!("{g:+.1} dB {name} at {}", hz(freq_hz)));
        }
    };
    band("low shelf", eq.low_shelf.freq_hz, eq.low_shelf.gain_db);
    for b in &eq.bells {
        band("bell", b.freq_hz, b.gain_db);
    }
    band("high shelf", eq.high_shelf.freq_hz, eq.high_shelf.gain_db);
    if (eq.tilt_db * scale).abs() >= NEGLIGIBLE_EQ_DB {
        bands.push(format!("a tilt of {:+.1} dB", eq.tilt_db * scale));
    }
    if !bands.is_empty() {
        moves.push(format!("EQ ({})", bands.join(", ")));
    }
    if let Some(r) = &doc.reference {
        moves.push(format!(
            "a match to the tonal balance of {} at {:.0} %",
            super::html::file_name(&r.path),
            r.amount_pct
        ));
    }
    if let Some(a) = &doc.assist {
        let largest = a
            .moves
            .iter()
            .map(|m| m.move_db.abs())
            .fold(0.0f32, f32::max);
        if largest >= NEGLIGIBLE_EQ_DB {
            moves.push(format!(
                "the tonal-balance assistant's moves (at most {largest:.1} dB)"
            ));
        }
    }
    if s.multiband.enabled {
        let active = s.multiband.bands.iter().filter(|b| !b.bypass).count();
        moves.push(format!(
            "multiband compression on {active} of {} bands",
            s.multiband.bands.len()
        ));
    }
    if (s.stereo.width_pct - 100.0).abs() >= 0.5 {
        let how = if s.stereo.width_pct > 100.0 {
            "wider"
        } else {
            "narrower"
        };
        moves.push(format!(
            "a {how} stereo image ({:.0} % width)",
            s.stereo.width_pct
        ));
    }
    if s.stereo.mono_below {
        moves.push(format!(
            "the bass summed to mono below {}",
            hz(s.stereo.mono_below_hz)
        ));
    }
    if moves.is_empty() {
        "The tone and the stereo image are as mixed: no EQ, no multiband compression, no \
         width change."
            .to_string()
    } else {
        format!("Tone and width: {}.", join_and(&moves))
    }
}

fn fades(doc: &ReportDocument) -> Option<String> {
    let f = &doc.fades;
    match (f.fade_in_ms > 0.0, f.fade_out_s > 0.0) {
        (false, false) => None,
        (true, false) => Some(format!("The start fades in over {:.0} ms.", f.fade_in_ms)),
        (false, true) => Some(format!("The end fades out over {:.1} s.", f.fade_out_s)),
        (true, true) => Some(format!(
            "The start fades in over {:.0} ms and the end fades out over {:.1} s.",
            f.fade_in_ms, f.fade_out_s
        )),
    }
}

fn streaming(doc: &ReportDocument) -> Option<String> {
    if doc.platforms.is_empty() {
        return None;
    }
    let said: Vec<String> = doc
        .platforms
        .iter()
        .map(|p| {
            if p.gain_db < -0.05 {
                format!("{} turns it down {:.1} dB", p.platform, -p.gain_db)
            } else if p.gain_db > 0.05 {
                format!("{} turns it up {:.1} dB", p.platform, p.gain_db)
            } else {
                format!("{} plays it as it is", p.platform)
            }
        })
        .collect();
    Some(format!(
        "Streaming services even out loudness, so a louder master does not play louder: {}.",
        join_and(&said)
    ))
}

fn checks(doc: &ReportDocument) -> String {
    let named = |sev: Severity| -> Vec<&str> {
        doc.preflight
            .iter()
            .filter(|c| c.severity == sev)
            .map(|c| c.name.as_str())
            .collect()
    };
    let (problems, warnings, notes) = (
        named(Severity::Problem),
        named(Severity::Warning),
        named(Severity::Note),
    );
    if problems.is_empty() && warnings.is_empty() && notes.is_empty() {
        return "The mix passed every check before mastering.".to_string();
    }
    let mut parts = Vec::new();
    for (names, one, many) in [
        (&problems, "a problem", "problems"),
        (&warnings, "a warning", "warnings"),
        (&notes, "a note", "notes"),
    ] {
        match names.len() {
            0 => {}
            1 => parts.push(format!("{one} ({})", names[0])),
            _ => parts.push(format!("{many} ({})", names.join(", "))),
        }
    }
    format!(
        "The check of the mix before mastering found {}; the details are below.",
        join_and(&parts)
    )
}

/// "a", "a and b", "a, b and c".
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// "80 Hz", "2.5 kHz".
fn hz(freq_hz: f32) -> String {
    if freq_hz >= 1000.0 {
        format!("{:.1} kHz", freq_hz / 1000.0).replace(".0 kHz", " kHz")
    } else {
        format!("{freq_hz:.0} Hz")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_frequencies_read_as_english() {
        assert_eq!(join_and(&[]), "");
        assert_eq!(join_and(&["a".into()]), "a");
        assert_eq!(join_and(&["a".into(), "b".into()]), "a and b");
        assert_eq!(
            join_and(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
        assert_eq!(hz(80.0), "80 Hz");
        assert_eq!(hz(2500.0), "2.5 kHz");
        assert_eq!(hz(10_000.0), "10 kHz");
    }
}
