//! The `tern` binary as a user runs it.

use std::process::Command;

fn tern(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(args)
        .output()
        .expect("run tern");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn decode_prints_the_packet() {
    let (code, out) = tern(&["decode", "--protocol", "3.1.1", "30 05 00 01 61 68 69"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Publish"), "{out}");
    assert!(out.contains("\"a\""), "{out}");
}

#[test]
fn decode_names_the_broken_rule() {
    let (code, out) = tern(&["decode", "30 06 00 03 61 00 62 00"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[MQTT-1.5.4-2]"), "{out}");
    assert!(out.contains("0x81 (Malformed Packet)"), "{out}");
}

#[test]
fn start_says_it_is_not_available_yet() {
    let (code, out) = tern(&["start"]);
    assert_eq!(code, 2);
    assert!(out.contains("not built yet"), "{out}");
}
