//! A minimal CLAP host (clack-host 0.2.0) that loads the bundled `Lathe.clap` and runs it the way
//! a DAW would: instantiate, activate at a rate, start processing, feed host-sized blocks with
//! parameter events, ask the latency extension for the delay.
//!
//! Included by the integration tests with `#[path = "common/clap_host.rs"] mod clap_host;`.
//! Needs: cargo xtask bundle lathe --release
#![allow(dead_code)]

use std::cell::Cell;
use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use clack_extensions::audio_ports::{AudioPortInfoBuffer, PluginAudioPorts};
use clack_extensions::audio_ports_config::{AudioPortsConfigBuffer, PluginAudioPortsConfig};
use clack_extensions::latency::{HostLatency, HostLatencyImpl, PluginLatency};
use clack_extensions::params::{ParamInfoBuffer, ParamInfoFlags, PluginParams};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::ParamValueEvent;
use clack_host::prelude::*;

/// The plugin's CLAP id (`ClapPlugin::CLAP_ID` in src/plugin.rs).
pub const PLUGIN_ID: &CStr = c"audio.lathe.mastering-chain";

/// Parameter changes (display name, normalised value) that make every stage work: trim, EQ
/// with a 24 dB/oct high-pass, multiband compression, width and mono-below, drive into the
/// limiter, a shorter release and a little output cut.
pub const HOT: [(&str, f64); 16] = [
    ("Input Trim", 0.45),
    ("High-pass", 1.0),
    ("Tilt", 0.625),
    ("Low Shelf Gain", 0.6),
    ("Bell 2 Gain", 0.4),
    ("Multiband", 1.0),
    ("Band 1 Threshold", 0.6),
    ("Band 1 Ratio", 0.1),
    ("Band 3 Threshold", 0.55),
    ("Band 3 Ratio", 0.2),
    ("Width", 0.65),
    ("Mono Below", 1.0),
    ("Drive", 0.5),
    ("Release", 0.3),
    ("Output Gain", 0.98),
    ("Ceiling", 0.75),
];

/// Where `cargo xtask bundle lathe --release` puts the CLAP bundle (the shared library itself on
/// Linux and Windows, a bundle directory on macOS; clack-host resolves either).
pub fn bundle_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bundled/Lathe.clap")
}

/// The newest file of the plugin build (`src/` but `src/render/`, apart from the decoder and
/// the reference analysis the plugin shares with the renderer) if it is newer than the
/// bundle: the bundle was then built from other code than the library the test links, so a
/// mismatch may just mean "rebuild the bundle".
pub fn src_newer_than_bundle() -> Option<PathBuf> {
    fn newest(dir: &std::path::Path, best: &mut Option<(std::time::SystemTime, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                // The renderer's own code is not part of the plugin build, but for the files
                // `lib.rs` compiles into the plugin too.
                if !path.ends_with("src/render") {
                    newest(&path, best);
                } else {
                    for shared in ["analysis.rs", "decode.rs", "reference/spectrum.rs"] {
                        let file = path.join(shared);
                        if let Ok(modified) = std::fs::metadata(&file).and_then(|m| m.modified()) {
                            if best.as_ref().is_none_or(|(t, _)| modified > *t) {
                                *best = Some((modified, file));
                            }
                        }
                    }
                }
            } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                if best.as_ref().is_none_or(|(t, _)| modified > *t) {
                    *best = Some((modified, path));
                }
            }
        }
    }
    let built = std::fs::metadata(bundle_path())
        .and_then(|m| m.modified())
        .ok()?;
    let mut best = None;
    newest(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut best,
    );
    best.filter(|(t, _)| *t > built).map(|(_, p)| p)
}

/// Host callbacks that may come from any thread.
#[derive(Default)]
pub struct Shared {
    pub restart_requested: AtomicBool,
    pub process_requested: AtomicBool,
    pub callback_requested: AtomicBool,
}

impl SharedHandler<'_> for Shared {
    fn request_restart(&self) {
        self.restart_requested.store(true, Ordering::SeqCst);
    }
    fn request_process(&self) {
        self.process_requested.store(true, Ordering::SeqCst);
    }
    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

/// Host callbacks on the main thread.
#[derive(Default)]
pub struct MainThread {
    /// Set when the plugin calls `clap_host_latency.changed`.
    pub latency_changed: Cell<bool>,
}

impl MainThreadHandler<'_> for MainThread {}

