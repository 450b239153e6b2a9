//! Steps for MQTT over WebSocket (chapter 6). A WebSocket connection is used like any other
//! once open: each `sends` is one binary frame, so `sends raw A | B` packs two packets into one
//! frame and `sends, 1 byte at a time, ...` splits one packet across frames.
//!
//! - `"a" opens a WebSocket connection` (offering the subprotocol `mqtt`)
//! - `the WebSocket subprotocol of "a" is "mqtt"`
//! - `"a" sends a WebSocket text frame "..."`

use anyhow::{bail, Result};
use cucumber::{given, then, when};

use crate::world::MqttWorld;

#[given(regex = r#"^"([^"]+)" opens a WebSocket connection$"#)]
#[when(regex = r#"^"([^"]+)" opens a WebSocket connection$"#)]
#[then(regex = r#"^"([^"]+)" opens a WebSocket connection$"#)]
async fn opens_websocket(w: &mut MqttWorld, name: String) -> Result<()> {
    let selected = w.open_websocket(&name, Some("mqtt")).await?;
    w.subprotocols.insert(name, selected);
    Ok(())
}

#[given(regex = r#"^the WebSocket subprotocol of "([^"]+)" is "([^"]*)"$"#)]
#[when(regex = r#"^the WebSocket subprotocol of "([^"]+)" is "([^"]*)"$"#)]
#[then(regex = r#"^the WebSocket subprotocol of "([^"]+)" is "([^"]*)"$"#)]
async fn subprotocol_is(w: &mut MqttWorld, name: String, want: String) -> Result<()> {
    match w.subprotocols.get(&name) {
        Some(Some(got)) if *got == want => Ok(()),
        Some(got) => bail!("the upgrade of \"{name}\" selected {got:?}, expected {want:?}"),
        None => bail!("\"{name}\" is not a WebSocket connection"),
    }
}

#[given(regex = r#"^"([^"]+)" sends a WebSocket text frame "([^"]*)"$"#)]
#[when(regex = r#"^"([^"]+)" sends a WebSocket text frame "([^"]*)"$"#)]
#[then(regex = r#"^"([^"]+)" sends a WebSocket text frame "([^"]*)"$"#)]
async fn sends_text(w: &mut MqttWorld, name: String, text: String) -> Result<()> {
    w.send_text(&name, &text).await
}
