//! `banneret`: the native command-line tool (see `cli::USAGE`).

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty() || argv[0] == "--help" || argv[0] == "-h" {
        println!("{}", banneret::cli::USAGE);
        return;
    }
    match banneret::cli::run(&argv) {
        Ok(value) => println!("{value}"),
        Err(e) => {
            eprintln!("banneret: {e}");
            std::process::exit(1);
        }
    }
}
