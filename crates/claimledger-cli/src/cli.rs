//! Command-line arguments, as clap sees them. `commands/` turns them into validated requests.

pub use claimledger_cli::fields::FieldArgs;
use clap::{Args as ClapArgs, Parser, Subcommand};
use std::path::PathBuf;

/// The heading of the flags every command takes, listed after the command's own.
const GLOBAL: &str = "Global options";

/// How the two times of a claim differ, under the help of the commands that take both.
const TWO_TIMES: &str = "Two times: --as-of is recording time, when the ledger learnt \
something (what did the ledger hold then?); --stated-by is stated time, when the claimant said \
it (what had each claimant said by then?). A date alone (2025, 2025-03, 2025-03-01) means the \
end of that year, month or day, in UTC.";

/// A tamper-evident ledger of claims: who asserted what figure, when, about which subject, on
/// which sources, and how each claim was later revised.
#[derive(Debug, Parser)]
#[command(name = "claims", version, about, max_term_width = 100)]
pub struct Args {
    /// The ledger directory [default: ./.claims]
    #[arg(long, global = true, help_heading = GLOBAL, env = "CLAIMS_LEDGER", value_name = "DIR")]
    pub ledger: Option<PathBuf>,

    /// Seconds to wait for another process using the ledger before giving up
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        value_name = "SECONDS",
        default_value_t = 10.0,
        allow_negative_numbers = true
    )]
    pub wait: f64,

    /// Who enters claims into the ledger [default: $CLAIMS_AUTHOR, then the OS user name]
    #[arg(long, global = true, help_heading = GLOBAL, env = "CLAIMS_AUTHOR", value_name = "NAME")]
    pub author: Option<String>,

    /// Print nothing but results and errors
    #[arg(long, short, global = true, help_heading = GLOBAL)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

impl Args {
    /// Parses the command line as `Args::try_parse` does, then groups the source flags of `add`
    /// and `revise` by where they stood ([`FieldArgs::group_sources`]).
    pub fn parse_with_sources() -> Result<Args, clap::Error> {
        Args::parse_from(std::env::args_os(), true)
    }

