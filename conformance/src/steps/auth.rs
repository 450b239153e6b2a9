//! Steps for password logins and SCRAM-SHA-256 enhanced authentication (MQTT 5.0 section 4.12,
//! RFC 5802 and RFC 7677).
//!
//! - `the broker has the user "alice" with password "secret"`: writes a password file with
//!   Tern's own code and configures `auth.password_file` (tag the scenario `@needs-config`).
//! - `"a" sends a SCRAM-SHA-256 CONNECT as "alice"` (or `... as "alice" with FIELDS`, more
//!   CONNECT fields): CONNECT with Authentication Method `SCRAM-SHA-256` and client-first
//!   (`n,,n=alice,r=<24 random characters>`) as Authentication Data.
//! - `"a" answers the SCRAM challenge with password "secret"`: takes server-first from the last
//!   AUTH `a` received, checks that its nonce extends the client's, and sends AUTH 0x18 with
//!   client-final.
//! - `"a" sends a SCRAM-SHA-256 re-authentication as "alice"`: AUTH 0x19 (section 4.12.1) with
//!   the method and a new client-first, after CONNACK.
//! - `"a" received the right SCRAM server signature` (or `... in AUTH`): the last CONNACK's (or
//!   the last AUTH's) Authentication Data is `v=` and the ServerSignature the password gives.
//! - `the last AUTH "a" received was 107 bytes`: the size of that packet on the wire.
//!
//! The client side of SCRAM is written here from the RFC, apart from the broker's code.

