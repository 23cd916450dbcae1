//! Connections: accepting them within limits, the headers every answer carries, who may
//! read, and a clean stop.

use crate::{api, pages, AppState, Limits};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::set_header::SetResponseHeaderLayer;

/// No script but the server's own files, no inline script or style, no plug-ins, no framing;
/// the "check it yourself" script may fetch from this server only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// The policy of a served snapshot of a source (an archived page may hold any script): a
/// sandbox with a unique origin and nothing allowed, so that even a browser that shows it
/// rather than downloading it runs nothing of it in the ledger's origin.
pub const SNAPSHOT_CONTENT_SECURITY_POLICY: &str = "sandbox; default-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Resolves on SIGTERM or SIGINT.
pub async fn signalled() {
    let interrupted = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminated) => {
                tokio::select! {
                    _ = terminated.recv() => {}
                    _ = interrupted => {}
                }
            }
            Err(_) => {
                let _ = interrupted.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupted.await;
    }
}

/// The whole application: pages, API, assets, and the layers every request passes.
pub fn router(state: Arc<AppState>) -> Router {
    let limits = state.limits.clone();
    let header = |name: header::HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api::routes(&limits))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            readers_only_with_token,
        ))
        .layer(axum::middleware::from_fn_with_state(
            limits.request_time_max,
            time_limit,
        ))
        .layer(header(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
        .with_state(state)
}

async fn not_found(request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        return api::ApiError::new(
            StatusCode::NOT_FOUND,
            "no such API path; see /api/v1/openapi.json",
        )
        .into_response();
    }
    pages::not_found()
}

/// Ends a request that takes longer than the limit (reading its body included) with 503.
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let started = std::time::Instant::now();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(mut response) => {
            // How long the server took, for operators and the benchmark (a streamed body's
            // time is not in it).
            let timing = format!("app;dur={:.3}", started.elapsed().as_secs_f64() * 1000.0);
            if let Ok(value) = HeaderValue::from_str(&timing) {
                response
                    .headers_mut()
                    .insert(header::HeaderName::from_static("server-timing"), value);
            }
            response
        }
        Err(_) => {
            let message = format!(
                "the request took longer than {} s; nothing of it was written unless it was \
                 answered",
                limit.as_secs()
            );
            if api {
                api::ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message).into_response()
            } else {
                (StatusCode::SERVICE_UNAVAILABLE, message).into_response()
            }
        }
    }
}

/// With `--private`, every read needs a token too (a bearer token, or, for browsers, the token
/// as the password of HTTP basic authentication). Writes check their own (bearer only).
async fn readers_only_with_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if !state.private || request.method() == Method::POST {
        return next.run(request).await;
    }
    let path = request.uri().path();
    if path.starts_with("/assets/") {
        return next.run(request).await;
    }
    let token = crate::api::presented_token(request.headers(), true);
    let granted = match (&state.tokens, token) {
        (Some(tokens), Some(token)) => tokens.check(&token).is_some(),
        _ => false,
    };
    if granted {
        return next.run(request).await;
    }
    let mut response = if path.starts_with("/api/") {
        api::ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this ledger is private: send a token (Authorization: Bearer TOKEN)",
        )
        .into_response()
    } else {
        (
            StatusCode::UNAUTHORIZED,
            "this ledger is private: sign in with any user name and your token as the password",
        )
            .into_response()
    };
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"claims\", charset=\"UTF-8\""),
    );
    response
}

/// Accepts connections until `stop`, then lets those under way finish (for at most the
/// shutdown grace) and returns.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    limits: Limits,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let app = router(state);
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.connections_max));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_time_max)
        .max_buf_size(limits.header_bytes_max.max(8192))
        .max_headers(limits.header_count_max);
    let mut stop = std::pin::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, or a connection reset before it was taken: wait a
                // moment rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await;
}

/// An answer of `bytes` with a content type.
pub fn with_type(content_type: &'static str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
