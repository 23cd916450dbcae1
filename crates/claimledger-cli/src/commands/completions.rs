//! Shell completions and the manual pages, generated from the same clap definitions as the
//! parser, so they never disagree with it.
//!
//! Both are made in memory and then written, so that a closed pipe or a full disk is reported
//! like any other output failure (clap_complete panics on a failed write).

use crate::cli::{Args, ManArgs};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use claimledger_store::Storage;
use clap::CommandFactory;

pub fn cmd_completions<S: Storage>(
    ctx: &mut Ctx<'_, S>,
    shell: clap_complete::Shell,
) -> CliResult<Exit> {
    let mut command = Args::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "claims", &mut script);
    let out = &mut *ctx.io.out;
    out.write_all(&script)?;
    out.flush()?;
    Ok(Exit::SUCCESS)
}

pub fn cmd_man<S: Storage>(ctx: &mut Ctx<'_, S>, args: ManArgs) -> CliResult<Exit> {
    let pages = man_pages()?;
    match &args.dir {
        None => {
            let (_, page) = pages.first().expect("claims itself has a page");
            let out = &mut *ctx.io.out;
            out.write_all(page)?;
            out.flush()?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| CliError::file("create", dir, &e))?;
            for (name, page) in &pages {
                let path = dir.join(name);
                std::fs::write(&path, page).map_err(|e| CliError::file("write", &path, &e))?;
            }
            ctx.io.say(format_args!(
                "wrote {} to {}",
                crate::output::plural(pages.len() as u64, "manual page", "manual pages"),
                dir.display()
            ));
        }
    }
    Ok(Exit::SUCCESS)
}

/// The exit codes, for the manual pages (README, "Exit codes").
const EXIT_STATUS: [(&str, &str); 6] = [
    ("0", "Success."),
    (
        "1",
        "An integrity failure: verify found a problem, or stored data does not decode \
         (storage corrupted).",
    ),
    ("2", "Bad input or usage; the ledger is unchanged."),
    (
        "3",
        "The ledger was busy: another process held it for longer than --wait.",
    ),
    (
        "4",
        "An environment error: I/O, permissions, a read-only or full disk.",
    ),
    (
        "130",
        "Interrupted (Ctrl-C) before anything was written; the ledger is unchanged.",
    ),
];

/// The environment variables, for the manual pages (docs/CLI.md).
const ENVIRONMENT: [(&str, &str); 5] = [
    (
        "CLAIMS_LEDGER",
        "The ledger directory, as --ledger; default ./.claims.",
    ),
    (
        "CLAIMS_AUTHOR",
        "Who enters claims, as --author; default the user name.",
    ),
    (
        "CLAIMS_NOW",
        "Pins the clock (an RFC 3339 time): claim ids are then derived instead of random, so \
         that runs are reproducible.",
    ),
    (
        "CLAIMS_STALL_TIMEOUT",
        "Seconds a storage operation may go without progress before the command gives up on \
         the ledger as damaged (exit 1); default 30, 0 for no limit.",
    ),
    (
        "CLAIMS_COPY_MAX_MB",
        "The largest ledger, in MB, that a command which only reads copies in order to read it \
         when the user may not write it (someone else's ledger, a read-only mount); default \
         1000.",
    ),
];

/// Every manual page: `claims.1` first, then one per subcommand (`claims-key-generate.1`),
/// each with the exit codes and the environment.
pub fn man_pages() -> CliResult<Vec<(String, Vec<u8>)>> {
    let mut command = Args::command().disable_help_subcommand(true);
    command.build();
    let mut pages = Vec::new();
    add_pages(&command, &mut pages)?;
    Ok(pages)
}

fn add_pages(command: &clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> CliResult {
    let man = clap_mangen::Man::new(command.clone());
    let name = man.get_filename();
    let mut page = Vec::new();
    render(&man, command, &mut page).map_err(|e| CliError::io(format!("{name}: {e}")))?;
    pages.push((name, without_backticks(page)));
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        add_pages(sub, pages)?;
    }
    Ok(())
}

fn render(
    man: &clap_mangen::Man,
    command: &clap::Command,
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(out)?;
    }
    if command.has_subcommands() {
        man.render_subcommands_section(out)?;
    }
    let mut roff = roff::Roff::new();
    for (title, items) in [
        ("EXIT STATUS", &EXIT_STATUS[..]),
        ("ENVIRONMENT", &ENVIRONMENT[..]),
    ] {
        roff.control("SH", [title]);
        for (name, meaning) in items {
            roff.control("TP", []);
            roff.text([roff::bold(*name)]);
            roff.text([roff::roman(*meaning)]);
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roff::roman(
        "claims(1); docs/CLI.md and docs/FORMAT.md in the claimledger sources.",
    )]);
    roff.control("SH", ["VERSION"]);
    roff.text([roff::roman(concat!("claims ", env!("CARGO_PKG_VERSION")))]);
    roff.to_writer(out)
}

/// Help texts mark commands and fields as `code`, which a terminal shows as is but roff would
/// print with the backticks: they become bold.
fn without_backticks(page: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8_lossy(&page);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut open = false;
        for c in line.chars() {
            if c == '`' {
                out.push_str(if open { "\\fR" } else { "\\fB" });
                open = !open;
            } else {
                out.push(c);
            }
        }
        if open {
            // An unpaired backtick: end the bold before the line does.
            let at = out.trim_end_matches('\n').len();
            out.insert_str(at, "\\fR");
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks_become_bold() {
        let page = without_backticks(b"use `claims import` or `x\nplain\n".to_vec());
        assert_eq!(
            String::from_utf8(page).unwrap(),
            "use \\fBclaims import\\fR or \\fBx\\fR\nplain\n"
        );
    }
}
