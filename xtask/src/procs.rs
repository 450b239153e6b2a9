//! Ports and peer brokers, for the commands that start other processes.

use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;

/// A loopback port nobody listens on right now.
pub fn free_port() -> Result<u16, String> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port())
}

/// The Mosquitto broker binary: Debian installs it in /usr/sbin, which is not on every PATH.
pub fn find_mosquitto() -> &'static str {
    if Path::new("/usr/sbin/mosquitto").exists() {
        "/usr/sbin/mosquitto"
    } else {
        "mosquitto"
    }
}
