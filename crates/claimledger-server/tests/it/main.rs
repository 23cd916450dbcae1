//! The server, end to end over loopback HTTP: the API and its OpenAPI document, tokens,
//! group commit under concurrent writers, hostile claim fields on every page, limits, and a
//! real browser (headless Chromium) reading the pages and checking a claim.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod browser;
mod evidence;
mod hostile;
mod support;
