//! The command-line tool's stdout: a reader that stops early (`banneret … |
//! head`) cuts the output short without a panic and without a failing exit.
#![cfg(not(target_arch = "wasm32"))] // runs the native binary

mod common;

use std::process::{Command, Stdio};

#[test]
fn a_reader_that_closes_stdout_early_gets_no_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_banneret"))
        .args(["info", "--model"])
        .arg(common::model_path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the banneret binary");
    // Closed before the model is even read, so the one write meets a broken pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for banneret");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "banneret panicked on a closed stdout: {stderr}");
    assert!(out.status.success(), "banneret failed on a closed stdout: {:?} {stderr}", out.status);
}

#[test]
fn help_is_printed_whole() {
    let out = Command::new(env!("CARGO_BIN_EXE_banneret")).arg("--help").output().expect("run the banneret binary");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(text, format!("{}\n", banneret::cli::USAGE));
}
