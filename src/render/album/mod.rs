//! Album mastering: tracks in order, at consistent loudness, with chosen gaps, delivered per
//! track and as one continuous CD stream.

pub mod spec;
