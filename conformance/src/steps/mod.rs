//! Every step of the scenarios, by what it does. The steps only parse their arguments and call
//! the world ([`crate::world::MqttWorld`]), which owns the connections.

pub mod acl;
pub mod auth;
pub(crate) mod connection;
mod receive;
mod send;
mod websocket;
