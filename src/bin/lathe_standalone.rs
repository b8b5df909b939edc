//! Lathe as a standalone application that plays a mix through the chain with the editor open.
//!
//! For the editor screenshot test (tests/screenshot.rs) and for trying the editor without a
//! DAW: nice-plug's standalone wrapper runs the plugin (with `--backend dummy` it needs no
//! sound card), and this wrapper feeds the mix named by `LATHE_PLAY` (default: the test
//! excerpt), looped, into the plugin's input, since the dummy backend supplies silence.
//!
//! `cargo run --features standalone,render --bin lathe_standalone -- --backend dummy`

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;

use lathe::editor::LatheEditorWindow;
use lathe::plugin::Lathe;
use nice_plug::prelude::*;

/// The plugin plus the mix it plays into its own input.
struct Player {
    inner: Lathe,
    /// Planar samples of the mix (empty if it could not be read: the plugin then runs on
    /// the backend's input).
    mix: Vec<Vec<f32>>,
    position: usize,
}

impl Default for Player {
    fn default() -> Self {
        let path = std::env::var_os("LATHE_PLAY")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/francium_excerpt.flac")
            });
        let mix = match lathe::render::decode::decode_file(&path) {
            Ok(audio) => audio.channels,
            Err(e) => {
                eprintln!("lathe_standalone: cannot play {}: {e}", path.display());
                Vec::new()
            }
        };
        Self {
            inner: Lathe::default(),
            mix,
            position: 0,
        }
    }
}

impl Plugin for Player {
    const NAME: &'static str = "Lathe";
    const VENDOR: &'static str = "Lathe";
    const URL: &'static str = "https://lathe.invalid";
    const EMAIL: &'static str = "lathe@lathe.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[AudioIOLayout {
        main_input_channels: NonZeroU32::new(2),
        main_output_channels: NonZeroU32::new(2),
        ..AudioIOLayout::const_default()
    }];

    type Editor = LatheEditorWindow;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.inner.lathe_params()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        self.inner.create_editor()
    }

    fn activate(
        &mut self,
        _layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.inner.prepare(
            buffer_config.sample_rate,
            buffer_config.max_buffer_size as usize,
        );
        true
    }

    fn reset(&mut self) {
        self.position = 0;
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        _context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let frames = self.mix.first().map_or(0, Vec::len);
        if frames > 0 {
            let start = self.position;
            for (c, channel) in buffer.as_slice().iter_mut().enumerate() {
                let source = &self.mix[c.min(self.mix.len() - 1)];
                for (i, sample) in channel.iter_mut().enumerate() {
                    *sample = source[(start + i) % frames];
                }
            }
            self.position = (start + buffer.samples()) % frames;
        }
        self.inner.process_block(buffer)
    }
}

fn main() {
    nice_export_standalone::<Player>();
}
