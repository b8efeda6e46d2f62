//! `tablero-desktop`: see the library's documentation (`src/lib.rs`).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    tablero_desktop::run()
}
