//! Where a published log lives: named objects read with [`ObjectSource`] and written with
//! [`ObjectSink`]. Three kinds: a directory ([`DirObjects`]), S3-compatible object storage
//! through the `object_store` crate ([`S3Objects`]), and an http(s) base URL that serves a
//! published directory, read-only ([`HttpObjects`]).
//!
//! Every read names its limit, so that nothing from outside is read unbounded; every write is
//! durable when [`ObjectSink::put_all`] returns (a file is written to a temporary name, synced,
//! renamed, and its directory synced; an S3 PUT is acknowledged only once stored).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Objects written at once: enough to keep a network store busy.
const PUT_CONCURRENCY: usize = 16;

/// How long one request may take, and how many times a failed one is tried.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const ATTEMPTS: u32 = 3;

/// Why an object could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    /// The store could not be reached, refused, or failed: the environment's fault.
    #[error("{location}: {message}")]
    Unavailable { location: String, message: String },
    /// The object is larger than anything of its kind can be: the log is broken or hostile.
    #[error("{location} is larger than the {limit} bytes such an object can be")]
    TooLarge { location: String, limit: usize },
}

impl ObjectError {
    fn unavailable(location: impl Into<String>, message: impl ToString) -> ObjectError {
        ObjectError::Unavailable {
            location: location.into(),
            message: message.to_string(),
        }
    }
}

/// Reads objects of a published log by path (`checkpoint`, `tile/0/000`, …).
pub trait ObjectSource: Send + Sync {
    /// Where the log is, for messages: a directory, `s3://…` or a URL.
    fn describe(&self) -> String;

    /// The object's bytes, or `None` when there is no such object. An object larger than
    /// `limit` bytes is refused without reading it all.
    fn get(&self, path: &str, limit: usize) -> Result<Option<Vec<u8>>, ObjectError>;
}

/// Writes objects of a published log.
pub trait ObjectSink: ObjectSource {
    /// Writes every object (replacing any of the same name); when it returns `Ok`, all are
    /// durable. Each object is written whole or not at all: a reader never sees part of one.
    fn put_all(&self, objects: Vec<(String, Vec<u8>)>) -> Result<(), ObjectError>;
}

/// Where `claims publish` writes and `claims monitor` reads, as the user names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Dir(PathBuf),
    /// `s3://BUCKET/PREFIX`.
    S3 {
        bucket: String,
        prefix: String,
    },
    /// An http(s) base URL, ending in `/`.
    Http(url::Url),
}

impl Location {
    /// `s3://BUCKET[/PREFIX]`, `http(s)://…`, or a directory.
    pub fn parse(text: &str) -> Result<Location, String> {
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(format!("{text:?}: expected s3://BUCKET/PREFIX"));
            }
            let prefix = prefix.trim_matches('/').to_owned();
            object_store::path::Path::parse(&prefix)
                .map_err(|e| format!("{text:?}: the prefix is not a usable object path: {e}"))?;
            return Ok(Location::S3 {
                bucket: bucket.to_owned(),
                prefix,
            });
        }
        if text.starts_with("http://") || text.starts_with("https://") {
            let mut url =
                url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
            if !url.path().ends_with('/') {
                url.set_path(&format!("{}/", url.path()));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(format!(
                    "{text:?}: a log's base URL has no query or fragment"
                ));
            }
            return Ok(Location::Http(url));
        }
        if text.contains("://") {
            return Err(format!(
                "{text:?}: expected a directory, s3://BUCKET/PREFIX or an http(s) URL"
            ));
        }
        if text.is_empty() {
            return Err("expected a directory, s3://BUCKET/PREFIX or an http(s) URL".into());
        }
        Ok(Location::Dir(PathBuf::from(text)))
    }
}

/// A published log in a directory: the object `tile/0/000` is the file `DIR/tile/0/000`.
#[derive(Debug)]
pub struct DirObjects {
    /// The directory as the user named it.
    root: PathBuf,
    /// Where it is: `root`, or `root` in another working directory than this process's.
    at: PathBuf,
}

impl DirObjects {
    /// The directory is created when first written.
    pub fn new(root: impl Into<PathBuf>) -> DirObjects {
        let root = root.into();
        DirObjects {
            at: root.clone(),
            root,
        }
    }

    /// `root`, a path relative to `base` unless absolute, named as given.
    pub fn in_dir(root: impl Into<PathBuf>, base: &Path) -> DirObjects {
        let root = root.into();
        DirObjects {
            at: base.join(&root),
            root,
        }
    }

