//! What steps keep for a scenario in its world: the client side of SCRAM exchanges, what
//! each connection last received that those steps check, and the files written for the
//! in-process broker (removed with the scenario). The world holds these and the steps fill
//! them; they live below both, so the world does not look up at the steps.

use std::collections::HashMap;
use std::path::PathBuf;

use tern::codec::{Packet, Properties, Property, PropertyId};

/// What the authentication steps keep for a scenario.
#[derive(Debug, Default)]
pub struct AuthState {
    /// The scenario's password file, removed with the scenario.
    pub(crate) password_file: Option<PathBuf>,
    /// The SCRAM exchange of each connection.
    pub(crate) exchanges: HashMap<String, Exchange>,
    /// The Authentication Data and size of the last AUTH each connection received.
    pub(crate) last_auth: HashMap<String, (Option<Vec<u8>>, usize)>,
    /// The Authentication Data of the last CONNACK each connection received.
    pub(crate) last_connack: HashMap<String, Option<Vec<u8>>>,
}

impl Drop for AuthState {
    fn drop(&mut self) {
        if let Some(path) = &self.password_file {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The client's side of one exchange.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub(crate) nonce: String,
    /// client-first-message-bare.
    pub(crate) first_bare: String,
    /// The ServerSignature the client expects, once it has sent client-final.
    pub(crate) server_signature: Option<Vec<u8>>,
}

impl AuthState {
    /// Notes a packet `conn` received (`size` bytes on the wire).
    pub(crate) fn saw(&mut self, conn: &str, packet: &Packet, size: usize) {
        match packet {
            Packet::Auth(auth) => {
                let data = auth_data(&auth.properties);
                self.last_auth.insert(conn.to_owned(), (data, size));
            }
            Packet::ConnAck(ack) => {
                let data = auth_data(&ack.properties);
                self.last_connack.insert(conn.to_owned(), data);
            }
            _ => {}
        }
    }
}

fn auth_data(p: &Properties) -> Option<Vec<u8>> {
    match p.get(PropertyId::AuthenticationData) {
        Some(Property::AuthenticationData(d)) => Some(d.to_vec()),
        _ => None,
    }
}

/// The ACL file of a scenario, removed with it.
#[derive(Debug, Default)]
pub struct AclFile(pub(crate) Option<PathBuf>);

impl Drop for AclFile {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}
