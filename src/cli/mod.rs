//! The command line: `roomdeck [tui|serve|token|room ...]`.

use std::process::ExitCode;

pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