    fn file(&self, path: &str) -> PathBuf {
        self.at.join(path)
    }

    fn put_one(&self, path: &str, bytes: &[u8]) -> Result<PathBuf, ObjectError> {
        use std::io::Write;
        let file = self.file(path);
        let parent = file
            .parent()
            .expect("an object's file is inside the log's directory")
            .to_owned();
        let fail = |what: &str, e: std::io::Error| {
            ObjectError::unavailable(file.display().to_string(), format!("cannot {what}: {e}"))
        };
        std::fs::create_dir_all(&parent).map_err(|e| fail("create its directory", e))?;
        // A temporary file in the same directory, renamed over the object once synced: a
        // reader sees the old object or the new one, never part of one.
        let mut temp = tempfile::Builder::new()
            .prefix(".publishing-")
            .tempfile_in(&parent)
            .map_err(|e| fail("create a temporary file", e))?;
        temp.write_all(bytes)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| fail("write", e))?;
        temp.persist(&file).map_err(|e| fail("rename", e.error))?;
        Ok(parent)
    }
}

/// Syncs a directory, so that the names renamed into it are durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

impl ObjectSource for DirObjects {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn get(&self, path: &str, limit: usize) -> Result<Option<Vec<u8>>, ObjectError> {
        let file = self.file(path);
        let location = || file.display().to_string();
        let opened = match std::fs::File::open(&file) {
            Ok(opened) => opened,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ObjectError::unavailable(location(), e)),
        };
        let mut bytes = Vec::new();
        opened
            .take(limit as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| ObjectError::unavailable(location(), e))?;
        if bytes.len() > limit {
            return Err(ObjectError::TooLarge {
                location: location(),
                limit,
            });
        }
        Ok(Some(bytes))
    }
}

impl ObjectSink for DirObjects {
    fn put_all(&self, objects: Vec<(String, Vec<u8>)>) -> Result<(), ObjectError> {
        // Each write waits on its own sync: several at once keep the disk busy.
        let written = in_parallel(&objects, PUT_CONCURRENCY, |(path, bytes)| {
            self.put_one(path, bytes)
        });
        let mut dirs = std::collections::BTreeSet::new();
        for parent in written {
            dirs.insert(parent?);
        }
        // New directories must be durable in their own parents too, up to the root.
        let ancestors: Vec<PathBuf> = dirs
            .iter()
            .flat_map(|dir| {
                dir.ancestors()
                    .skip(1)
                    .map(Path::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|dir| dir.starts_with(&self.at))
            .collect();
        dirs.extend(ancestors);
        for dir in dirs {
            sync_dir(&dir).map_err(|e| {
                ObjectError::unavailable(dir.display().to_string(), format!("cannot sync: {e}"))
            })?;
        }
        Ok(())
    }
}

/// `work` on every item, on up to `threads` threads at once (for work that waits on the disk
/// or the network, not the processor): the results in the items' order.
pub fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<R>>> =
        items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(items.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let result = work(item);
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .ok()
                .flatten()
                .expect("every item is worked on once, by a thread that did not panic")
        })
        .collect()
}

/// A published log in an S3-compatible bucket, under a prefix. The endpoint, region and
/// credentials come from the usual AWS environment variables (`AWS_ENDPOINT_URL`,
/// `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, …), read by `object_store`;
/// requests are path-style, and an `http://` endpoint is allowed when one is named.
pub struct S3Objects {
    store: object_store::aws::AmazonS3,
    bucket: String,
    prefix: String,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for S3Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3Objects({})", self.describe())
    }
}

impl S3Objects {
    pub fn from_env(bucket: &str, prefix: &str) -> Result<S3Objects, ObjectError> {
        S3Objects::with_vars(bucket, prefix, &aws_vars())
    }

