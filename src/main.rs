//! `banneret`: the native command-line tool (see `cli::USAGE`). On wasm32 the
//! crate is a library only; this binary is empty there.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty() || argv[0] == "--help" || argv[0] == "-h" {
        print_stdout(&format!("{}\n", banneret::cli::USAGE));
        return;
    }
    match banneret::cli::run(&argv) {
        // A command that printed its own output (eval's table) returns null.
        Ok(serde_json::Value::Null) => {}
        Ok(value) => print_stdout(&format!("{value}\n")),
        Err(e) => {
            eprintln!("banneret: {e}");
            std::process::exit(1);
        }
    }
}

/// Writes to stdout. A reader that stops early (`banneret … | head`) only
/// cuts the output short: no panic, exit code 0; any other failure is
/// reported with exit code 1.
#[cfg(not(target_arch = "wasm32"))]
fn print_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("banneret: writing to stdout: {e}");
            std::process::exit(1);
        }
        _ => {}
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