impl HostLatencyImpl for MainThread {
    fn changed(&self) {
        self.latency_changed.set(true);
    }
}

pub struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = Shared;
    type MainThread<'a> = MainThread;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder.register::<HostLatency>();
    }
}

/// One parameter as the plugin describes it through the params extension.
#[derive(Debug, Clone)]
pub struct ParamDesc {
    pub id: ClapId,
    pub name: String,
    pub module: String,
    pub min: f64,
    pub max: f64,
    pub default: f64,
    pub flags: ParamInfoFlags,
}

/// A parameter change the host sends: at `frame` (counted from the start of the audio given
/// to [`Lathe::process_events`]), set parameter `id` to the normalised `value`.
#[derive(Debug, Clone, Copy)]
pub struct ParamChange {
    pub frame: usize,
    pub id: ClapId,
    pub value: f64,
}

/// A loaded, instantiated Lathe. Activate it with [`Lathe::activate`], then process.
pub struct Lathe {
    // Field order matters for Drop: the processor must be gone before the instance.
    processor: Option<StartedPluginAudioProcessor<TestHost>>,
    instance: PluginInstance<TestHost>,
    params_ext: PluginParams,
    latency_ext: PluginLatency,
    pub params: Vec<ParamDesc>,
    sample_rate: f64,
    max_block: u32,
}

impl Lathe {
    /// Loads the bundle and instantiates the plugin. Panics with build instructions if the
    /// bundle is missing.
    pub fn load() -> Self {
        let path = bundle_path();
        assert!(
            path.exists(),
            "{} is missing: build the plugin first with `cargo xtask bundle lathe --release`",
            path.display()
        );
        if let Some(newer) = src_newer_than_bundle() {
            eprintln!(
                "warning: {} is newer than {}; run `cargo xtask bundle lathe --release` so the \
                 plugin is built from the code under test",
                newer.display(),
                path.display()
            );
        }
        // SAFETY: loading a shared library runs its initialisers; this is our own bundle.
        let entry = unsafe { PluginEntry::load(&path) }.unwrap_or_else(|e| {
            panic!(
                "could not load {} ({e}); rebuild it with `cargo xtask bundle lathe --release`",
                path.display()
            )
        });
        // Keep the library loaded until the process exits, as real hosts do. The plugin's own
        // copy of Rust std registers a pthread-key TLS destructor on every host thread that
        // instantiates it (nice-plug's `Wrapper::new` calls `std::thread::current()`); if the
        // last entry handle dlclose()s the library while such a thread is still alive, that
        // thread segfaults on exit in unmapped code. Parallel tests hit exactly that.
        std::mem::forget(entry.clone());
        let host_info =
            HostInfo::new("Lathe test host", "Lathe", "https://lathe.invalid", "0.1.0").unwrap();
        let mut instance = PluginInstance::<TestHost>::new(
            |_| Shared::default(),
            |_| MainThread::default(),
            &entry,
            PLUGIN_ID,
            &host_info,
        )
        .unwrap_or_else(|e| panic!("could not instantiate {PLUGIN_ID:?}: {e}"));

        let handle = instance.plugin_handle();
        let params_ext = handle
            .get_extension::<PluginParams>()
            .expect("the plugin offers the params extension");
        let latency_ext = handle
            .get_extension::<PluginLatency>()
            .expect("the plugin offers the latency extension");

        let mut params = Vec::new();
        let mut buffer = ParamInfoBuffer::new();
        // nice-plug 0.4.2's get_info checks `index > count`, not `>=`: never ask past the end.
        for index in 0..params_ext.count(&handle) {
            let info = params_ext
                .get_info(&handle, index, &mut buffer)
                .expect("param info");
            params.push(ParamDesc {
                id: info.id,
                name: String::from_utf8_lossy(info.name).into_owned(),
                module: String::from_utf8_lossy(info.module).into_owned(),
                min: info.min_value,
                max: info.max_value,
                default: info.default_value,
                flags: info.flags,
            });
        }

        Self {
            processor: None,
            instance,
            params_ext,
            latency_ext,
            params,
            sample_rate: 0.0,
            max_block: 0,
        }
    }