    /// As [`S3Objects::from_env`], with these `AWS_*` variables instead of this process's.
    pub fn with_vars(
        bucket: &str,
        prefix: &str,
        vars: &[(String, String)],
    ) -> Result<S3Objects, ObjectError> {
        use object_store::{ClientOptions, RetryConfig};
        let location = format!("s3://{bucket}/{prefix}");
        let var = |wanted: &str| {
            vars.iter()
                .find(|(name, _)| name == wanted)
                .map(|(_, value)| value.clone())
        };
        let endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
            .iter()
            .find_map(|name| var(name));
        let options = ClientOptions::new()
            .with_timeout(REQUEST_TIMEOUT)
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_allow_http(endpoint.is_some_and(|e| e.starts_with("http://")));
        let retry = RetryConfig {
            max_retries: ATTEMPTS as usize - 1,
            retry_timeout: 3 * REQUEST_TIMEOUT,
            ..RetryConfig::default()
        };
        let mut builder = object_store::aws::AmazonS3Builder::new();
        // As `AmazonS3Builder::from_env` reads them.
        for (name, value) in vars {
            if let Ok(key) = name.to_ascii_lowercase().parse() {
                builder = builder.with_config(key, value);
            }
        }
        let store = builder
            .with_bucket_name(bucket)
            .with_client_options(options)
            .with_retry(retry)
            .build()
            .map_err(|e| ObjectError::unavailable(&location, e))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| ObjectError::unavailable(&location, e))?;
        Ok(S3Objects {
            store,
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            runtime,
        })
    }

    fn key(&self, path: &str) -> Result<object_store::path::Path, ObjectError> {
        let full = if self.prefix.is_empty() {
            path.to_owned()
        } else {
            format!("{}/{path}", self.prefix)
        };
        object_store::path::Path::parse(&full)
            .map_err(|e| ObjectError::unavailable(self.describe(), e))
    }
}

impl ObjectSource for S3Objects {
    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    fn get(&self, path: &str, limit: usize) -> Result<Option<Vec<u8>>, ObjectError> {
        use object_store::ObjectStoreExt as _;
        let key = self.key(path)?;
        let location = format!("s3://{}/{key}", self.bucket);
        self.runtime.block_on(async {
            let found = match self.store.get(&key).await {
                Ok(found) => found,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(ObjectError::unavailable(&location, e)),
            };
            if found.meta.size > limit as u64 {
                return Err(ObjectError::TooLarge { location, limit });
            }
            let bytes = found
                .bytes()
                .await
                .map_err(|e| ObjectError::unavailable(&location, e))?;
            if bytes.len() > limit {
                return Err(ObjectError::TooLarge { location, limit });
            }
            Ok(Some(bytes.to_vec()))
        })
    }
}

impl ObjectSink for S3Objects {
    fn put_all(&self, objects: Vec<(String, Vec<u8>)>) -> Result<(), ObjectError> {
        use object_store::ObjectStoreExt as _;
        let keyed: Vec<_> = objects
            .into_iter()
            .map(|(path, bytes)| self.key(&path).map(|key| (key, bytes)))
            .collect::<Result<_, _>>()?;
        self.runtime.block_on(async {
            let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(PUT_CONCURRENCY));
            let mut tasks = tokio::task::JoinSet::new();
            for (key, bytes) in keyed {
                let store = self.store.clone();
                let limit = limit.clone();
                let location = format!("s3://{}/{key}", self.bucket);
                tasks.spawn(async move {
                    let _permit = limit.acquire_owned().await;
                    store
                        .put(&key, bytes.into())
                        .await
                        .map(|_| ())
                        .map_err(|e| ObjectError::unavailable(location, e))
                });
            }
            while let Some(done) = tasks.join_next().await {
                done.map_err(|e| ObjectError::unavailable(self.describe(), e))??;
            }
            Ok(())
        })
    }
}

/// A published log served over http(s), read-only: `GET BASE/PATH`. Requests time out, are
/// tried up to [`ATTEMPTS`] times when the server or the network fails, and read at most the
/// limit the caller gives.
#[derive(Debug)]
pub struct HttpObjects {
    base: url::Url,
    client: reqwest::blocking::Client,
}

impl HttpObjects {
    pub fn new(base: url::Url) -> Result<HttpObjects, ObjectError> {
        let client = reqwest::blocking::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent(concat!("claimledger/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ObjectError::unavailable(base.as_str(), e))?;
        Ok(HttpObjects { base, client })
    }

    fn get_once(&self, url: &url::Url, limit: usize) -> Attempt {
        let location = url.to_string();
        let response = match self.client.get(url.clone()).send() {
            Ok(response) => response,
            Err(e) => return Attempt::Retry(ObjectError::unavailable(location, e)),
        };
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Attempt::Done(Ok(None));
        }
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Attempt::Retry(ObjectError::unavailable(location, status));
        }
        if !status.is_success() {
            return Attempt::Done(Err(ObjectError::unavailable(location, status)));
        }
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Attempt::Done(Err(ObjectError::TooLarge { location, limit }));
        }
        let mut bytes = Vec::new();
        if let Err(e) = response.take(limit as u64 + 1).read_to_end(&mut bytes) {
            return Attempt::Retry(ObjectError::unavailable(location, e));
        }
        if bytes.len() > limit {
            return Attempt::Done(Err(ObjectError::TooLarge { location, limit }));
        }
        Attempt::Done(Ok(Some(bytes)))
    }
}

