//! report.html's tables for reference matching and the assistant: every automatic decision
//! as a number the engineer can check.

use std::fmt::Write;

use crate::render::report::html::escape;
use crate::render::report::ReportDocument;

fn opt(v: Option<f64>, unit: &str) -> String {
    v.map_or("-".to_string(), |v| format!("{v:.2}{unit}"))
}

/// The reference and assistant sections (nothing when the render used neither).
pub fn sections(h: &mut String, doc: &ReportDocument) {
    if let Some(r) = &doc.reference {
        let _ = write!(
            h,
            "<h2>Reference matching</h2>\n<table>\n\
             <tr><th>Reference</th><td class=\"file\">{}</td></tr>\n\
             <tr><th>Reference loudness</th><td class=\"n\">{}</td></tr>\n\
             <tr><th>Target from reference</th><td>{}</td></tr>\n\
             <tr><th>Amount</th><td class=\"n\">{:.0} %</td></tr>\n\
             <tr><th>Smoothing (from 500 Hz up, wider below)</th><td class=\"n\">{:.2} octave</td></tr>\n\
             <tr><th>Curve limit</th><td class=\"n\">&plusmn;{:.0} dB</td></tr>\n\
             <tr><th>Largest step between neighbouring 1/6-octave points, 30 Hz&ndash;16 kHz (applied / at 100 %)</th><td class=\"n\">{:.2} dB / {:.2} dB</td></tr>\n\
             <tr><th>Correlation below 150 Hz (mix / master)</th><td class=\"n\">{} / {}</td></tr>\n\
             <tr><th>Loudest sections analysed (mix / reference)</th><td class=\"n\">{:.0} % / {:.0} %</td></tr>\n\
             <tr><th>Fit error, max over 40 Hz&ndash;16 kHz (mid / side)</th><td class=\"n\">{:.2} dB / {:.2} dB</td></tr>\n\
             <tr><th>1/3-octave distance to the reference, before</th><td class=\"n\">{}</td></tr>\n\
             <tr><th>1/3-octave distance to the reference, after</th><td class=\"n\">{}</td></tr>\n\
             <tr><th>Fall</th><td class=\"n\">{}</td></tr>\n</table>\n",
            escape(&r.path),
            opt(r.integrated_lufs, " LUFS"),
            if r.target_from_reference { "yes" } else { "no" },
            r.amount_pct,
            r.smoothing_oct,
            r.curve_limit_db,
            r.max_neighbour_step_db,
            r.max_neighbour_step_full_db,
            opt(r.low_band_correlation_mix, ""),
            opt(r.low_band_correlation_master, ""),
            100.0 * r.mix_analysed_fraction,
            100.0 * r.reference_analysed_fraction,
            r.fit_error_db,
            r.side_fit_error_db,
            opt(r.distance_before_db, " dB"),
            opt(r.distance_after_db, " dB"),
            opt(r.distance_fall_pct, " %"),
        );
        h.push_str("<h3>What changed</h3>\n<ul>\n");
        for line in super::summary::sentences(r) {
            let _ = writeln!(h, "<li>{}</li>", escape(&line));
        }
        h.push_str("</ul>\n");
        h.push_str(
            "<details>\n<summary>Fitted sections</summary>\n<table>\n<tr><th>Channel</th><th>Kind</th><th>Hz</th>\
             <th>Q</th><th>Fitted (100 %) dB</th><th>Applied dB</th></tr>\n",
        );
        for (channel, list) in [("L and R", &r.mid_sections), ("side", &r.side_sections)] {
            for s in list.iter() {
                let _ = writeln!(
                    h,
                    "<tr><td>{channel}</td><td>{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{:.2}</td>\
                     <td class=\"n\">{:+.2}</td><td class=\"n\">{:+.2}</td></tr>",
                    escape(&s.kind),
                    s.freq_hz,
                    s.q,
                    s.fitted_db,
                    s.applied_db
                );
            }
        }
        h.push_str("</table>\n</details>\n");
        h.push_str(
            "<details>\n<summary>Curve per 1/6-octave band</summary>\n<table>\n<tr><th>Hz</th><th>Mix dB</th>\
             <th>Reference dB</th><th>Wanted dB</th><th>Applied dB</th><th>Width wanted dB</th>\
             <th>Width applied dB</th></tr>\n",
        );
        for p in &r.curve {
            let _ = writeln!(
                h,
                "<tr><td class=\"n\">{:.1}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{:+.2}</td><td class=\"n\">{:+.2}</td><td class=\"n\">{:+.2}</td>\
                 <td class=\"n\">{:+.2}</td></tr>",
                p.freq_hz,
                opt(p.mix_db, ""),
                opt(p.reference_db, ""),
                p.wanted_db,
                p.applied_db,
                p.side_wanted_db,
                p.side_applied_db
            );
        }
        h.push_str("</table>\n</details>\n");
    }
    if let Some(a) = &doc.assist {
        let _ = write!(
            h,
            "<h2>Tonal balance assistant</h2>\n<p>Target: {:+.1} dB per octave of density above \
             {:.0} Hz, tolerance &plusmn;{:.0} dB, moves at most &plusmn;{:.0} dB, amount {:.0} %; \
             {:.0} % of the bands from 40 Hz to 16 kHz lie outside the tolerance. The moves are \
             written to <code>{}</code>.</p>\n<table>\n<tr><th>Band</th><th>Hz</th><th>Q</th>\
             <th>Before dB</th><th>Suggested dB</th><th>Move dB</th><th>After dB</th></tr>\n",
            a.slope_db_per_octave,
            a.slope_from_hz,
            a.tolerance_db,
            a.max_move_db,
            a.amount_pct,
            100.0 * a.outside_fraction,
            escape(&a.settings_file)
        );
        for m in &a.moves {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{:.0}</td><td class=\"n\">{:.2}</td>\
                 <td class=\"n\">{:+.2}</td><td class=\"n\">{:+.2}</td><td class=\"n\">{:+.2}</td>\
                 <td class=\"n\">{:+.2}</td></tr>",
                escape(&m.band),
                m.freq_hz,
                m.q,
                m.before_db,
                m.suggested_db,
                m.move_db,
                m.after_db
            );
        }
        h.push_str("</table>\n");
    }
}