    /// [`Args::parse_with_sources`] of `argv`; `env`: whether clap reads `CLAIMS_LEDGER` and
    /// `CLAIMS_AUTHOR` from this process's environment.
    pub fn parse_from(
        argv: impl IntoIterator<Item = std::ffi::OsString>,
        env: bool,
    ) -> Result<Args, clap::Error> {
        use clap::{CommandFactory, FromArgMatches};
        let mut command = Args::command();
        if !env {
            command = command
                .mut_arg("ledger", |arg| arg.env(None))
                .mut_arg("author", |arg| arg.env(None));
        }
        let matches = command.try_get_matches_from(argv)?;
        let mut args = Args::from_arg_matches(&matches)?;
        match (&mut args.command, matches.subcommand()) {
            (Command::Add(add), Some(("add", sub))) => add.fields.group_sources(sub),
            (Command::Revise(revise), Some(("revise", sub))) => revise.fields.group_sources(sub),
            _ => {}
        }
        Ok(args)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an empty ledger
    Init(InitArgs),
    /// Record a new claim, from flags or from one JSON object
    Add(AddArgs),
    /// Record a new revision of a claim, with the reason for it
    Revise(ReviseArgs),
    /// Record claims and revisions from a JSON Lines file, all or nothing
    Import(ImportArgs),
    /// Keep a snapshot of a claim's source in the ledger: a file you saved (--file), or the
    /// source's URL fetched now into a WARC file (--fetch)
    Archive(ArchiveArgs),
    /// List the snapshots the ledger keeps, or copy one out
    Evidence(EvidenceArgs),
    /// Show a claim as of its latest revision
    #[command(after_help = TWO_TIMES)]
    Show(ShowArgs),
    /// List claims, optionally filtered
    #[command(after_help = TWO_TIMES)]
    List(ListArgs),
    /// Show every revision of a claim, with what changed and why
    History(HistoryArgs),
    /// Compare the claims about a subject (and the subjects below it): who says how much, for
    /// when
    #[command(after_help = TWO_TIMES)]
    Compare(CompareArgs),
    /// List the subjects, with how many claims each has and the latest statement date
    Subjects(SubjectsArgs),
    /// Show raw entries with their hashes
    Log(LogArgs),
    /// Recompute every hash and check the whole ledger
    Verify(VerifyArgs),
    /// Print the entry count and head hash: the value to write down or publish
    Head(JsonArg),
    /// Write the ledger as a bundle to standard output: its origin, every stored entry byte for
    /// byte (JSON Lines), and its checkpoint
    Export(ExportArgs),
    /// Run a short tour on a fresh temporary ledger (or --ledger)
    Demo,
    /// Print a shell completion script: claims completions bash > /etc/bash_completion.d/claims
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): claims man > claims.1; --dir DIR writes one per command
    Man(ManArgs),
    /// Make a key for signing the ledger's checkpoints
    Key(KeyArgs),
    /// Print the ledger's checkpoint (origin, entry count, Merkle root), signed with --sign
    Checkpoint(CheckpointArgs),
    /// Write a proof that an entry is in the ledger, or that the ledger extends a checkpoint
    Prove(ProveArgs),
    /// Check a proof file from `claims prove`, with nothing but the file and a verifier key
    VerifyProof(VerifyProofArgs),
    /// Publish the ledger as a transparency log (c2sp.org/tlog-tiles) to a directory or
    /// s3://BUCKET/PREFIX: only what is new since the published checkpoint
    Publish(PublishArgs),
    /// Follow a published log: check its checkpoint and everything new since the last run
    Monitor(MonitorArgs),
    /// Run a witness that cosigns the checkpoints of logs it knows (c2sp.org/tlog-witness)
    Witness(WitnessArgs),
    /// Serve the ledger: web pages for readers, a JSON API for writers (docs/CLI.md)
    Serve(ServeArgs),
    /// Make an access token for `claims serve --tokens FILE`
    Token(TokenArgs),
}

#[derive(Debug, ClapArgs)]
pub struct PublishArgs {
    /// A directory, or s3://BUCKET/PREFIX (endpoint, region and credentials from the AWS_*
    /// environment variables)
    #[arg(value_name = "DEST")]
    pub dest: String,
    /// Sign the checkpoint with the private key in KEYFILE (from `claims key generate`)
    #[arg(long, value_name = "KEYFILE")]
    pub sign: Option<PathBuf>,
    /// Ask the witness at URL, with verifier key VKEY, to cosign the checkpoint (repeatable;
    /// needs --sign)
    #[arg(long, value_name = "URL=VKEY")]
    pub witness: Vec<String>,
    /// How many witnesses must cosign before the checkpoint is published [default: all given]
    #[arg(long, value_name = "N")]
    pub witness_quorum: Option<usize>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, ClapArgs)]
pub struct MonitorArgs {
    /// The published log: a directory, an http(s) base URL, or s3://BUCKET/PREFIX
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// The log's verifier key (the text `claims key generate` printed, or a file holding it)
    #[arg(long, value_name = "VERIFIER_KEY")]
    pub key: String,
    /// Where the monitor keeps what it has checked; without it, every run checks the whole log
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// A witness's verifier key whose cosignature counts (repeatable)
    #[arg(long, value_name = "VKEY")]
    pub witness_key: Vec<String>,
    /// How many of the --witness-key witnesses must have cosigned [default: all given]
    #[arg(long, value_name = "N")]
    pub witness_quorum: Option<usize>,
    /// The largest snapshot of a source fetched (as evidence/SHA256) and hashed, in MB; larger
    /// ones are reported unchecked
    #[arg(long, value_name = "MB", default_value_t = 50)]
    pub evidence_max_size: u64,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, ClapArgs)]
pub struct WitnessArgs {
    #[command(subcommand)]
    pub command: WitnessCommand,
}

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Serve POST /add-checkpoint: cosign checkpoints signed by a known log's key and
    /// consistent with the last one cosigned for it
    Serve(WitnessServeArgs),
}

