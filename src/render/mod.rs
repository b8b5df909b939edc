//! The offline renderer: decode · master · resample · limit · dither · encode · verify.
//! Library code, so tests drive it directly; `cargo xtask render` is a thin command line
//! over it.

pub mod decode;
pub mod master;
