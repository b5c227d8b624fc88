#![doc = include_str!("../../README.md")]
//!
//! # This crate
//!
//! Shared code of the example programs: [`demo`] holds the demo server
//! (DEMO-SERVER.md) that the `demo-server` binary runs.

pub mod demo;
