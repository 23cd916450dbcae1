//! Progress bars for long commands: drawn on standard error only when it is a terminal and
//! --quiet is not given, so that pipes, files and scripts never see them.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A progress bar, or nothing at all when it would not be seen.
#[derive(Debug)]
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar counting `unit` up to `total`.
    pub fn new(quiet: bool, total: u64, message: &str, unit: &str) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let template = format!(
            "{{msg}} {{wide_bar}} {{human_pos}}/{{human_len}} {unit} ({{per_sec}}, {{eta}} left)"
        );
        let style = ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar =
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(10))
                .with_style(style);
        bar.set_message(message.to_owned());
        Progress(Some(bar))
    }

    /// A bar counting bytes up to `total`.
    pub fn bytes(quiet: bool, total: u64, message: &str) -> Progress {
        let progress = Progress::new(quiet, total, message, "");
        if let Some(bar) = &progress.0 {
            let style = ProgressStyle::with_template(
                "{msg} {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
        }
        progress
    }

    pub fn set(&self, position: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(position);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
