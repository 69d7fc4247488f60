//! Integration tests: each test starts the real `ddiffusion` binary on
//! 127.0.0.1 with its own data folder and SQLite file, and talks HTTP to it.

mod harness;

mod cancel;
mod catalogue;
mod cli;
mod contract;
mod crash;
mod downloads;
mod events;
mod lanes;
mod lifecycle;
mod limits;
mod load;
mod local_images;
mod providers;
mod remote;
mod retention;
mod security;