    /// The CLAP id of the parameter with this display name.
    pub fn param_id(&self, name: &str) -> ClapId {
        self.params
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| {
                let names: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
                panic!("no parameter named {name:?}; the plugin has {names:?}")
            })
            .id
    }

    /// The parameter the plugin flags as its bypass switch (`CLAP_PARAM_IS_BYPASS`), if any.
    pub fn bypass_param(&self) -> Option<ClapId> {
        self.params
            .iter()
            .find(|p| p.flags.contains(ParamInfoFlags::IS_BYPASS))
            .map(|p| p.id)
    }

    /// Selects the audio ports configuration (audio-ports-config extension) whose main input
    /// and output have `channels` channels, as a host does on a mono or stereo track. Only
    /// while deactivated; panics if the plugin offers no such configuration.
    pub fn select_layout(&mut self, channels: u32) {
        self.deactivate();
        let handle = self.instance.plugin_handle();
        let configs = handle
            .get_extension::<PluginAudioPortsConfig>()
            .expect("the plugin offers the audio-ports-config extension");
        let mut buffer = AudioPortsConfigBuffer::new();
        let mut offered = Vec::new();
        let mut found = None;
        for index in 0..configs.count(&handle) {
            let Some(c) = configs.get(&handle, index, &mut buffer) else {
                continue;
            };
            let inputs = c.main_input.as_ref().map(|p| p.channel_count);
            let outputs = c.main_output.as_ref().map(|p| p.channel_count);
            offered.push((inputs, outputs));
            if inputs == Some(channels) && outputs == Some(channels) {
                found = Some(c.id);
                break;
            }
        }
        let id = found.unwrap_or_else(|| {
            panic!("no {channels}-in/{channels}-out configuration; the plugin offers {offered:?}")
        });
        configs
            .select(&handle, id)
            .unwrap_or_else(|e| panic!("selecting configuration {id}: {e}"));
    }

    /// Channels of the main input and output port, as the audio-ports extension reports them.
    pub fn main_port_channels(&mut self) -> (u32, u32) {
        let handle = self.instance.plugin_handle();
        let ports = handle
            .get_extension::<PluginAudioPorts>()
            .expect("the plugin offers the audio-ports extension");
        let mut buffer = AudioPortInfoBuffer::new();
        let mut channels = |is_input| {
            ports
                .get(&handle, 0, is_input, &mut buffer)
                .map_or(0, |p| p.channel_count)
        };
        (channels(true), channels(false))
    }

    /// The parameter's current value as the host sees it (nice-plug: normalised, 0..1).
    pub fn param_value(&mut self, id: ClapId) -> f64 {
        let handle = self.instance.plugin_handle();
        self.params_ext.get_value(&handle, id).expect("param value")
    }

    /// The plugin's own text for a value of a parameter, e.g. "6.00 dB".
    pub fn param_text(&mut self, id: ClapId, value: f64) -> String {
        let handle = self.instance.plugin_handle();
        let mut buf = [0u8; 128];
        let text = self
            .params_ext
            .value_to_text(&handle, id, value, &mut buf)
            .expect("value_to_text");
        String::from_utf8_lossy(text).into_owned()
    }

    /// Activates at `sample_rate` (blocks of 1 to `max_block` frames) and starts processing.
    /// Deactivates first if already active.
    pub fn activate(&mut self, sample_rate: f64, max_block: u32) {
        self.deactivate();
        let stopped = self
            .instance
            .activate(
                |_, _| (),
                PluginAudioConfiguration {
                    sample_rate,
                    min_frames_count: 1,
                    max_frames_count: max_block,
                },
            )
            .unwrap_or_else(|e| panic!("activation at {sample_rate} Hz failed: {e}"));
        self.processor = Some(stopped.start_processing().expect("start_processing"));
        self.sample_rate = sample_rate;
        self.max_block = max_block;
    }

    pub fn deactivate(&mut self) {
        if let Some(started) = self.processor.take() {
            let stopped = started.stop_processing();
            self.instance.deactivate(stopped);
        }
    }

    /// The latency the plugin reports through the CLAP latency extension.
    pub fn latency(&mut self) -> u32 {
        let handle = self.instance.plugin_handle();
        self.latency_ext.get(&handle)
    }

    /// The plugin's state as a host saves it with a session (CLAP state extension).
    pub fn save_state(&mut self) -> Vec<u8> {
        let handle = self.instance.plugin_handle();
        let state = handle
            .get_extension::<PluginState>()
            .expect("the plugin offers the state extension");
        let mut bytes = Vec::new();
        state.save(&handle, &mut bytes).expect("state save");
        bytes
    }

    /// Restores a state saved with [`Lathe::save_state`], as a host does on session load.
    pub fn load_state(&mut self, bytes: &[u8]) {
        let handle = self.instance.plugin_handle();
        let state = handle
            .get_extension::<PluginState>()
            .expect("the plugin offers the state extension");
        state.load(&handle, &mut &bytes[..]).expect("state load");
    }

    /// Whether the plugin has called `clap_host_latency.changed` since the last call.
    pub fn take_latency_changed(&self) -> bool {
        self.instance
            .access_handler(|h: &MainThread| h.latency_changed.replace(false))
    }

    /// Runs `input` (planar, 2 channels for the default layout) through the plugin in host
    /// blocks whose lengths cycle through `blocks` (each at most `max_block`), with the
    /// parameter changes `(id, normalised value)` sent as events at sample 0 of the first
    /// block. Returns the plugin's output, the same length as the input.
    pub fn process(
        &mut self,
        input: &[Vec<f32>],
        first_block_params: &[(ClapId, f64)],
        blocks: &[usize],
    ) -> Vec<Vec<f32>> {
        let changes: Vec<ParamChange> = first_block_params
            .iter()
            .map(|&(id, value)| ParamChange {
                frame: 0,
                id,
                value,
            })
            .collect();
        self.process_events(input, &changes, blocks)
    }

    /// Like [`Lathe::process`], with each parameter change sent in the block that holds its
    /// frame, at its offset inside that block (CLAP events carry a sample time per block).
    /// `changes` must be sorted by frame.
    pub fn process_events(
        &mut self,
        input: &[Vec<f32>],
        changes: &[ParamChange],
        blocks: &[usize],
    ) -> Vec<Vec<f32>> {
        assert!(!blocks.is_empty() && blocks.iter().all(|&b| b > 0));
        assert!(
            changes.windows(2).all(|w| w[0].frame <= w[1].frame),
            "parameter changes out of order"
        );
        assert!(
            blocks.iter().all(|&b| b <= self.max_block as usize),
            "a block is longer than the max_frames_count given at activation"
        );
        let max_block = self.max_block;
        let processor = self
            .processor
            .as_mut()
            .expect("activate the plugin before processing");

        let frames = input.first().map_or(0, Vec::len);
        let mut host_in: Vec<Vec<f32>> = input.to_vec();
        let mut host_out: Vec<Vec<f32>> = vec![vec![0.0; frames]; input.len()];
        let mut input_ports = AudioPorts::with_capacity(input.len(), 1);
        let mut output_ports = AudioPorts::with_capacity(input.len(), 1);

        let mut in_events = EventBuffer::with_capacity(changes.len());
        let mut next_change = 0;
        let mut out_events = EventBuffer::new();

        let mut start = 0;
        let mut k = 0;
        while start < frames {
            let len = blocks[k % blocks.len()].min(frames - start);
            let end = start + len;
            k += 1;
            in_events.clear();
            // Every change whose frame falls in this block, at its offset from the block's start.
            while let Some(c) = changes.get(next_change).filter(|c| c.frame < end) {
                let offset = (c.frame - start) as u32;
                in_events.push(&ParamValueEvent::new(
                    offset,
                    c.id,
                    Pckn::match_all(),
                    c.value,
                ));
                next_change += 1;
            }

            let audio_in = input_ports.with_input_buffers([AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_input_only(
                    host_in
                        .iter_mut()
                        .map(|c| InputChannel::variable(&mut c[start..end])),
                ),
            }]);
            let mut audio_out = output_ports.with_output_buffers([AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_output_only(
                    host_out.iter_mut().map(|c| &mut c[start..end]),
                ),
            }]);
            debug_assert!(len as u32 <= max_block);
            out_events.clear();
            processor
                .process(
                    &audio_in,
                    &mut audio_out,
                    &in_events.as_input(),
                    &mut out_events.as_output(),
                    Some(start as u64),
                    None,
                )
                .unwrap_or_else(|e| panic!("process failed at frame {start}: {e}"));
            start = end;
        }
        assert_eq!(
            next_change,
            changes.len(),
            "parameter changes at or past frame {frames} were never sent"
        );
        host_out
    }
}

impl Drop for Lathe {
    fn drop(&mut self) {
        // Stop and deactivate before the instance goes: clack-host leaks (does not destroy)
        // an instance whose audio processor is still alive.
        self.deactivate();
    }
}
