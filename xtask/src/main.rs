//! `cargo xtask`: the project's command line.
//!
//! - `cargo xtask bundle lathe --release`: builds Lathe.clap and Lathe.vst3 (nice-plug-xtask).
//! - `cargo xtask render <mix> …`: masters a mix offline through the same chain.

mod render_cli;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("render") => render_cli::run(args.collect()),
        _ => match nice_plug_xtask::main() {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}
