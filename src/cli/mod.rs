//! The command line: `roomdeck [tui|serve|token|room ...]`.

pub mod token;

use std::process::ExitCode;

pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