enum Attempt {
    Done(Result<Option<Vec<u8>>, ObjectError>),
    Retry(ObjectError),
}

impl ObjectSource for HttpObjects {
    fn describe(&self) -> String {
        self.base.to_string()
    }

    fn get(&self, path: &str, limit: usize) -> Result<Option<Vec<u8>>, ObjectError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| ObjectError::unavailable(self.describe(), e))?;
        let mut attempt = 1;
        loop {
            match self.get_once(&url, limit) {
                Attempt::Done(result) => return result,
                Attempt::Retry(error) if attempt >= ATTEMPTS => return Err(error),
                Attempt::Retry(_) => {
                    std::thread::sleep(Duration::from_millis(250 << attempt));
                    attempt += 1;
                }
            }
        }
    }
}

/// Opens a location to read.
pub fn open_source(location: &Location) -> Result<Box<dyn ObjectSource>, ObjectError> {
    Ok(match location {
        Location::Dir(dir) => Box::new(DirObjects::new(dir)),
        Location::S3 { bucket, prefix } => Box::new(S3Objects::from_env(bucket, prefix)?),
        Location::Http(url) => Box::new(HttpObjects::new(url.clone())?),
    })
}

/// Opens a location to write: a directory or S3.
pub fn open_sink(location: &Location) -> Result<Box<dyn ObjectSink>, String> {
    open_sink_for(location, None, None)
}

/// This process's `AWS_*` variables, which configure S3 ([`S3Objects::from_env`]).
pub fn aws_vars() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .filter(|(name, _)| name.starts_with("AWS_"))
        .collect()
}

/// [`open_sink`] for another process: a relative directory in its working directory `base`,
/// S3 with its `AWS_*` variables `aws` (`None`: this process's).
pub fn open_sink_for(
    location: &Location,
    base: Option<&Path>,
    aws: Option<&[(String, String)]>,
) -> Result<Box<dyn ObjectSink>, String> {
    match location {
        Location::Dir(dir) => Ok(Box::new(match base {
            Some(base) => DirObjects::in_dir(dir, base),
            None => DirObjects::new(dir),
        })),
        Location::S3 { bucket, prefix } => match aws {
            Some(vars) => S3Objects::with_vars(bucket, prefix, vars),
            None => S3Objects::from_env(bucket, prefix),
        }
        .map(|s| Box::new(s) as Box<dyn ObjectSink>)
        .map_err(|e| e.to_string()),
        Location::Http(url) => Err(format!(
            "{url}: a log is published to a directory or to s3://BUCKET/PREFIX, and served \
             over http(s) from there"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_read_as_written() {
        assert_eq!(
            Location::parse("s3://logs/claims/main"),
            Ok(Location::S3 {
                bucket: "logs".into(),
                prefix: "claims/main".into()
            })
        );
        assert_eq!(
            Location::parse("s3://logs"),
            Ok(Location::S3 {
                bucket: "logs".into(),
                prefix: String::new()
            })
        );
        assert_eq!(
            Location::parse("http://127.0.0.1:8080/log").map(|l| match l {
                Location::Http(url) => url.to_string(),
                other => format!("{other:?}"),
            }),
            Ok("http://127.0.0.1:8080/log/".into())
        );
        assert_eq!(
            Location::parse("published"),
            Ok(Location::Dir("published".into()))
        );
        for bad in ["s3://", "s3:///x", "ftp://x/y", "", "http://x/?a=1"] {
            assert!(Location::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_directory_holds_what_was_put_and_refuses_oversized_reads() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let objects = DirObjects::new(dir.path().join("log"));
        assert_eq!(objects.get("checkpoint", 10), Ok(None));
        objects
            .put_all(vec![
                ("tile/0/000.p/1".into(), vec![1; 32]),
                ("checkpoint".into(), b"x\n".to_vec()),
            ])
            .expect("written");
        assert_eq!(objects.get("tile/0/000.p/1", 32), Ok(Some(vec![1; 32])));
        assert!(matches!(
            objects.get("tile/0/000.p/1", 31),
            Err(ObjectError::TooLarge { limit: 31, .. })
        ));
        objects
            .put_all(vec![("checkpoint".into(), b"y\n".to_vec())])
            .expect("replaced");
        assert_eq!(objects.get("checkpoint", 10), Ok(Some(b"y\n".to_vec())));
    }
}
