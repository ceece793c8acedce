//! The `aco-api` binary: parses the command line and runs the subcommand
//! (`aco_api::commands`), or serves a Lambda container.

use std::process::ExitCode;

use aco_api::config::Cli;
use clap::Parser;

// A request allocates many small short-lived objects (the GraphQL engine's
// values and futures); mimalloc serves them with far less locking than the
// system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let outcome = if aco_api::commands::on_lambda() {
        aco_api::commands::run_on_lambda()
    } else {
        aco_api::commands::run(Cli::parse().command)
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("aco-api: {message}");
            ExitCode::FAILURE
        }
    }
}
