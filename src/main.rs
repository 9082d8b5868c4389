//! The `banneret` command-line tool (native only).
fn main() {
    eprintln!("banneret: command-line tool not built yet");
    std::process::exit(2);
}
