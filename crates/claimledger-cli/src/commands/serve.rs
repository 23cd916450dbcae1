//! `claims serve`: hands the ledger to the server (`claimledger-server`), which holds it open
//! until SIGTERM or SIGINT; and `claims token`, which makes the server's access tokens.

use super::checkpoint::read_text;
use crate::cli::{ServeArgs, TokenArgs};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use claimledger_server::tokens::{self, Role, Tokens};
use claimledger_server::{Config, ServeError, Server};
use claimledger_store::Storage;
use std::io::Write;

/// The largest private key file read, in bytes; a key is about 100.
const KEY_FILE_LEN_MAX: u64 = 4096;

pub fn cmd_serve<S: Storage>(ctx: &mut Ctx<'_, S>, args: ServeArgs) -> CliResult<Exit> {
    let Ctx { env, io, .. } = ctx;
    let mut config = Config::new(
        env.ledger_dir.clone(),
        args.listen
            .unwrap_or_else(claimledger_server::default_listen),
    );
    config.wait = env.wait;
    config.pinned_now = env.pinned_now;
    config.private = args.private;
    config.local = Some(std::sync::Arc::new(crate::served::Commands));
    if let Some(path) = &args.tokens {
        let text = read_text(io, path, tokens::TOKENS_FILE_LEN_MAX, "tokens file")?;
        let parsed = Tokens::parse(&text)
            .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
        config.tokens = Some(parsed);
    }
    if let Some(path) = &args.sign {
        config.signing_key = Some(read_text(io, path, KEY_FILE_LEN_MAX, "key file")?);
    }
    let tokens = config.tokens.as_ref().map_or(0, Tokens::len);
    let mode = match (tokens, args.private) {
        (0, _) => "read-only (no --tokens)".to_owned(),
        (n, false) => format!(
            "{n} token{}; reads open to all",
            if n == 1 { "" } else { "s" }
        ),
        (n, true) => format!("{n} token{}; private", if n == 1 { "" } else { "s" }),
    };
    let signed = if args.sign.is_some() {
        "checkpoints signed"
    } else {
        "checkpoints unsigned (no --sign)"
    };
    Server::run(config, |addr| {
        io.say(format_args!(
            "serving {} on http://{addr}/ ({mode}; {signed}); stop with Ctrl-C or SIGTERM",
            env.ledger_dir.display()
        ))
    })
    .map_err(|error| match error {
        ServeError::Store(store) => store.into(),
        ServeError::Key(_) | ServeError::PrivateWithoutTokens => CliError::input(error.to_string()),
        ServeError::Listen { .. } | ServeError::Socket { .. } | ServeError::Io(_) => {
            CliError::io(error.to_string())
        }
    })?;
    io.say("stopped; every write acknowledged is in the ledger");
    Ok(Exit::SUCCESS)
}

pub fn cmd_token<S: Storage>(ctx: &mut Ctx<'_, S>, args: TokenArgs) -> CliResult<Exit> {
    let role = Role::parse(&args.role).map_err(|e| CliError::input(format!("--role: {e}")))?;
    let mut random = [0u8; 32];
    getrandom::getrandom(&mut random)
        .map_err(|e| CliError::io(format!("no random numbers from the system: {e}")))?;
    let (token, line) = tokens::new_token(random, role, &args.author)
        .map_err(|e| CliError::input(format!("--for: {e}")))?;
    let path = &args.tokens;
    let io = |e: std::io::Error| CliError::io(format!("cannot write {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    writeln!(file, "{line}").map_err(io)?;
    file.sync_all().map_err(io)?;
    writeln!(ctx.io.out, "{token}")?;
    Ok(Exit::SUCCESS)
}