#[derive(Debug, ClapArgs)]
pub struct WitnessServeArgs {
    /// The witness's private key file (from `claims key generate --witness`)
    #[arg(long, value_name = "KEYFILE")]
    pub key: PathBuf,
    /// The address to listen on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7380")]
    pub listen: String,
    /// A log to witness: its origin and its verifier key (repeatable)
    #[arg(long = "log", value_name = "ORIGIN=VKEY", required = true)]
    pub logs: Vec<String>,
    /// The directory where the witness keeps the last checkpoint it cosigned for each log
    #[arg(long, value_name = "DIR")]
    pub state: PathBuf,
    /// The URL prefix add-checkpoint is served under
    #[arg(long, value_name = "PATH", default_value = "/")]
    pub prefix: String,
}

#[derive(Debug, ClapArgs)]
pub struct ServeArgs {
    /// Where to listen: ADDR:PORT; default 127.0.0.1:7878 (loopback only)
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,
    /// Tokens that may write (and read): a file of lines from `claims token`. Without it the
    /// server is read-only
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,
    /// Reads need a token too
    #[arg(long, requires = "tokens")]
    pub private: bool,
    /// Sign checkpoints with the private key in KEYFILE (from `claims key generate`), so that
    /// readers can check them against the verifier key
    #[arg(long, value_name = "KEYFILE")]
    pub sign: Option<PathBuf>,
}

#[derive(Debug, ClapArgs)]
pub struct TokenArgs {
    /// Whose token: every entry written with it carries this author
    #[arg(long = "for", value_name = "AUTHOR")]
    pub author: String,
    /// reader or writer
    #[arg(long, default_value = "writer")]
    pub role: String,
    /// Add the token's line (its hash, role and author) to this tokens file, created if
    /// missing (mode 0600)
    #[arg(long, value_name = "FILE")]
    pub tokens: PathBuf,
}

#[derive(Debug, ClapArgs)]
pub struct JsonArg {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, ClapArgs)]
pub struct AddArgs {
    /// Your own name for the claim, usable wherever an id is: mediazona-named-dead
    #[arg(long)]
    pub key: Option<String>,
    /// Read the claim as one JSON object from FILE, or - for standard input
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key", "subject", "claimant", "statement"])]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub fields: FieldArgs,
}

#[derive(Debug, ClapArgs)]
pub struct ReviseArgs {
    /// The claim's id or key
    #[arg(value_name = "ID|KEY", required_unless_present = "json")]
    pub claim: Option<String>,
    /// Why the claim changes
    #[arg(long, required_unless_present = "json")]
    pub reason: Option<String>,
    /// update (the claimant published a new figure), correction (the ledger's entry was
    /// wrong), status, or evidence (only the sources' snapshots change)
    #[arg(long)]
    pub kind: Option<String>,
    /// Refuse unless the claim is still at this revision
    #[arg(long, value_name = "N")]
    pub expect_revision: Option<u32>,
    /// Remove an optional field: value, period, stated_on, method, sources or tags
    #[arg(long, value_name = "FIELD")]
    pub clear: Vec<String>,
    /// Make the sources given with the source flags the claim's only sources, instead of
    /// adding them to its own
    #[arg(long, help_heading = "Source options")]
    pub replace_sources: bool,
    /// Read the revision as one JSON object from FILE, or - for standard input
    #[arg(long, value_name = "FILE", conflicts_with_all = ["reason", "kind", "expect_revision", "clear", "replace_sources"])]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub fields: FieldArgs,
}

#[derive(Debug, ClapArgs)]
pub struct ImportArgs {
    /// A JSON Lines file of records and revisions, or - for standard input
    pub file: PathBuf,
    /// Read CSV with a header row instead: a column per field (docs/FORMAT.md, "CSV")
    #[arg(long)]
    pub csv: bool,
    /// The snapshots that lines' `archived` lists name and the ledger lacks, as files named by
    /// their SHA-256 (as `claims export --evidence DIR` writes them)
    #[arg(long, value_name = "DIR")]
    pub evidence_dir: Option<PathBuf>,
}