use anyhow::{anyhow, bail, ensure, Context as _, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use cucumber::{given, then, when};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::fields::encode_hex;
use crate::state::Exchange;
use crate::steps::connection::configured;
use crate::world::MqttWorld;

const MECHANISM: &str = "SCRAM-SHA-256";

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// A user name as a SCRAM saslname: `,` and `=` escaped.
fn saslname(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

#[given(regex = r#"^the broker has the user "([^"]+)" with password "([^"]*)"$"#)]
#[when(regex = r#"^the broker has the user "([^"]+)" with password "([^"]*)"$"#)]
#[then(regex = r#"^the broker has the user "([^"]+)" with password "([^"]*)"$"#)]
async fn has_user(w: &mut MqttWorld, user: String, password: String) -> Result<()> {
    let path = match &w.auth.password_file {
        Some(path) => path.clone(),
        None => {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let name = format!("tern-conformance-{}-{n}.passwd", std::process::id());
            std::env::temp_dir().join(name)
        }
    };
    // Checks that the broker can still be configured, and points it at the file.
    let setting = format!("auth.password_file = {:?}", path.display().to_string());
    configured(w, setting).await?;
    w.auth.password_file = Some(path.clone());
    let mut file = if path.exists() {
        tern::auth::PasswordFile::load(&path)?
    } else {
        tern::auth::PasswordFile::default()
    };
    file.set_password(
        &user,
        password.as_bytes(),
        tern::auth::scram::DEFAULT_ITERATIONS,
    )
    .map_err(|e| anyhow!("no randomness for a salt: {e}"))?;
    file.save(&path)?;
    Ok(())
}

#[given(regex = r#"^"([^"]+)" sends a SCRAM-SHA-256 CONNECT as "([^"]+)"(?: with (.*))?$"#)]
#[when(regex = r#"^"([^"]+)" sends a SCRAM-SHA-256 CONNECT as "([^"]+)"(?: with (.*))?$"#)]
#[then(regex = r#"^"([^"]+)" sends a SCRAM-SHA-256 CONNECT as "([^"]+)"(?: with (.*))?$"#)]
async fn sends_scram_connect(
    w: &mut MqttWorld,
    name: String,
    user: String,
    fields: String,
) -> Result<()> {
    send_client_first(w, name, "CONNECT", &user, &fields).await
}

#[given(regex = r#"^"([^"]+)" sends a SCRAM-SHA-256 re-authentication as "([^"]+)"$"#)]
#[when(regex = r#"^"([^"]+)" sends a SCRAM-SHA-256 re-authentication as "([^"]+)"$"#)]
#[then(regex = r#"^"([^"]+)" sends a SCRAM-SHA-256 re-authentication as "([^"]+)"$"#)]
async fn sends_scram_reauth(w: &mut MqttWorld, name: String, user: String) -> Result<()> {
    send_client_first(w, name, "AUTH", &user, "reason=0x19").await
}

/// Sends `packet` (CONNECT, or AUTH 0x19) with `fields`, the method and a new client-first,
/// and starts the client's side of the exchange.
async fn send_client_first(
    w: &mut MqttWorld,
    name: String,
    packet: &str,
    user: &str,
    fields: &str,
) -> Result<()> {
    let mut random = [0u8; 18];
    getrandom::fill(&mut random).map_err(|e| anyhow!("no randomness for a nonce: {e}"))?;
    let nonce = BASE64.encode(random);
    let first_bare = format!("n={},r={nonce}", saslname(user));
    let client_first = format!("n,,{first_bare}");
    let fields = format!(
        "{fields} authentication_method={MECHANISM} authentication_data=hex:{}",
        encode_hex(client_first.as_bytes()).replace(' ', "")
    );
    let bytes = w.packet_bytes(&name, packet, fields.trim())?;
    w.send(&name, &bytes, usize::MAX).await?;
    w.auth.exchanges.insert(
        name,
        Exchange {
            nonce,
            first_bare,
            server_signature: None,
        },
    );
    Ok(())
}

#[given(regex = r#"^"([^"]+)" answers the SCRAM challenge with password "([^"]*)"$"#)]
#[when(regex = r#"^"([^"]+)" answers the SCRAM challenge with password "([^"]*)"$"#)]
#[then(regex = r#"^"([^"]+)" answers the SCRAM challenge with password "([^"]*)"$"#)]
async fn answers_challenge(w: &mut MqttWorld, name: String, password: String) -> Result<()> {
    let (data, _) = w
        .auth
        .last_auth
        .get(&name)
        .cloned()
        .ok_or_else(|| anyhow!("\"{name}\" has received no AUTH"))?;
    let data = data.ok_or_else(|| anyhow!("the AUTH \"{name}\" received has no data"))?;
    let server_first = String::from_utf8(data).context("server-first is not UTF-8")?;
    let exchange = w
        .auth
        .exchanges
        .get_mut(&name)
        .ok_or_else(|| anyhow!("\"{name}\" has sent no SCRAM-SHA-256 CONNECT"))?;

    // server-first = r=<nonce>,s=<salt>,i=<iterations>[,extensions]
    let mut attrs = server_first.split(',');
    let mut attr = |key: &str| {
        attrs
            .next()
            .and_then(|a| a.strip_prefix(key))
            .ok_or_else(|| anyhow!("server-first {server_first:?} lacks {key}"))
    };
    let nonce = attr("r=")?;
    let salt = BASE64
        .decode(attr("s=")?)
        .context("the salt is not base64")?;
    let iterations: u32 = attr("i=")?.parse().context("the iteration count")?;
    ensure!(
        nonce.starts_with(&exchange.nonce) && nonce.len() > exchange.nonce.len(),
        "server-first nonce {nonce:?} does not extend the client's {:?}",
        exchange.nonce
    );
    ensure!(
        iterations >= 4096,
        "{iterations} iterations: RFC 7677 asks for 4096 or more"
    );

    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, iterations, &mut salted);
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = Sha256::digest(&client_key);
    let without_proof = format!("c=biws,r={nonce}");
    let auth_message = format!("{},{server_first},{without_proof}", exchange.first_bare);
    let signature = hmac(&stored_key, auth_message.as_bytes());
    let proof: Vec<u8> = client_key
        .iter()
        .zip(signature)
        .map(|(k, s)| k ^ s)
        .collect();
    let server_key = hmac(&salted, b"Server Key");
    exchange.server_signature = Some(hmac(&server_key, auth_message.as_bytes()));

    let client_final = format!("{without_proof},p={}", BASE64.encode(proof));
    let fields = format!(
        "reason=0x18 authentication_method={MECHANISM} authentication_data=hex:{}",
        encode_hex(client_final.as_bytes()).replace(' ', "")
    );
    let bytes = w.packet_bytes(&name, "AUTH", &fields)?;
    w.send(&name, &bytes, usize::MAX).await
}

#[given(regex = r#"^"([^"]+)" received the right SCRAM server signature( in AUTH)?$"#)]
#[when(regex = r#"^"([^"]+)" received the right SCRAM server signature( in AUTH)?$"#)]
#[then(regex = r#"^"([^"]+)" received the right SCRAM server signature( in AUTH)?$"#)]
async fn right_server_signature(w: &mut MqttWorld, name: String, auth: String) -> Result<()> {
    let expected = w
        .auth
        .exchanges
        .get(&name)
        .and_then(|e| e.server_signature.clone())
        .ok_or_else(|| anyhow!("\"{name}\" has not answered a SCRAM challenge"))?;
    let (last, packet) = match auth.is_empty() {
        true => (w.auth.last_connack.get(&name).cloned(), "CONNACK"),
        false => (w.auth.last_auth.get(&name).map(|(d, _)| d.clone()), "AUTH"),
    };
    let data = match last {
        Some(Some(data)) => data,
        Some(None) => bail!("the {packet} \"{name}\" received has no Authentication Data"),
        None => bail!("\"{name}\" has received no {packet}"),
    };
    let want = format!("v={}", BASE64.encode(&expected));
    ensure!(
        data == want.as_bytes(),
        "server-final is {:?}, expected {want:?}",
        String::from_utf8_lossy(&data)
    );
    Ok(())
}

#[given(regex = r#"^the last AUTH "([^"]+)" received was (\d+) bytes$"#)]
#[when(regex = r#"^the last AUTH "([^"]+)" received was (\d+) bytes$"#)]
#[then(regex = r#"^the last AUTH "([^"]+)" received was (\d+) bytes$"#)]
async fn last_auth_size(w: &mut MqttWorld, name: String, want: usize) -> Result<()> {
    match w.auth.last_auth.get(&name) {
        Some((_, size)) if *size == want => Ok(()),
        Some((_, size)) => bail!("the last AUTH \"{name}\" received was {size} bytes, not {want}"),
        None => bail!("\"{name}\" has received no AUTH"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_escaped() {
        assert_eq!(saslname("a,b=c"), "a=2Cb=3Dc");
    }
}
