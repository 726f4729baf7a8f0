#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod agent;
pub mod config;
pub mod control;