#[derive(Debug, ClapArgs)]
#[command(group(clap::ArgGroup::new("how").required(true).args(["file", "fetch"])))]
pub struct ArchiveArgs {
    /// The claim's id or key
    #[arg(value_name = "ID|KEY")]
    pub claim: String,
    /// Which of the claim's sources, counting from 1 as `claims show` numbers them
    #[arg(long, value_name = "N")]
    pub source: u32,
    /// Keep this file: a PDF, an image, a saved page, a WARC file from a web archiving tool
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Fetch the source's URL now and keep the exchange as a WARC file
    #[arg(long)]
    pub fetch: bool,
    /// The file's media type, such as application/pdf [default: guessed from its content]
    #[arg(long, value_name = "TYPE", requires = "file")]
    pub media_type: Option<String>,
    /// When the file was captured (saved): YYYY, YYYY-MM, YYYY-MM-DD or RFC 3339 [default: now]
    #[arg(long, value_name = "DATE", requires = "file")]
    pub captured_at: Option<String>,
    /// The largest snapshot to keep (with --fetch: the response bodies together), in MB
    #[arg(long, value_name = "MB", default_value_t = 50)]
    pub max_size: u64,
    /// With --fetch: give up after this many seconds in all
    #[arg(long, value_name = "SECONDS", default_value_t = 60, requires = "fetch")]
    pub timeout: u64,
    /// Why the snapshot is kept [default: "snapshot of source N archived"]
    #[arg(long)]
    pub reason: Option<String>,
    /// A remark by the person archiving it
    #[arg(long)]
    pub note: Option<String>,
    /// Print JSON instead of the snapshot's hash
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, ClapArgs)]
pub struct EvidenceArgs {
    #[command(subcommand)]
    pub command: EvidenceCommand,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// List the snapshots of every claim's sources, or of one claim's
    List(EvidenceListArgs),
    /// Copy a snapshot out of the ledger, checking its hash on the way
    Get(EvidenceGetArgs),
}

#[derive(Debug, ClapArgs)]
pub struct EvidenceListArgs {
    /// Only this claim's snapshots (its id or key)
    #[arg(value_name = "ID|KEY")]
    pub claim: Option<String>,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, ClapArgs)]
pub struct EvidenceGetArgs {
    /// The snapshot's SHA-256, 64 hex digits, as `claims evidence list` shows it
    #[arg(value_name = "SHA256")]
    pub sha256: String,
    /// Write it to FILE (a new file) instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, ClapArgs)]
pub struct ShowArgs {
    /// The claim's id or key
    #[arg(value_name = "ID|KEY")]
    pub claim: String,
    #[command(flatten)]
    pub as_of: AsOfArg,
    #[command(flatten)]
    pub stated_by: StatedByArg,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, ClapArgs)]
pub struct HistoryArgs {
    /// The claim's id or key
    #[arg(value_name = "ID|KEY")]
    pub claim: String,
    #[command(flatten)]
    pub as_of: AsOfArg,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, ClapArgs)]
pub struct ListArgs {
    #[command(flatten)]
    pub as_of: AsOfArg,
    #[command(flatten)]
    pub stated_by: StatedByArg,
    /// Only claims whose period covers this date (YYYY, YYYY-MM, YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "DATE")]
    pub covering: Option<String>,
    /// Only claims whose statement, claimant or key contains TEXT, in any case
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
    /// Only claims about this subject or a subject below it
    #[arg(long)]
    pub subject: Option<String>,
    /// With --subject: only claims about exactly that subject
    #[arg(long, requires = "subject")]
    pub exact: bool,
    /// Only claims by this claimant (exact name)
    #[arg(long)]
    pub claimant: Option<String>,
    /// Only claims with this status
    #[arg(long)]
    pub status: Option<String>,
    /// Only claims with this tag
    #[arg(long)]
    pub tag: Option<String>,
    /// Show at most N claims
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Skip the first N claims that match (with --limit: pages of a long listing)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub offset: u64,
    #[command(flatten)]
    pub format: FormatArg,
}

