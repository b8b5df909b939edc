//! The command lines' shared code: `cargo xtask render|batch|ddp-info` (src/main.rs) and the
//! installable `lathe render|ddp-info` (src/bin/lathe.rs) run these same functions, so the
//! two can never drift apart. The rules themselves live in the `lathe` library.

pub mod batch_cli;
pub mod cli;
pub mod ddp_info;
pub mod render_cli;

use std::process::ExitCode;

/// Runs `render`, `batch` or `ddp-info` under the program name `prog` (used in help and messages);
/// `None` for any other command.
pub fn run_command(prog: &str, command: &str, args: Vec<String>) -> Option<ExitCode> {
    match command {
        "render" => Some(render_cli::run(prog, args)),
        "batch" => Some(batch_cli::run(prog, args)),
        "ddp-info" => Some(ddp_info::run(prog, args)),
        _ => None,
    }
}
