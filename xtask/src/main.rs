//! `cargo xtask`: the project's command line.
//!
//! - `cargo xtask bundle lathe --release`: builds Lathe.clap and Lathe.vst3 (nice-plug-xtask).
//! - `cargo xtask render <mix> …`: masters a mix offline through the same chain.
//! - `cargo xtask batch <manifest.csv>` (or `render --batch`): masters a manifest of tracks.
//! - `cargo xtask bench-render`: times a full render against ffmpeg's two-pass loudnorm.
//! - `cargo xtask bench-quality`: what mastering costs the music (pumping, fast residual),
//!   Lathe beside ffmpeg's loudnorm and alimiter, on the shared mixes.
//! - `cargo xtask ddp-info <dir>`: reads a DDP image back: tracks, times, ISRCs, checksums.
//! - `cargo xtask test`: builds the bundles (the CLAP host tests load them), then runs every
//!   test of the workspace in the `ci` profile (release without LTO), with the standalone build of the plugin that the
//!   editor screenshot test runs under Xvfb.

mod bench_quality;
mod bench_render;
mod peers;

use std::process::{Command, ExitCode};

/// The test suite, after a release bundle: the CLAP-host tests load target/bundled/Lathe.clap.
fn test(extra: Vec<String>) -> ExitCode {
    let bundle = ["bundle", "lathe", "--release"].map(String::from);
    if let Err(e) = nice_plug_xtask::main_with_args("cargo xtask", bundle) {
        eprintln!("error: bundling failed: {e:#}");
        return ExitCode::FAILURE;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "test",
            // Release code without LTO (Cargo.toml's [profile.ci]): the same optimised DSP,
            // linked in a fraction of the time.
            "--profile",
            "ci",
            "--workspace",
            "--features",
            // standalone: tests/screenshot.rs plays a mix through the editor under Xvfb.
            "lathe/render,lathe/standalone",
        ])
        .args(extra)
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: cannot run cargo test: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        // The same functions the installed `lathe` command runs (src/bin/lathe.rs).
        Some(c @ ("render" | "batch" | "ddp-info")) => {
            xtask::run_command("cargo xtask", c, args.collect()).unwrap_or(ExitCode::FAILURE)
        }
        Some("test") => test(args.collect()),
        Some("bench-render") => bench_render::main(),
        Some("bench-quality") => bench_quality::main(args.collect()),
        _ => match nice_plug_xtask::main() {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}