/// How a listing is printed.
#[derive(Debug, Default, ClapArgs)]
pub struct FormatArg {
    /// Print JSON instead of text
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV (a header row, then a claim a row), for spreadsheets
    #[arg(long)]
    pub csv: bool,
}

#[derive(Debug, ClapArgs)]
pub struct LogArgs {
    /// The first entry to show
    #[arg(long, value_name = "SEQ", default_value_t = 1)]
    pub from: u64,
    /// Show at most this many entries
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Print JSON Lines instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, ClapArgs)]
pub struct CompareArgs {
    /// The subject: russia/military-deaths takes in russia/military-deaths/2024 too
    pub subject: String,
    /// Only claims about exactly SUBJECT, not the subjects below it
    #[arg(long)]
    pub exact: bool,
    #[command(flatten)]
    pub as_of: AsOfArg,
    #[command(flatten)]
    pub stated_by: StatedByArg,
    /// Only claims whose period covers this date (YYYY, YYYY-MM, YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "DATE")]
    pub covering: Option<String>,
    /// Order rows by statement date or by figure
    #[arg(long, value_enum, default_value_t = CompareSort::Stated)]
    pub sort: CompareSort,
    #[command(flatten)]
    pub format: FormatArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareSort {
    /// When the claimant made the claim, earliest first
    Stated,
    /// The figure, smallest first
    Amount,
}

/// Recording time: the ledger as it stood at an earlier point.
#[derive(Debug, Default, ClapArgs)]
pub struct AsOfArg {
    /// Recording time: the ledger as it stood after entry SEQ, or at TIME (a date alone is
    /// the end of that day, month or year, UTC; or RFC 3339)
    #[arg(long, value_name = "SEQ|TIME")]
    pub as_of: Option<String>,
}

/// Stated time: each claim as its claimant had stated it by a date.
#[derive(Debug, Default, ClapArgs)]
pub struct StatedByArg {
    /// Stated time: each claim at its latest revision stated on or before DATE (YYYY, YYYY-MM,
    /// YYYY-MM-DD or RFC 3339); claims with no statement dated by then are left out
    #[arg(long, value_name = "DATE")]
    pub stated_by: Option<String>,
}

#[derive(Debug, ClapArgs)]
pub struct InitArgs {
    /// Verify an exported bundle and build the ledger from it, with the same head and origin
    #[arg(long, value_name = "FILE")]
    pub from_bundle: Option<PathBuf>,
    /// With --from-bundle: the snapshots its entries name, as `claims export --evidence DIR`
    /// wrote them
    #[arg(long, value_name = "DIR", requires = "from_bundle")]
    pub evidence: Option<PathBuf>,
    /// The ledger's name in its checkpoints, and its signing key's, such as example.org/claims
    /// [default: claimledger/<directory>/<8 random hex digits>; with --from-bundle, the
    /// bundle's]
    #[arg(long, value_name = "NAME")]
    pub origin: Option<String>,
}

#[derive(Debug, ClapArgs)]
pub struct VerifyArgs {
    /// Check an exported bundle (the output of `claims export`) instead of a ledger
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// Fail unless entry COUNT still has hash HASH: a head written down earlier
    #[arg(long, value_name = "COUNT:HASH")]
    pub expect_head: Option<String>,
    /// Fail unless the ledger extends this checkpoint (from `claims checkpoint`), saved earlier
    #[arg(long, value_name = "FILE", conflicts_with = "bundle")]
    pub checkpoint: Option<PathBuf>,
    /// With --bundle: fail unless the bundle's checkpoint is signed with this verifier key (the
    /// text `claims key generate` printed, or a file holding it)
    #[arg(long, value_name = "VERIFIER_KEY", requires = "bundle")]
    pub key: Option<String>,
    /// With --bundle: check the snapshots its entries name in DIR, as `claims export --evidence
    /// DIR` wrote them
    #[arg(long, value_name = "DIR", requires = "bundle")]
    pub evidence: Option<PathBuf>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, ClapArgs)]
