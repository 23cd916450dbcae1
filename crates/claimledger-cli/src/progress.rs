//! Progress bars for long commands: drawn on standard error only when it is a terminal and
//! --quiet is not given, so that pipes, files and scripts never see them (`Io::bars`).
//!
//! A bar names its phase (`reading`, `checking`, `writing`, ...), and shows counts, rates and
//! times the way the rest of `claims` does (output.rs): `12,345/100,000 entries`,
//! `153,001 entries/s`, `about 2 min 5 s left`.

use crate::io::Io;
use crate::output;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// A progress bar, or nothing at all when it would not be seen.
#[derive(Debug)]
pub struct Progress(Option<ProgressBar>);

/// What the bar counts.
#[derive(Clone, Copy, Debug)]
enum Counting {
    Items(&'static str),
    Bytes,
}

impl Progress {
    /// A bar counting `unit` (plural: `entries`) up to `total`, in phase `phase`; drawn
    /// unless `hidden` or --quiet.
    pub fn new(io: &Io, hidden: bool, total: u64, phase: &str, unit: &'static str) -> Progress {
        Progress::with(io, hidden, total, phase, Counting::Items(unit))
    }

    /// A bar counting bytes up to `total`.
    pub fn bytes(io: &Io, hidden: bool, total: u64, phase: &str) -> Progress {
        Progress::with(io, hidden, total, phase, Counting::Bytes)
    }

    fn with(io: &Io, hidden: bool, total: u64, phase: &str, counting: Counting) -> Progress {
        if hidden || io.quiet {
            return Progress(None);
        }
        match (io.bars)() {
            Some(target) => Progress::drawn_on(target, total, phase, counting),
            None => Progress(None),
        }
    }

    fn drawn_on(
        target: ProgressDrawTarget,
        total: u64,
        phase: &str,
        counting: Counting,
    ) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total), target).with_style(style(counting));
        bar.set_message(phase.to_owned());
        Progress(Some(bar))
    }

    pub fn set(&self, position: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(position);
        }
    }

    /// Moves the bar on by `delta` (from any thread).
    pub fn add(&self, delta: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(delta);
        }
    }

    /// Moves on to another phase: `writing` once the input is read.
    pub fn phase(&self, phase: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(phase.to_owned());
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

fn style(counting: Counting) -> ProgressStyle {
    let template = "{msg:>9} {wide_bar} {done} ({speed}, {left})";
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "done",
            move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let total = state.len().unwrap_or(0);
                let _ = match counting {
                    Counting::Items(unit) => write!(
                        w,
                        "{}/{} {unit}",
                        output::count(state.pos()),
                        output::count(total)
                    ),
                    Counting::Bytes => {
                        write!(w, "{}/{}", output::bytes(state.pos()), output::bytes(total))
                    }
                };
            },
        )
        .with_key(
            "speed",
            move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let per_second = state.per_sec();
                let _ = match counting {
                    Counting::Items(unit) => write!(w, "{}", output::rate(per_second, unit)),
                    Counting::Bytes => {
                        write!(w, "{}/s", output::bytes(per_second.max(0.0) as u64))
                    }
                };
            },
        )
        .with_key(
            "left",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "about {} left", output::duration(state.eta()));
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A terminal that keeps what is drawn on it.
    #[derive(Debug, Default, Clone)]
    struct Screen(Arc<Mutex<String>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(&format!("{s}\n"))
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().expect("the screen").push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The bar names its phase, and writes counts, rates and times as people read them.
    #[test]
    fn bars_name_their_phase() {
        let screen = Screen::default();
        let target = ProgressDrawTarget::term_like(Box::new(screen.clone()));
        let progress = Progress::drawn_on(target, 100_000, "reading", Counting::Items("entries"));
        progress.set(12_345);
        let drawn = screen.0.lock().expect("the screen").clone();
        assert!(drawn.contains("reading "), "{drawn}");
        assert!(drawn.contains("12,345/100,000 entries"), "{drawn}");
        assert!(drawn.contains(" entries/s, about "), "{drawn}");
        progress.phase("writing");
        progress.set(12_346);
        let drawn = screen.0.lock().expect("the screen").clone();
        assert!(drawn.contains("writing "), "{drawn}");

        let screen = Screen::default();
        let target = ProgressDrawTarget::term_like(Box::new(screen.clone()));
        let progress = Progress::drawn_on(target, 3 << 20, "checking", Counting::Bytes);
        progress.set(1 << 20);
        let drawn = screen.0.lock().expect("the screen").clone();
        assert!(drawn.contains("checking "), "{drawn}");
        assert!(drawn.contains("1.0 MiB/3.0 MiB"), "{drawn}");
    }
}
