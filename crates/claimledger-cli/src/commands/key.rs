//! `claims key generate`: a new Ed25519 key for signing checkpoints, in the signed-note text
//! form (docs/FORMAT.md, "Keys"). The private key goes to a file only its owner can read,
//! never inside the ledger; the verifier key is printed, to be published. `claims key
//! verifier KEYFILE` prints the verifier key of an existing key file again.

use crate::cli::{KeyArgs, KeyCommand, KeyGenerateArgs, KeyVerifierArgs};
use crate::ctx::Ctx;
use crate::error::{CliError, CliResult, Exit};
use crate::io::{Io, OpenHow};
use claimledger_core::checkpoint::{self, VerifierKeyText};
use claimledger_store::Storage;
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn cmd_key<S: Storage>(ctx: &mut Ctx<'_, S>, args: KeyArgs) -> CliResult<Exit> {
    match args.command {
        KeyCommand::Generate(generate) => cmd_key_generate(ctx, generate),
        KeyCommand::Verifier(verifier) => cmd_key_verifier(&mut ctx.io, verifier),
    }
}

/// The largest private key file read, in bytes; a key is about 100.
const KEY_FILE_LEN_MAX: u64 = 4096;

fn cmd_key_verifier(io: &mut Io, args: KeyVerifierArgs) -> CliResult<Exit> {
    let text = super::checkpoint::read_text(io, &args.key_file, KEY_FILE_LEN_MAX, "key file")?;
    let verifier = checkpoint::verifier_key_of(text.trim_end()).map_err(|e| {
        CliError::input(format!(
            "{}: {e}; is this a key file from `claims key generate`?",
            args.key_file.display()
        ))
    })?;
    print_verifier(io.out, &verifier, &args.key_file, args.json)?;
    Ok(Exit::SUCCESS)
}

/// The verifier key, one line, or as JSON with the key's name and file.
fn print_verifier(
    out: &mut dyn Write,
    verifier: &VerifierKeyText,
    key_file: &Path,
    json: bool,
) -> CliResult {
    if json {
        super::print_json(
            out,
            &serde_json::json!({
                "name": verifier.name(),
                "verifier_key": verifier.as_str(),
                "key_file": key_file.display().to_string(),
            }),
        )
    } else {
        writeln!(out, "{verifier}")?;
        Ok(())
    }
}

fn cmd_key_generate<S: Storage>(ctx: &mut Ctx<'_, S>, args: KeyGenerateArgs) -> CliResult<Exit> {
    if args.witness {
        return cmd_key_generate_witness(ctx, args);
    }
    let Ctx { env, io, ledgers } = ctx;
    let name = match args.name {
        Some(name) => name,
        None => ledgers.read(env, io.err)?.origin()?,
    };
    checkpoint::validate_origin(&name).map_err(|e| CliError::input(format!("--name: {e}")))?;
    let path = key_path(args.out, &name);
    refuse_inside_ledger(io, &env.ledger_dir, &path)?;
    let mut seed = random_seed()?;
    let (signing_key, verifier_key) = checkpoint::generate_signing_key(&name, seed)
        .map_err(|e| CliError::input(format!("--name: {e}")))?;
    seed.fill(0);
    write_private(io, &path, signing_key.expose_secret())?;
    print_verifier(io.out, &verifier_key, &path, args.json)?;
    io.say(format_args!(
        "wrote the signing key of {name:?} to {} (readable by you alone: keep it secret, and \
         out of the ledger); publish the verifier key above, with which anyone can check your \
         checkpoints and proofs",
        path.display()
    ));
    Ok(Exit::SUCCESS)
}

/// Where a new key goes: `--out`, or NAME.key (slashes made underscores) here.
fn key_path(out: Option<PathBuf>, name: &str) -> PathBuf {
    out.unwrap_or_else(|| PathBuf::from(format!("{}.key", name.replace('/', "_"))))
}

/// 32 bytes from the operating system's random source: a key's seed.
fn random_seed() -> CliResult<[u8; 32]> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| {
        CliError::io(format!(
            "cannot read the operating system's random source: {e}"
        ))
    })?;
    Ok(seed)
}

/// `key generate --witness`: a witness's cosignature/v1 key (type 0x04), named as the witness
/// is known to the logs it cosigns for.
fn cmd_key_generate_witness<S: Storage>(
    ctx: &mut Ctx<'_, S>,
    args: KeyGenerateArgs,
) -> CliResult<Exit> {
    let Ctx { env, io, .. } = ctx;
    let name = args
        .name
        .ok_or_else(|| CliError::input("--witness needs --name, the witness's name"))?;
    let path = key_path(args.out, &name);
    refuse_inside_ledger(io, &env.ledger_dir, &path)?;
    let mut seed = random_seed()?;
    let (private, verifier) = claimledger_tlog::cosignature::generate_key(&name, seed)
        .map_err(|e| CliError::input(format!("--name: {e}")))?;
    seed.fill(0);
    write_private(io, &path, &private)?;
    if args.json {
        super::print_json(
            io.out,
            &serde_json::json!({
                "name": name,
                "verifier_key": verifier,
                "key_file": path.display().to_string(),
                "witness": true,
            }),
        )?;
    } else {
        writeln!(io.out, "{verifier}")?;
    }
    io.say(format_args!(
        "wrote the witness key of {name:?} to {} (readable by you alone: keep it secret); give the verifier key above to the logs you witness and to those who check cosignatures",
        path.display()
    ));
    Ok(Exit::SUCCESS)
}

/// A key kept inside the ledger directory would travel with every copy of the ledger.
fn refuse_inside_ledger(io: &mut Io, ledger_dir: &Path, path: &Path) -> CliResult {
    let Ok(ledger) = io.files.canonicalize(ledger_dir) else {
        return Ok(());
    };
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let parent = io
        .files
        .canonicalize(parent)
        .map_err(|e| CliError::file("create", path, &e))?;
    if parent.starts_with(&ledger) {
        return Err(CliError::input(format!(
            "{} is inside the ledger {}: a signing key must be kept apart from the ledger it \
             signs for; choose another --out",
            path.display(),
            ledger_dir.display()
        )));
    }
    Ok(())
}

/// Creates `path` readable and writable by its owner only, refusing to replace a file.
fn write_private(io: &mut Io, path: &Path, secret: &str) -> CliResult {
    let name = path.display();
    let private = OpenHow {
        write: true,
        create_new: true,
        mode: Some(0o600),
        ..OpenHow::default()
    };
    let mut file = io.files.open(path, private).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => CliError::input(format!(
            "{name} already exists; a key is never overwritten (choose another --out)"
        )),
        _ => CliError::file("create", path, &e),
    })?;
    let written = file
        .write_all(secret.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all());
    written.map_err(|e| {
        let _ = io.files.remove_file(path);
        CliError::file("write", path, &e)
    })
}