pub struct ExportArgs {
    /// Sign the bundle's checkpoint with the private key in KEYFILE (from `claims key
    /// generate`), so that `claims verify --bundle --key` can tell who made it
    #[arg(long, value_name = "KEYFILE")]
    pub sign: Option<PathBuf>,
    /// Also copy every snapshot the entries name into DIR, each named by its SHA-256
    #[arg(long, value_name = "DIR")]
    pub evidence: Option<PathBuf>,
}

#[derive(Debug, ClapArgs)]
pub struct SubjectsArgs {
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, ClapArgs)]
pub struct ManArgs {
    /// Write one page per command into DIR (claims.1, claims-add.1, ...) instead
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, ClapArgs)]
pub struct KeyArgs {
    #[command(subcommand)]
    pub command: KeyCommand,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a new Ed25519 signing key (with --witness, a witness's cosigning key): write it to
    /// a file only you can read, and print its verifier key for publishing
    Generate(KeyGenerateArgs),
    /// Print the verifier key of a signing key file again, for publishing
    Verifier(KeyVerifierArgs),
}

#[derive(Debug, ClapArgs)]
pub struct KeyVerifierArgs {
    /// The private key file, as `claims key generate` wrote it
    #[arg(value_name = "KEYFILE")]
    pub key_file: PathBuf,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, ClapArgs)]
pub struct KeyGenerateArgs {
    /// The key's name, which must be the origin of the ledger it signs for
    /// [default: this ledger's origin]; with --witness, the witness's name
    #[arg(long)]
    pub name: Option<String>,
    /// Make a witness key, which cosigns other logs' checkpoints (cosignature/v1, type 0x04)
    #[arg(long, requires = "name")]
    pub witness: bool,
    /// Where to write the private key; never inside the ledger [default: NAME.key, with each
    /// / replaced by _]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, ClapArgs)]
pub struct CheckpointArgs {
    /// Sign it with the private key in KEYFILE (from `claims key generate`)
    #[arg(long, value_name = "KEYFILE")]
    pub sign: Option<PathBuf>,
    /// Print JSON instead of the checkpoint's text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, ClapArgs)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["claim", "seq", "since"])))]
pub struct ProveArgs {
    /// The claim's id or key: prove the entry of its latest revision
    #[arg(value_name = "ID|KEY")]
    pub claim: Option<String>,
    /// Prove entry N instead
    #[arg(long, value_name = "N")]
    pub seq: Option<u64>,
    /// Prove instead that the ledger extends this older checkpoint (a consistency proof)
    #[arg(long, value_name = "OLD_CHECKPOINT")]
    pub since: Option<PathBuf>,
    /// Sign the checkpoint the proof leads to with the private key in KEYFILE
    #[arg(long, value_name = "KEYFILE")]
    pub sign: Option<PathBuf>,
    /// Lead the proof to this checkpoint of the ledger, kept earlier (such as the published
    /// one, with its witnesses' cosignatures), instead of the ledger's current one
    #[arg(long, value_name = "CHECKPOINT", conflicts_with = "sign")]
    pub checkpoint: Option<PathBuf>,
    /// Write the proof to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, ClapArgs)]
pub struct VerifyProofArgs {
    /// The proof, as `claims prove` wrote it, or - for standard input
    pub file: PathBuf,
    /// The ledger's verifier key (the text `claims key generate` printed, or a file holding
    /// it): the proof's checkpoints must be signed with it
    #[arg(long, value_name = "VERIFIER_KEY")]
    pub key: Option<String>,
    /// A witness's verifier key whose cosignature on the proof's checkpoint counts (repeatable)
    #[arg(long, value_name = "VKEY")]
    pub witness_key: Vec<String>,
    /// How many of the --witness-key witnesses must have cosigned [default: all given]
    #[arg(long, value_name = "N")]
    pub witness_quorum: Option<usize>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}
