#![doc = include_str!("../../README.md")]
//!
//! # This crate
//!
//! Shared code of the example programs: [`demo`] holds the demo server
//! (DEMO-SERVER.md) that the `demo-server` binary runs; [`process`] what
//! every server binary does around its work (logging, `READY`, signals).

pub mod demo;
pub mod process;
