//! The `tern` command.
//!
//! The broker itself (`tern start`) arrives with the broker issue; until then the command says
//! so and exits non-zero. What works today is `tern decode`, which runs the codec on bytes given
//! in hex and prints the packet, or the rule the bytes break.

use std::process::ExitCode;

use tern::codec::{decode_exact, Protocol};

const USAGE: &str = "\
usage:
  tern start                     start the broker (not available yet)
  tern decode [--protocol V] HEX decode one MQTT packet given in hex (spaces allowed);
                                 V is 3.1, 3.1.1 or 5 (default 5)
  tern --version
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("start") => {
            eprintln!(
                "tern: the broker is not built yet. The codec is in place; the server arrives \
                 with the broker issue. See README.md."
            );
            ExitCode::from(2)
        }
        Some("decode") => decode_command(&args[1..]),
        Some("--version" | "-V") => {
            println!("tern {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("--help" | "-h" | "help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn decode_command(args: &[String]) -> ExitCode {
    let mut protocol = Protocol::V5;
    let mut hex = String::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--protocol" {
            protocol = match it.next().map(String::as_str) {
                Some("3.1") => Protocol::V3_1,
                Some("3.1.1") => Protocol::V3_1_1,
                Some("5" | "5.0") => Protocol::V5,
                other => {
                    eprintln!("tern decode: unknown protocol {other:?} (use 3.1, 3.1.1 or 5)");
                    return ExitCode::from(2);
                }
            };
        } else {
            hex.push_str(arg);
        }
    }
    let bytes = match parse_hex(&hex) {
        Ok(bytes) if !bytes.is_empty() => bytes,
        Ok(_) => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("tern decode: {e}");
            return ExitCode::from(2);
        }
    };
    match decode_exact(&bytes, protocol) {
        Ok(packet) => {
            println!("{packet:#?}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{e}");
            println!("reason code: {}", e.reason_code());
            ExitCode::from(1)
        }
    }
}

fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|pair| {
            let text: String = pair.iter().collect();
            u8::from_str_radix(&text, 16).map_err(|_| format!("{text:?} is not a hex byte"))
        })
        .collect()
}
