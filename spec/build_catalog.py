#!/usr/bin/env python3
"""Build spec/catalog-v3.1.1.toml and spec/catalog-v5.0.toml.

Inputs:
  * the statement tables statements-v3.1.1.tsv / statements-v5.0.tsv (id, section, level,
    actor, text) and the specification texts mqtt-v3.1.1.md / mqtt-v5.0.md, read from the
    directory given as the first argument (default: ../shared/spec relative to the repository
    root, i.e. /work/shared/spec when the repository is /work/main);
  * the hand-written tables below: one summary per statement (own words, one line) and, for
    statements whose actor is "client", the reason a broker-side test cannot observe them.

Output: the two catalogs next to this script (or in --out-dir).

Statuses: actor "client" -> "client-only" (with reason); actor "server"/"both" -> "pending",
unless the existing catalog already says "scenario" or "not-testable" for that id: such an
entry keeps its status, its reason and any extra keys the harness added, so regenerating never
loses coverage data.

Usage:
  python3 spec/build_catalog.py [SPEC_DIR] [--out-dir DIR] [--check]

--check writes nothing and exits 1 if a catalog on disk differs from what would be written.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import tomllib
from pathlib import Path
from urllib.parse import quote, unquote

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

DOCUMENTS = {
    "3.1.1": "http://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html",
    "5.0": "https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html",
}

# Tags that the OASIS documents print differently from their id. The link's text fragment
# must match the printed text, or the browser has nothing to scroll to.
PRINTED = {
    "3.1.1": {
        "MQTT-3.1.2-7": "[MQTT-3.1.2.7]",
        # The appendix prints [MQTT-3.3.1-1]; the body misprint is where the statement is.
        "MQTT-3.3.1-1": "[MQTT-3.3.1.-1]",
        "MQTT-3.8.3-4": "[MQTT-3-8.3-4]",
    },
    "5.0": {
        # The body prints "...Connect Reason Code valuesT-3.2.2-8]" with no "[MQTT".
        "MQTT-3.2.2-8": "Connect Reason Code valuesT-3.2.2-8]",
    },
}

STATUSES = ("scenario", "not-testable", "client-only", "pending")
SUMMARY_SOFT_LIMIT = 120
SUMMARY_HARD_LIMIT = 160

# ---------------------------------------------------------------------------------------------
# MQTT 3.1.1 — summaries (own words) for all 141 statements
# ---------------------------------------------------------------------------------------------
SUMMARY_V311 = {
    "MQTT-1.5.3-1": "Strings must be well-formed UTF-8 without surrogates U+D800..U+DFFF; a receiver of ill-formed UTF-8 closes the connection.",
    "MQTT-1.5.3-2": "A UTF-8 string must not contain U+0000; a Server or Client receiving one must close the Network Connection.",
    "MQTT-1.5.3-3": "Bytes EF BB BF in a string mean U+FEFF (zero-width no-break space); a receiver must keep them, not skip or strip them.",
    "MQTT-2.2.2-1": "Fixed-header flag bits marked Reserved in Table 2.2 must hold exactly the value that table gives.",
    "MQTT-2.2.2-2": "A receiver that gets a fixed header with invalid flag bits must close the Network Connection.",
    "MQTT-2.3.1-1": "SUBSCRIBE, UNSUBSCRIBE and PUBLISH with QoS 1 or 2 must carry a non-zero 16-bit Packet Identifier.",
    "MQTT-2.3.1-2": "For each new SUBSCRIBE, UNSUBSCRIBE or QoS>0 PUBLISH the Client must pick a Packet Identifier not currently in use.",
    "MQTT-2.3.1-3": "A Client resending a packet keeps its Packet Identifier until the matching PUBACK/PUBCOMP/SUBACK/UNSUBACK is processed.",
    "MQTT-2.3.1-4": "Likewise the Server must give each QoS>0 PUBLISH it sends an unused Packet Identifier and keep it for resends.",
    "MQTT-2.3.1-5": "A PUBLISH with QoS 0 must not contain a Packet Identifier.",
    "MQTT-2.3.1-6": "PUBACK, PUBREC and PUBREL must carry the same Packet Identifier as the PUBLISH they belong to.",
    "MQTT-2.3.1-7": "SUBACK and UNSUBACK must echo the Packet Identifier of the SUBSCRIBE or UNSUBSCRIBE they answer.",
    "MQTT-3.1.0-1": "Once the Network Connection is open, the Client's first packet to the Server must be CONNECT.",
    "MQTT-3.1.0-2": "A second CONNECT on one connection is a protocol violation; the Server must disconnect that Client.",
    "MQTT-3.1.2-1": "If the CONNECT protocol name is wrong the Server may disconnect, but must not go on treating the CONNECT as MQTT 3.1.1.",
    "MQTT-3.1.2-2": "For a Protocol Level it does not support, the Server must reply CONNACK return code 0x01 and then disconnect.",
    "MQTT-3.1.2-3": "The Server must check that the reserved bit 0 of the CONNECT Connect Flags is zero and disconnect the Client if not.",
    "MQTT-3.1.2-4": "With CleanSession=0 the Server resumes (or creates) the ClientId's Session, and both sides keep it after disconnecting.",
    "MQTT-3.1.2-5": "After a CleanSession=0 Client disconnects, the Server must keep queueing QoS 1/2 messages matching its subscriptions.",
    "MQTT-3.1.2-6": "With CleanSession=1 both sides drop any old Session and start one lasting only for the connection, never reused later.",
    "MQTT-3.1.2-7": "Retained messages are not Session state; the Server must not delete them when a Session ends.",
    "MQTT-3.1.2-8": "An accepted CONNECT with Will Flag=1 stores a Will, published when the connection closes unless DISCONNECT deleted it.",
    "MQTT-3.1.2-9": "With Will Flag=1 the CONNECT payload must include the Will Topic and Will Message fields.",
    "MQTT-3.1.2-10": "The Server must drop the stored Will Message once it has been published or a DISCONNECT has arrived from the Client.",
    "MQTT-3.1.2-11": "With Will Flag=0, CONNECT Will QoS and Will Retain must be 0 and the payload must omit Will Topic and Will Message.",
    "MQTT-3.1.2-12": "With Will Flag=0 the Server must not publish any Will Message when that connection ends.",
    "MQTT-3.1.2-13": "With Will Flag=0 the CONNECT Will QoS bits must be 0.",
    "MQTT-3.1.2-14": "With Will Flag=1 the CONNECT Will QoS may be 0, 1 or 2 but must never be 3.",
    "MQTT-3.1.2-15": "With Will Flag=0 the CONNECT Will Retain flag must be 0.",
    "MQTT-3.1.2-16": "With Will Flag=1 and Will Retain=0 the Server must publish the Will Message as a non-retained message.",
    "MQTT-3.1.2-17": "With Will Flag=1 and Will Retain=1 the Server must publish the Will Message as a retained message.",
    "MQTT-3.1.2-18": "With User Name Flag=0 the CONNECT payload must not contain a User Name.",
    "MQTT-3.1.2-19": "With User Name Flag=1 the CONNECT payload must contain a User Name.",
    "MQTT-3.1.2-20": "With Password Flag=0 the CONNECT payload must not contain a Password.",
    "MQTT-3.1.2-21": "With Password Flag=1 the CONNECT payload must contain a Password.",
    "MQTT-3.1.2-22": "The CONNECT Password Flag must be 0 whenever the User Name Flag is 0.",
    "MQTT-3.1.2-23": "The Client must keep gaps between its packets within Keep Alive, sending PINGREQ when it has nothing else to send.",
    "MQTT-3.1.2-24": "With non-zero Keep Alive and no packet within 1.5x Keep Alive, the Server must drop the connection as on network failure.",
    "MQTT-3.1.3-1": "Present CONNECT payload fields must be ordered: Client Identifier, Will Topic, Will Message, User Name, Password.",
    "MQTT-3.1.3-2": "Client and Server must both use the ClientId to identify the Session state they hold for that Client.",
    "MQTT-3.1.3-3": "The Client Identifier must always be present, as the first field of the CONNECT payload.",
    "MQTT-3.1.3-4": "The CONNECT Client Identifier must be a UTF-8 encoded string as section 1.5.3 defines.",
    "MQTT-3.1.3-5": "The Server must accept ClientIds of 1 to 23 bytes made only of the characters 0-9, a-z and A-Z.",
    "MQTT-3.1.3-6": "If the Server allows a zero-length ClientId it must assign a unique one and handle CONNECT as if the Client sent it.",
    "MQTT-3.1.3-7": "A Client sending a zero-byte ClientId must also set CleanSession to 1.",
    "MQTT-3.1.3-8": "A zero-byte ClientId with CleanSession=0 must get CONNACK 0x02 (Identifier rejected), then the connection is closed.",
    "MQTT-3.1.3-9": "When the Server rejects a ClientId it must reply CONNACK 0x02 (Identifier rejected) and close the connection.",
    "MQTT-3.1.3-10": "The CONNECT Will Topic must be a UTF-8 encoded string as section 1.5.3 defines.",
    "MQTT-3.1.3-11": "The CONNECT User Name must be a UTF-8 encoded string as section 1.5.3 defines.",
    "MQTT-3.1.4-1": "The Server must check CONNECT against section 3.1 and, if it does not conform, close the connection with no CONNACK.",
    "MQTT-3.1.4-2": "If the ClientId belongs to a Client that is already connected, the Server must disconnect that existing Client.",
    "MQTT-3.1.4-3": "On CONNECT the Server must carry out the CleanSession handling of section 3.1.2.4.",
    "MQTT-3.1.4-4": "The Server must acknowledge an accepted CONNECT with a CONNACK whose return code is 0 (Connection Accepted).",
    "MQTT-3.1.4-5": "After rejecting a CONNECT the Server must not process any data the Client sends after it.",
    "MQTT-3.2.0-1": "The Server's first packet to the Client must be CONNACK.",
    "MQTT-3.2.2-1": "Accepting a CleanSession=1 connection, the Server must send CONNACK with Session Present 0 and return code 0.",
    "MQTT-3.2.2-2": "Accepting CleanSession=0 when it holds Session state for the ClientId, the Server must set CONNACK Session Present to 1.",
    "MQTT-3.2.2-3": "Accepting CleanSession=0 with no stored Session state, the Server must send Session Present 0 with return code 0.",
    "MQTT-3.2.2-4": "A CONNACK with a non-zero return code must have Session Present set to 0.",
    "MQTT-3.2.2-5": "After sending a CONNACK with a non-zero return code the Server must close the Network Connection.",
    "MQTT-3.2.2-6": "If no CONNACK return code in Table 3.1 fits, the Server must close the connection without sending CONNACK.",
    "MQTT-3.3.1-1": "A Client or Server re-delivering a PUBLISH must set its DUP flag to 1.",
    "MQTT-3.3.1-2": "Every QoS 0 PUBLISH must have DUP set to 0.",
    "MQTT-3.3.1-3": "DUP on a PUBLISH the Server forwards reflects only whether that copy is a retransmission, not the incoming DUP.",
    "MQTT-3.3.1-4": "A PUBLISH must not set both QoS bits (QoS 3); a Server or Client receiving one must close the connection.",
    "MQTT-3.3.1-5": "For a Client PUBLISH with RETAIN=1 the Server must store the message and its QoS for future matching subscribers.",
    "MQTT-3.3.1-6": "When a subscription is made, the Server must send the last retained message of each matching topic, if any.",
    "MQTT-3.3.1-7": "A QoS 0 PUBLISH with RETAIN=1 must make the Server discard the topic's old retained message (keeping the new is advised).",
    "MQTT-3.3.1-8": "A PUBLISH the Server sends because a new subscription matched a retained message must have RETAIN=1.",
    "MQTT-3.3.1-9": "A PUBLISH the Server forwards to an existing matching subscription must have RETAIN=0, whatever the publisher set.",
    "MQTT-3.3.1-10": "A RETAIN=1 PUBLISH with an empty payload is delivered normally and must remove the topic's existing retained message.",
    "MQTT-3.3.1-11": "The Server must not keep a zero-byte payload as a retained message.",
    "MQTT-3.3.1-12": "For a Client PUBLISH with RETAIN=0 the Server must not retain it, nor remove or replace the topic's retained message.",
    "MQTT-3.3.2-1": "The PUBLISH variable header must begin with the Topic Name, encoded as a UTF-8 string.",
    "MQTT-3.3.2-2": "The PUBLISH Topic Name must not contain the wildcard characters + or #.",
    "MQTT-3.3.2-3": "The Topic Name of a PUBLISH the Server sends a subscriber must match that subscription's filter per section 4.7.",
    "MQTT-3.3.4-1": "A PUBLISH receiver must answer as Table 3.4 sets for its QoS: nothing for 0, PUBACK for 1, PUBREC for 2.",
    "MQTT-3.3.5-1": "When several of a Client's subscriptions overlap, the Server must deliver the message at the highest QoS among them.",
    "MQTT-3.3.5-2": "If the Server does not authorize a Client's PUBLISH it must either acknowledge it as usual or close the connection.",
    "MQTT-3.6.1-1": "PUBREL fixed-header flags must be 0010; the Server must treat other values as malformed and close the connection.",
    "MQTT-3.8.1-1": "SUBSCRIBE fixed-header flags must be 0010; the Server must treat other values as malformed and close the connection.",
    "MQTT-3.8.3-1": "Each Topic Filter in a SUBSCRIBE payload must be a UTF-8 encoded string.",
    "MQTT-3.8.3-2": "A Server that does not support wildcards must refuse every subscription whose Topic Filter contains + or #.",
    "MQTT-3.8.3-3": "A SUBSCRIBE must carry at least one Topic Filter/QoS pair; one with no payload is a protocol violation.",
    "MQTT-3.8.3-4": "The Server must treat a SUBSCRIBE as malformed and close if reserved payload bits are set or a requested QoS exceeds 2.",
    "MQTT-3.8.4-1": "The Server must answer every SUBSCRIBE with a SUBACK.",
    "MQTT-3.8.4-2": "A SUBACK must carry the same Packet Identifier as the SUBSCRIBE it acknowledges.",
    "MQTT-3.8.4-3": "Re-subscribing to an existing filter must replace the subscription and re-send retained matches without interrupting flow.",
    "MQTT-3.8.4-4": "A SUBSCRIBE with several Topic Filters is handled like separate SUBSCRIBEs whose results share one SUBACK.",
    "MQTT-3.8.4-5": "The SUBACK must have one return code per Topic Filter/QoS pair: the maximum QoS granted, or failure.",
    "MQTT-3.8.4-6": "Messages sent for a subscription must use the lower of the published QoS and the maximum QoS the Server granted.",
    "MQTT-3.9.3-1": "SUBACK return codes must be in the same order as the Topic Filters of the SUBSCRIBE.",
    "MQTT-3.9.3-2": "A SUBACK return code must be 0x00, 0x01, 0x02 or 0x80; every other value is reserved.",
    "MQTT-3.10.1-1": "UNSUBSCRIBE fixed-header flags must be 0010; the Server must treat other values as malformed and close the connection.",
    "MQTT-3.10.3-1": "The Topic Filters of an UNSUBSCRIBE must be UTF-8 encoded strings packed one after another.",
    "MQTT-3.10.3-2": "An UNSUBSCRIBE must carry at least one Topic Filter; one with no payload is a protocol violation.",
    "MQTT-3.10.4-1": "UNSUBSCRIBE filters are compared with the Client's filters character by character; only an exact match deletes one.",
    "MQTT-3.10.4-2": "Once a subscription is deleted the Server must stop adding new messages for it to the Client.",
    "MQTT-3.10.4-3": "Once a subscription is deleted the Server must still finish QoS 1 and QoS 2 deliveries it has already started.",
    "MQTT-3.10.4-4": "The Server must answer UNSUBSCRIBE with an UNSUBACK carrying the same Packet Identifier.",
    "MQTT-3.10.4-5": "The Server must send an UNSUBACK even when the UNSUBSCRIBE deleted no subscription.",
    "MQTT-3.10.4-6": "An UNSUBSCRIBE with several Topic Filters is handled like separate UNSUBSCRIBEs answered by a single UNSUBACK.",
    "MQTT-3.12.4-1": "The Server must answer each PINGREQ with a PINGRESP.",
    "MQTT-3.14.1-1": "The Server must check that the DISCONNECT fixed-header reserved bits are zero and disconnect the Client if not.",
    "MQTT-3.14.4-1": "A Client that has sent DISCONNECT must then close the Network Connection.",
    "MQTT-3.14.4-2": "A Client that has sent DISCONNECT must send no further packets on that connection.",
    "MQTT-3.14.4-3": "On DISCONNECT the Server must discard the connection's Will Message without publishing it.",
    "MQTT-4.1.0-1": "Client and Server must keep the Session state for the whole lifetime of the Session.",
    "MQTT-4.1.0-2": "A Session must last at least as long as its Network Connection is active.",
    "MQTT-4.3.1-1": "A QoS 0 sender must send the PUBLISH with QoS 0 and DUP 0.",
    "MQTT-4.3.2-1": "QoS 1 sender: new unused Packet Identifier, PUBLISH with QoS 1 and DUP 0, held as unacknowledged until its PUBACK.",
    "MQTT-4.3.2-2": "QoS 1 receiver: PUBACK echoing the Packet Identifier; after that a PUBLISH reusing the id is new, whatever its DUP.",
    "MQTT-4.3.3-1": "QoS 2 sender: new id; PUBLISH QoS 2 DUP 0 open until PUBREC; PUBREL, same id, open until PUBCOMP; no re-PUBLISH after PUBREL.",
    "MQTT-4.3.3-2": "QoS 2 receiver: PUBREC with the id; until PUBREL, PUBREC repeats without re-delivering; PUBCOMP the PUBREL; then the id is new.",
    "MQTT-4.4.0-1": "Reconnecting with CleanSession=0, Client and Server must resend unacknowledged QoS>0 PUBLISH and PUBREL with original ids.",
    "MQTT-4.5.0-1": "A message the Server takes ownership of must be added to the Session state of every Client with a matching subscription.",
    "MQTT-4.5.0-2": "The Client must acknowledge every PUBLISH it receives per its QoS, even if it chooses not to process the message.",
    "MQTT-4.6.0-1": "A Client resending QoS 1/2 PUBLISH packets must resend them in their original order.",
    "MQTT-4.6.0-2": "A Client must send PUBACKs in the order the QoS 1 PUBLISH packets arrived.",
    "MQTT-4.6.0-3": "A Client must send PUBRECs in the order the QoS 2 PUBLISH packets arrived.",
    "MQTT-4.6.0-4": "A Client must send PUBRELs in the order the PUBRECs arrived.",
    "MQTT-4.6.0-5": "By default the Server must treat every Topic as an Ordered Topic (it may offer a way to mark some unordered).",
    "MQTT-4.6.0-6": "For an Ordered Topic the Server follows the ordering rules and forwards each Client's same-QoS messages in arrival order.",
    "MQTT-4.7.1-1": "The wildcards + and # may appear in Topic Filters but never inside a Topic Name.",
    "MQTT-4.7.1-2": "The multi-level wildcard # must stand alone or follow a '/', and must be the last character of the Topic Filter.",
    "MQTT-4.7.1-3": "The single-level wildcard + may be used at any level but must fill that whole level of the Topic Filter.",
    "MQTT-4.7.2-1": "Filters beginning with + or # must not match Topic Names that begin with '$'.",
    "MQTT-4.7.3-1": "Topic Names and Topic Filters must be at least one character long.",
    "MQTT-4.7.3-2": "Topic Names and Topic Filters must not contain the null character U+0000.",
    "MQTT-4.7.3-3": "Topic Names and Topic Filters must not take more than 65535 bytes once UTF-8 encoded.",
    "MQTT-4.7.3-4": "In subscription matching the Server must not normalize topics or filters, nor alter or replace unrecognized characters.",
    "MQTT-4.8.0-1": "Unless stated otherwise, a Server or Client meeting a protocol violation must close the connection it came in on.",
    "MQTT-4.8.0-2": "A Client or Server hitting a Transient Error while handling an inbound packet must close the connection it came on.",
    "MQTT-6.0.0-1": "Over WebSocket, MQTT packets must go in binary frames; a recipient of any other data frame must close the connection.",
    "MQTT-6.0.0-2": "Over WebSocket a receiver must not assume packets align with frames; one frame may hold several or partial packets.",
    "MQTT-6.0.0-3": "A WebSocket client must offer the subprotocol \"mqtt\" in its opening handshake.",
    "MQTT-6.0.0-4": "A WebSocket server must select and return the subprotocol name \"mqtt\".",
    "MQTT-7.0.0-1": "A Server that also makes outbound connections to other Servers (a bridge) must conform both as Client and as Server.",
    "MQTT-7.0.0-2": "A conformant implementation must not depend on extensions outside this specification to interoperate with others.",
    "MQTT-7.1.1-1": "A conformant Server must support at least one transport giving an ordered, lossless byte stream in both directions.",
    "MQTT-7.1.2-1": "A conformant Client must support at least one transport giving an ordered, lossless byte stream in both directions.",
}

# Why a broker-side test cannot observe each client-only statement (3.1.1).
REASON_V311 = {
    "MQTT-2.3.1-2": "Binds the client's choice of packet identifiers; the server only sees the identifiers it is given.",
    "MQTT-2.3.1-3": "Binds the client's retransmission bookkeeping; the server cannot tell a faithful resend from a new packet.",
    "MQTT-3.1.0-1": "Binds the client's opening packet; a broker test can only send another first and check the close of MQTT-4.8.0-1.",
    "MQTT-3.1.2-9": "Constrains the client's CONNECT encoding; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-11": "Constrains the client's CONNECT flags and payload; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-13": "Constrains the client's CONNECT Will QoS bits; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-14": "Constrains the client's CONNECT Will QoS value; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-15": "Constrains the client's CONNECT Will Retain bit; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-18": "Constrains the client's CONNECT payload; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-19": "Constrains the client's CONNECT payload; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-20": "Constrains the client's CONNECT payload; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-21": "Constrains the client's CONNECT payload; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-22": "Constrains the client's CONNECT flags; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-23": "Binds the client's sending schedule; the server's side, the 1.5x Keep Alive timeout, is MQTT-3.1.2-24.",
    "MQTT-3.1.3-1": "Constrains the client's CONNECT field order; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.3-3": "Constrains the client's CONNECT payload; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.3-4": "Constrains how the client encodes its ClientId; the server's reaction to bad UTF-8 is MQTT-1.5.3-1.",
    "MQTT-3.1.3-7": "Binds the client's CONNECT flags; the server's required answer to a violation is MQTT-3.1.3-8.",
    "MQTT-3.1.3-10": "Constrains how the client encodes the Will Topic; the server's reaction to bad UTF-8 is MQTT-1.5.3-1.",
    "MQTT-3.1.3-11": "Constrains how the client encodes the User Name; the server's reaction to bad UTF-8 is MQTT-1.5.3-1.",
    "MQTT-3.8.3-1": "Constrains how the client encodes SUBSCRIBE filters; the server's reaction to bad UTF-8 is MQTT-1.5.3-1.",
    "MQTT-3.10.3-1": "Constrains how the client encodes UNSUBSCRIBE filters; the server's reaction to bad UTF-8 is MQTT-1.5.3-1.",
    "MQTT-3.14.4-1": "Binds the client after it sends DISCONNECT; a broker test plays that client, so no server behaviour is involved.",
    "MQTT-3.14.4-2": "Binds the client after it sends DISCONNECT; a broker test plays that client, so no server behaviour is involved.",
    "MQTT-4.5.0-2": "Binds the client's acknowledgements of deliveries; a broker test plays the client, so there is no server act to check.",
    "MQTT-4.6.0-1": "Binds the order of the client's retransmissions; the server's own ordering duties are MQTT-4.6.0-5 and -6.",
    "MQTT-4.6.0-2": "Binds the order of the client's PUBACKs; a broker test plays the client, so there is no server act to check.",
    "MQTT-4.6.0-3": "Binds the order of the client's PUBRECs; a broker test plays the client, so there is no server act to check.",
    "MQTT-4.6.0-4": "Binds the order of the client's PUBRELs; a broker test plays the client, so there is no server act to check.",
    "MQTT-4.7.1-2": "Constrains filters the client builds; 3.1.1 tags no server duty for an invalid one beyond MQTT-4.8.0-1.",
    "MQTT-4.7.1-3": "Constrains filters the client builds; 3.1.1 tags no server duty for an invalid one beyond MQTT-4.8.0-1.",
    "MQTT-6.0.0-3": "Binds the client's WebSocket handshake offer; the server's side of the negotiation is MQTT-6.0.0-4.",
    "MQTT-7.1.2-1": "A conformance requirement on client implementations; a broker test has no client implementation to examine.",
}

# ---------------------------------------------------------------------------------------------
# MQTT 5.0 — summaries (own words) for all 251 statements
# ---------------------------------------------------------------------------------------------
SUMMARY_V5 = {
    "MQTT-1.5.4-1": "A UTF-8 Encoded String must be well-formed UTF-8 and must not encode the surrogates U+D800..U+DFFF.",
    "MQTT-1.5.4-2": "A UTF-8 string must not contain U+0000; a receiver treats it as a Malformed Packet.",
    "MQTT-1.5.4-3": "Bytes EF BB BF in a string always mean U+FEFF (zero-width no-break space); a receiver must not skip or strip them.",
    "MQTT-1.5.5-1": "A Variable Byte Integer must be encoded in the fewest bytes able to hold its value.",
    "MQTT-1.5.7-1": "Both the name and the value of a UTF-8 String Pair must obey the UTF-8 Encoded String rules.",
    "MQTT-2.1.3-1": "Fixed-header flag bits marked Reserved must be set to exactly the value the flag table lists.",
    "MQTT-2.2.1-2": "A PUBLISH with QoS 0 must not contain a Packet Identifier.",
    "MQTT-2.2.1-3": "The Client must give each new SUBSCRIBE, UNSUBSCRIBE and QoS>0 PUBLISH a non-zero Packet Identifier not in use.",
    "MQTT-2.2.1-4": "The Server must give each new QoS>0 PUBLISH it sends a non-zero Packet Identifier not currently in use.",
    "MQTT-2.2.1-5": "PUBACK, PUBREC, PUBREL and PUBCOMP must carry the Packet Identifier of the PUBLISH they belong to.",
    "MQTT-2.2.1-6": "SUBACK and UNSUBACK must echo the Packet Identifier of the SUBSCRIBE or UNSUBSCRIBE they answer.",
    "MQTT-2.2.2-1": "A packet with no properties must still include its Property Length, set to zero.",
    "MQTT-3.1.0-1": "Once the Network Connection is open, the Client's first packet to the Server must be CONNECT.",
    "MQTT-3.1.0-2": "A second CONNECT on one connection is a Protocol Error; the Server must close the Network Connection.",
    "MQTT-3.1.2-1": "The CONNECT protocol name must be the UTF-8 string \"MQTT\"; a Server refusing it may send CONNACK 0x84, then must close.",
    "MQTT-3.1.2-2": "If the Protocol Version is not 5 and the Server refuses it, it may send CONNACK 0x84 and must then close the connection.",
    "MQTT-3.1.2-3": "The Server must check that the reserved bit 0 of the CONNECT Connect Flags is 0 (otherwise: Malformed Packet).",
    "MQTT-3.1.2-4": "On a CONNECT with Clean Start=1, Client and Server must discard any existing Session and begin a new one.",
    "MQTT-3.1.2-5": "On a CONNECT with Clean Start=0 and an existing Session for the ClientID, the Server must resume that Session's state.",
    "MQTT-3.1.2-6": "On a CONNECT with Clean Start=0 and no Session for the ClientID, the Server must create a new Session.",
    "MQTT-3.1.2-7": "With Will Flag=1 the Server must store the Will Message and associate it with the Session.",
    "MQTT-3.1.2-8": "The Will is sent after close when Will Delay or the Session ends, unless cancelled by DISCONNECT 0x00 or a timely reconnect.",
    "MQTT-3.1.2-9": "With Will Flag=1 the CONNECT payload must contain Will Properties, Will Topic and Will Payload.",
    "MQTT-3.1.2-10": "The Server must remove the stored Will Message once published or once a DISCONNECT with Reason Code 0x00 arrives.",
    "MQTT-3.1.2-11": "With Will Flag=0 the CONNECT Will QoS must be 0.",
    "MQTT-3.1.2-12": "With Will Flag=1 the CONNECT Will QoS is limited to 0, 1 or 2.",
    "MQTT-3.1.2-13": "With Will Flag=0 the CONNECT Will Retain flag must be 0.",
    "MQTT-3.1.2-14": "With Will Flag=1 and Will Retain=0 the Server must publish the Will Message as a non-retained message.",
    "MQTT-3.1.2-15": "With Will Flag=1 and Will Retain=1 the Server must publish the Will Message as a retained message.",
    "MQTT-3.1.2-16": "With User Name Flag=0 the CONNECT payload must not contain a User Name.",
    "MQTT-3.1.2-17": "With User Name Flag=1 the CONNECT payload must contain a User Name.",
    "MQTT-3.1.2-18": "With Password Flag=0 the CONNECT payload must not contain a Password.",
    "MQTT-3.1.2-19": "With Password Flag=1 the CONNECT payload must contain a Password.",
    "MQTT-3.1.2-20": "With non-zero Keep Alive, a Client with nothing else to send must send PINGREQ to stay within the interval.",
    "MQTT-3.1.2-21": "If CONNACK carries a Server Keep Alive, the Client must use it in place of the Keep Alive it sent.",
    "MQTT-3.1.2-22": "With non-zero Keep Alive, if no packet arrives within 1.5x Keep Alive the Server must close as on network failure.",
    "MQTT-3.1.2-23": "If the Session Expiry Interval is above 0, Client and Server must keep the Session State after the connection closes.",
    "MQTT-3.1.2-24": "The Server must not send the Client any packet larger than the Maximum Packet Size the Client set in CONNECT.",
    "MQTT-3.1.2-25": "A packet too large for the Client's Maximum Packet Size must be dropped unsent, as if that message had been sent.",
    "MQTT-3.1.2-26": "The Server must not send a Topic Alias greater than the Topic Alias Maximum the Client set in CONNECT.",
    "MQTT-3.1.2-27": "If the Client's Topic Alias Maximum is absent or 0, the Server must send no Topic Aliases at all.",
    "MQTT-3.1.2-28": "If the Client's Request Response Information is 0, the Server must not return Response Information in CONNACK.",
    "MQTT-3.1.2-29": "With Request Problem Information 0, Reason String and User Property may go only on PUBLISH, CONNACK or DISCONNECT.",
    "MQTT-3.1.2-30": "A Client that set an Authentication Method must send only AUTH or DISCONNECT until it has received CONNACK.",
    "MQTT-3.1.3-1": "Present CONNECT payload fields must be ordered: ClientID, Will Properties, Will Topic, Will Payload, User Name, Password.",
    "MQTT-3.1.3-2": "Client and Server must both use the ClientID to identify the Session state they hold for that Client.",
    "MQTT-3.1.3-3": "The ClientID must always be present, as the first field of the CONNECT payload.",
    "MQTT-3.1.3-4": "The CONNECT ClientID must be a UTF-8 Encoded String as section 1.5.4 defines.",
    "MQTT-3.1.3-5": "The Server must accept ClientIDs of 1 to 23 bytes made only of the characters 0-9, a-z and A-Z.",
    "MQTT-3.1.3-6": "A Server that accepts a zero-length ClientID must treat it specially and assign that Client a unique ClientID.",
    "MQTT-3.1.3-7": "With an assigned ClientID the Server processes CONNECT as if it had been sent and must return it in CONNACK.",
    "MQTT-3.1.3-8": "On rejecting a ClientID the Server may send CONNACK 0x85 (Client Identifier not valid) and must close the connection.",
    "MQTT-3.1.3-9": "If a new connection to the Session arrives before the Will Delay Interval passes, the Server must not send the Will.",
    "MQTT-3.1.3-10": "When publishing a Will Message the Server must keep its User Properties in their original order.",
    "MQTT-3.1.3-11": "The CONNECT Will Topic must be a UTF-8 Encoded String as section 1.5.4 defines.",
    "MQTT-3.1.3-12": "With User Name Flag=1 the User Name comes next in the CONNECT payload and must be a UTF-8 Encoded String.",
    "MQTT-3.1.4-1": "The Server must check that CONNECT has the format of section 3.1 and close the connection if it does not.",
    "MQTT-3.1.4-2": "If further CONNECT checks, such as authentication or authorization, fail, the Server must close the connection.",
    "MQTT-3.1.4-3": "If the ClientID is already connected, the Server sends that Client DISCONNECT 0x8E (Session taken over) and must close it.",
    "MQTT-3.1.4-4": "On CONNECT the Server must carry out the Clean Start handling of section 3.1.2.4.",
    "MQTT-3.1.4-5": "The Server must acknowledge an accepted CONNECT with a CONNACK whose Reason Code is 0x00 (Success).",
    "MQTT-3.1.4-6": "After rejecting a CONNECT the Server must not process any later data from the Client except AUTH packets.",
    "MQTT-3.2.0-1": "The Server must send a CONNACK with Reason Code 0x00 (Success) before sending any packet other than AUTH.",
    "MQTT-3.2.0-2": "The Server must never send more than one CONNACK on a Network Connection.",
    "MQTT-3.2.2-1": "Bits 7-1 of the CONNACK Connect Acknowledge Flags byte are reserved and must be 0.",
    "MQTT-3.2.2-2": "Accepting a Clean Start=1 connection, the Server must send CONNACK with Session Present 0 and Reason Code 0x00.",
    "MQTT-3.2.2-3": "Accepting a Clean Start=0 connection, Session Present is 1 if the Server has Session State, else 0; Reason Code 0x00.",
    "MQTT-3.2.2-4": "A Client without Session State that receives Session Present=1 must close the Network Connection.",
    "MQTT-3.2.2-5": "A Client with Session State that receives Session Present=0 must discard that state if it stays connected.",
    "MQTT-3.2.2-6": "A CONNACK with a non-zero Reason Code must have Session Present set to 0.",
    "MQTT-3.2.2-7": "After sending a CONNACK with a Reason Code of 0x80 or above, the Server must close the Network Connection.",
    "MQTT-3.2.2-8": "The CONNACK Reason Code must be one of the values in the Connect Reason Code table.",
    "MQTT-3.2.2-9": "A Server lacking QoS 1 or QoS 2 support must send Maximum QoS in CONNACK naming the highest QoS it supports.",
    "MQTT-3.2.2-10": "Even with a reduced Maximum QoS the Server must still accept SUBSCRIBE packets requesting QoS 0, 1 or 2.",
    "MQTT-3.2.2-11": "A Client must not send PUBLISH at a QoS above the Maximum QoS the Server gave in CONNACK.",
    "MQTT-3.2.2-12": "A CONNECT whose Will QoS exceeds the Server's support must be rejected (CONNACK 0x9B advised) and the connection closed.",
    "MQTT-3.2.2-13": "A CONNECT with Will Retain=1 to a Server without retain support must be rejected (CONNACK 0x9A advised), then closed.",
    "MQTT-3.2.2-14": "A Client told Retain Available=0 must not send a PUBLISH with RETAIN=1.",
    "MQTT-3.2.2-15": "The Client must not send packets larger than the Maximum Packet Size the Server gave in CONNACK.",
    "MQTT-3.2.2-16": "For a zero-length ClientID the CONNACK must carry an Assigned Client Identifier used by no other current Session.",
    "MQTT-3.2.2-17": "The Client must not send a Topic Alias greater than the Topic Alias Maximum the Server gave in CONNACK.",
    "MQTT-3.2.2-18": "If the Server's Topic Alias Maximum is absent or 0, the Client must send no Topic Aliases.",
    "MQTT-3.2.2-19": "The Server must leave out the CONNACK Reason String if it would make CONNACK exceed the Client's Maximum Packet Size.",
    "MQTT-3.2.2-20": "The Server must leave out CONNACK User Properties if they would make CONNACK exceed the Client's Maximum Packet Size.",
    "MQTT-3.2.2-21": "If CONNACK carries a Server Keep Alive, the Client must use it instead of the Keep Alive it sent in CONNECT.",
    "MQTT-3.2.2-22": "If CONNACK has no Server Keep Alive, the Server must apply the Keep Alive the Client sent in CONNECT.",
    "MQTT-3.3.1-1": "A Client or Server re-delivering a PUBLISH must set its DUP flag to 1.",
    "MQTT-3.3.1-2": "Every QoS 0 PUBLISH must have DUP set to 0.",
    "MQTT-3.3.1-3": "DUP on a PUBLISH the Server forwards reflects only whether that copy is a retransmission, not the incoming DUP.",
    "MQTT-3.3.1-4": "A PUBLISH must not have both QoS bits set (QoS 3).",
    "MQTT-3.3.1-5": "For a Client PUBLISH with RETAIN=1 the Server must store it as the topic's retained message, replacing any earlier one.",
    "MQTT-3.3.1-6": "A RETAIN=1 PUBLISH with an empty payload is delivered normally and must remove the topic's retained message.",
    "MQTT-3.3.1-7": "The Server must not store a retained PUBLISH with a zero-byte payload as a retained message.",
    "MQTT-3.3.1-8": "For a Client PUBLISH with RETAIN=0 the Server must not retain it, nor remove or replace the topic's retained message.",
    "MQTT-3.3.1-9": "With Retain Handling 0 the Server must send the Client the retained messages matching the subscription's filter.",
    "MQTT-3.3.1-10": "With Retain Handling 1 the Server sends matching retained messages only for a new subscription, not a re-subscribe.",
    "MQTT-3.3.1-11": "With Retain Handling 2 the Server must not send retained messages for the subscription.",
    "MQTT-3.3.1-12": "With Retain As Published 0 the Server must forward messages with RETAIN=0, whatever the publisher set.",
    "MQTT-3.3.1-13": "With Retain As Published 1 the Server must forward messages with RETAIN equal to the flag in the received PUBLISH.",
    "MQTT-3.3.2-1": "The PUBLISH variable header must begin with the Topic Name, a UTF-8 Encoded String.",
    "MQTT-3.3.2-2": "The PUBLISH Topic Name must not contain the wildcard characters + or #.",
    "MQTT-3.3.2-3": "The Topic Name of a PUBLISH the Server sends a subscriber must match that subscription's filter per section 4.7.",
    "MQTT-3.3.2-4": "The Server must pass the Payload Format Indicator unchanged to every subscriber that receives the message.",
    "MQTT-3.3.2-5": "If the Message Expiry Interval passes before onward delivery to a subscriber starts, the Server must delete that copy.",
    "MQTT-3.3.2-6": "A forwarded PUBLISH's Message Expiry Interval must be the received value minus the time spent waiting in the Server.",
    "MQTT-3.3.2-7": "A receiver must not carry Topic Alias mappings over from one Network Connection to another.",
    "MQTT-3.3.2-8": "A sender must not send a PUBLISH whose Topic Alias is 0.",
    "MQTT-3.3.2-9": "A Client must not send a PUBLISH with a Topic Alias above the Topic Alias Maximum from the Server's CONNACK.",
    "MQTT-3.3.2-10": "A Client must accept every Topic Alias from 1 up to the Topic Alias Maximum it sent in CONNECT.",
    "MQTT-3.3.2-11": "The Server must not send a PUBLISH with a Topic Alias above the Topic Alias Maximum the Client sent in CONNECT.",
    "MQTT-3.3.2-12": "The Server must accept every Topic Alias from 1 up to the Topic Alias Maximum it returned in CONNACK.",
    "MQTT-3.3.2-13": "The PUBLISH Response Topic property must be a UTF-8 Encoded String.",
    "MQTT-3.3.2-14": "The PUBLISH Response Topic property must not contain wildcard characters.",
    "MQTT-3.3.2-15": "The Server must pass the Response Topic unchanged to every subscriber that receives the message.",
    "MQTT-3.3.2-16": "The Server must pass the Correlation Data unchanged to every subscriber that receives the message.",
    "MQTT-3.3.2-17": "The Server must forward all PUBLISH User Properties unchanged to the Clients receiving the message.",
    "MQTT-3.3.2-18": "The Server must keep PUBLISH User Properties in their original order when forwarding the message.",
    "MQTT-3.3.2-19": "The PUBLISH Content Type property must be a UTF-8 Encoded String.",
    "MQTT-3.3.2-20": "The Server must pass the Content Type unchanged to every subscriber that receives the message.",
    "MQTT-3.3.4-1": "A PUBLISH receiver must answer with the packet its QoS calls for: nothing for 0, PUBACK for 1, PUBREC for 2.",
    "MQTT-3.3.4-2": "When several of a Client's subscriptions overlap, the Server must deliver the message at the highest QoS among them.",
    "MQTT-3.3.4-3": "If overlapping matching subscriptions have Subscription Identifiers, the Server must send them with the message.",
    "MQTT-3.3.4-4": "One delivered copy must carry the Subscription Identifiers of all matching subscriptions that have one, in any order.",
    "MQTT-3.3.4-5": "When sending one PUBLISH per matching subscription, each must carry that subscription's Subscription Identifier, if any.",
    "MQTT-3.3.4-6": "A PUBLISH sent from Client to Server must not contain a Subscription Identifier.",
    "MQTT-3.3.4-7": "The Client must not have more unacknowledged QoS 1/2 PUBLISH packets in flight than the Server's Receive Maximum.",
    "MQTT-3.3.4-8": "Reaching the Server's Receive Maximum must not make the Client hold back packets other than PUBLISH.",
    "MQTT-3.3.4-9": "The Server must not have more unacknowledged QoS 1/2 PUBLISH packets in flight than the Client's Receive Maximum.",
    "MQTT-3.3.4-10": "Reaching the Client's Receive Maximum must not make the Server hold back packets other than PUBLISH.",
    "MQTT-3.4.2-1": "The PUBACK Reason Code must be one of the values defined for PUBACK.",
    "MQTT-3.4.2-2": "A sender must leave out the PUBACK Reason String if it would make PUBACK exceed the receiver's Maximum Packet Size.",
    "MQTT-3.4.2-3": "A sender must leave out PUBACK User Properties if they would make PUBACK exceed the receiver's Maximum Packet Size.",
    "MQTT-3.5.2-1": "The PUBREC Reason Code must be one of the values defined for PUBREC.",
    "MQTT-3.5.2-2": "A sender must leave out the PUBREC Reason String if it would make PUBREC exceed the receiver's Maximum Packet Size.",
    "MQTT-3.5.2-3": "A sender must leave out PUBREC User Properties if they would make PUBREC exceed the receiver's Maximum Packet Size.",
    "MQTT-3.6.1-1": "PUBREL fixed-header flags must be 0010; the Server must treat other values as malformed and close the connection.",
    "MQTT-3.6.2-1": "The PUBREL Reason Code must be one of the values defined for PUBREL.",
    "MQTT-3.6.2-2": "A sender must leave out the PUBREL Reason String if it would make PUBREL exceed the receiver's Maximum Packet Size.",
    "MQTT-3.6.2-3": "A sender must leave out PUBREL User Properties if they would make PUBREL exceed the receiver's Maximum Packet Size.",
    "MQTT-3.7.2-1": "The PUBCOMP Reason Code must be one of the values defined for PUBCOMP.",
    "MQTT-3.7.2-2": "A sender must leave out the PUBCOMP Reason String if it would make PUBCOMP exceed the receiver's Maximum Packet Size.",
    "MQTT-3.7.2-3": "A sender must leave out PUBCOMP User Properties if they would make PUBCOMP exceed the receiver's Maximum Packet Size.",
    "MQTT-3.8.1-1": "SUBSCRIBE fixed-header flags must be 0010; the Server must treat other values as malformed and close the connection.",
    "MQTT-3.8.3-1": "Each Topic Filter in a SUBSCRIBE must be a UTF-8 Encoded String.",
    "MQTT-3.8.3-2": "A SUBSCRIBE payload must contain at least one Topic Filter with its Subscription Options.",
    "MQTT-3.8.3-3": "With No Local=1 the Server must not forward a message to a connection whose ClientID is the publisher's.",
    "MQTT-3.8.3-4": "Setting the No Local option to 1 on a Shared Subscription is a Protocol Error.",
    "MQTT-3.8.3-5": "The Server must treat a SUBSCRIBE as malformed if any reserved bit of its Subscription Options is non-zero.",
    "MQTT-3.8.4-1": "The Server must answer every SUBSCRIBE with a SUBACK.",
    "MQTT-3.8.4-2": "A SUBACK must carry the same Packet Identifier as the SUBSCRIBE it acknowledges.",
    "MQTT-3.8.4-3": "A SUBSCRIBE whose filter equals a non-shared subscription's filter in the Session must replace that subscription.",
    "MQTT-3.8.4-4": "On such a replacement with Retain Handling 0, matching retained messages are re-sent and no messages may be lost.",
    "MQTT-3.8.4-5": "A SUBSCRIBE with several Topic Filters is handled like separate SUBSCRIBEs whose results share one SUBACK.",
    "MQTT-3.8.4-6": "The SUBACK must contain one Reason Code for every Topic Filter/Subscription Options pair.",
    "MQTT-3.8.4-7": "Each SUBACK Reason Code must give the maximum QoS granted or report that the subscription failed.",
    "MQTT-3.8.4-8": "Messages sent for a subscription must use the lower of the published QoS and the maximum QoS the Server granted.",
    "MQTT-3.9.2-1": "The Server must leave out the SUBACK Reason String if it would make SUBACK exceed the Client's Maximum Packet Size.",
    "MQTT-3.9.2-2": "The Server must leave out SUBACK User Properties if they would make SUBACK exceed the Client's Maximum Packet Size.",
    "MQTT-3.9.3-1": "SUBACK Reason Codes must be in the same order as the Topic Filters of the SUBSCRIBE.",
    "MQTT-3.9.3-2": "Each SUBACK Reason Code must be one of the defined Subscribe Reason Codes.",
    "MQTT-3.10.1-1": "UNSUBSCRIBE fixed-header flags must be 0010; the Server must treat other values as malformed and close the connection.",
    "MQTT-3.10.3-1": "The Topic Filters of an UNSUBSCRIBE must be UTF-8 Encoded Strings.",
    "MQTT-3.10.3-2": "An UNSUBSCRIBE payload must contain at least one Topic Filter.",
    "MQTT-3.10.4-1": "UNSUBSCRIBE filters are compared with the Client's filters character by character; an exact match must be deleted.",
    "MQTT-3.10.4-2": "On UNSUBSCRIBE the Server must stop adding new messages matching the removed filters for delivery to the Client.",
    "MQTT-3.10.4-3": "On UNSUBSCRIBE the Server must still finish QoS 1/2 deliveries of matching messages it has already begun.",
    "MQTT-3.10.4-4": "The Server must answer every UNSUBSCRIBE with an UNSUBACK.",
    "MQTT-3.10.4-5": "The UNSUBACK must echo the UNSUBSCRIBE's Packet Identifier and be sent even when nothing was unsubscribed.",
    "MQTT-3.10.4-6": "An UNSUBSCRIBE with several Topic Filters is processed like separate UNSUBSCRIBEs answered by one UNSUBACK.",
    "MQTT-3.11.2-1": "The Server must leave out the UNSUBACK Reason String if it would make UNSUBACK exceed the Client's Maximum Packet Size.",
    "MQTT-3.11.2-2": "The Server must leave out UNSUBACK User Properties if they would make UNSUBACK exceed the Client's Maximum Packet Size.",
    "MQTT-3.11.3-1": "UNSUBACK Reason Codes must be in the same order as the Topic Filters of the UNSUBSCRIBE.",
    "MQTT-3.11.3-2": "Each UNSUBACK Reason Code must be one of the defined Unsubscribe Reason Codes.",
    "MQTT-3.12.4-1": "The Server must answer each PINGREQ with a PINGRESP.",
    "MQTT-3.14.0-1": "The Server must not send DISCONNECT before it has sent a CONNACK with a Reason Code below 0x80.",
    "MQTT-3.14.1-1": "Client and Server must check that DISCONNECT reserved flag bits are 0, else answer DISCONNECT 0x81 (Malformed Packet).",
    "MQTT-3.14.2-1": "The DISCONNECT Reason Code must be one of the defined DISCONNECT Reason Code values.",
    "MQTT-3.14.2-2": "The Server must not include a Session Expiry Interval in a DISCONNECT it sends.",
    "MQTT-3.14.2-3": "A sender must leave out the DISCONNECT Reason String if it would exceed the receiver's Maximum Packet Size.",
    "MQTT-3.14.2-4": "A sender must leave out DISCONNECT User Properties if they would exceed the receiver's Maximum Packet Size.",
    "MQTT-3.14.4-1": "After sending DISCONNECT, the sender must send no more packets on that Network Connection.",
    "MQTT-3.14.4-2": "After sending DISCONNECT, the sender must close the Network Connection.",
    "MQTT-3.14.4-3": "On DISCONNECT with Reason Code 0x00 the Server must discard the connection's Will Message without publishing it.",
    "MQTT-3.15.1-1": "AUTH fixed-header flags must all be 0; a receiver must treat other values as malformed and close the connection.",
    "MQTT-3.15.2-1": "The AUTH Reason Code must be one of the defined Authenticate Reason Codes.",
    "MQTT-3.15.2-2": "A sender must leave out the AUTH Reason String if it would make AUTH exceed the receiver's Maximum Packet Size.",
    "MQTT-3.15.2-3": "A sender must leave out AUTH User Properties if they would make AUTH exceed the receiver's Maximum Packet Size.",
    "MQTT-4.1.0-1": "Client and Server must not discard the Session State while the Network Connection is open.",
    "MQTT-4.1.0-2": "The Server must discard the Session State once the connection has closed and the Session Expiry Interval has passed.",
    "MQTT-4.2-1": "Client and Server must support at least one transport giving an ordered, lossless byte stream in both directions.",
    "MQTT-4.3.1-1": "A QoS 0 sender must send the PUBLISH with QoS 0 and DUP 0.",
    "MQTT-4.3.2-1": "A QoS 1 sender must assign an unused Packet Identifier to each new Application Message.",
    "MQTT-4.3.2-2": "A QoS 1 sender must send the PUBLISH with that Packet Identifier, QoS 1 and DUP 0.",
    "MQTT-4.3.2-3": "A QoS 1 sender must treat the PUBLISH as unacknowledged until the matching PUBACK arrives.",
    "MQTT-4.3.2-4": "A QoS 1 receiver that takes ownership must reply with a PUBACK carrying the PUBLISH's Packet Identifier.",
    "MQTT-4.3.2-5": "After sending PUBACK, a receiver must treat a PUBLISH with the same Packet Identifier as new, whatever its DUP flag.",
    "MQTT-4.3.3-1": "A QoS 2 sender must assign an unused Packet Identifier to each new Application Message.",
    "MQTT-4.3.3-2": "A QoS 2 sender must send the PUBLISH with that Packet Identifier, QoS 2 and DUP 0.",
    "MQTT-4.3.3-3": "A QoS 2 sender must treat the PUBLISH as unacknowledged until the matching PUBREC arrives.",
    "MQTT-4.3.3-4": "On a PUBREC with Reason Code below 0x80 a QoS 2 sender must send PUBREL with the original Packet Identifier.",
    "MQTT-4.3.3-5": "A QoS 2 sender must treat the PUBREL as unacknowledged until the matching PUBCOMP arrives.",
    "MQTT-4.3.3-6": "Once it has sent PUBREL, a QoS 2 sender must not re-send the PUBLISH.",
    "MQTT-4.3.3-7": "A QoS 2 sender must not apply message expiry to a PUBLISH it has already sent.",
    "MQTT-4.3.3-8": "A QoS 2 receiver that takes ownership must reply with a PUBREC carrying the PUBLISH's Packet Identifier.",
    "MQTT-4.3.3-9": "After sending a PUBREC of 0x80 or above, a receiver must treat a later PUBLISH with that id as a new message.",
    "MQTT-4.3.3-10": "Until PUBREL arrives, a QoS 2 receiver answers repeat PUBLISHes with the id by PUBREC and must not deliver them again.",
    "MQTT-4.3.3-11": "A QoS 2 receiver must answer PUBREL with a PUBCOMP carrying the same Packet Identifier.",
    "MQTT-4.3.3-12": "After sending PUBCOMP, a receiver must treat a later PUBLISH with that Packet Identifier as a new message.",
    "MQTT-4.3.3-13": "A QoS 2 receiver must complete the acknowledgement sequence even if it has applied message expiry.",
    "MQTT-4.4.0-1": "Reconnecting with Clean Start=0 to a present Session, both sides resend unacknowledged QoS>0 PUBLISH/PUBREL; never else.",
    "MQTT-4.4.0-2": "A PUBLISH answered by PUBACK or PUBREC with Reason Code 0x80 or above counts as acknowledged and must not be resent.",
    "MQTT-4.5.0-1": "A message the Server takes ownership of must be added to the Session State of every Client with a matching subscription.",
    "MQTT-4.5.0-2": "The Client must acknowledge every PUBLISH it receives per its QoS, even if it chooses not to process the message.",
    "MQTT-4.6.0-1": "A Client resending QoS 1/2 PUBLISH packets must resend them in their original order.",
    "MQTT-4.6.0-2": "A Client must send PUBACKs in the order the QoS 1 PUBLISH packets arrived.",
    "MQTT-4.6.0-3": "A Client must send PUBRECs in the order the QoS 2 PUBLISH packets arrived.",
    "MQTT-4.6.0-4": "A Client must send PUBRELs in the order the PUBRECs arrived.",
    "MQTT-4.6.0-5": "For an Ordered Topic the Server must forward each Client's messages (same Topic and QoS) in the order received.",
    "MQTT-4.6.0-6": "By default the Server must treat every Topic as an Ordered Topic when forwarding on Non-shared Subscriptions.",
    "MQTT-4.7.0-1": "The wildcards + and # may appear in Topic Filters but never inside a Topic Name.",
    "MQTT-4.7.1-1": "The multi-level wildcard # must stand alone or follow a '/', and must be the last character of the Topic Filter.",
    "MQTT-4.7.1-2": "The single-level wildcard + may be used at any level but must fill that whole level of the Topic Filter.",
    "MQTT-4.7.2-1": "Filters beginning with + or # must not match Topic Names that begin with '$'.",
    "MQTT-4.7.3-1": "Topic Names and Topic Filters must be at least one character long.",
    "MQTT-4.7.3-2": "Topic Names and Topic Filters must not contain the null character U+0000.",
    "MQTT-4.7.3-3": "Topic Names and Topic Filters must not take more than 65,535 bytes once UTF-8 encoded.",
    "MQTT-4.7.3-4": "In subscription matching the Server must not normalize topics or filters, nor alter or replace unrecognized characters.",
    "MQTT-4.8.2-1": "A Shared Subscription filter must begin with $share/ and contain a ShareName at least one character long.",
    "MQTT-4.8.2-2": "The ShareName must not contain '/', '+' or '#', and must be followed by '/' and then a Topic Filter.",
    "MQTT-4.8.2-3": "Delivering a Shared Subscription message, the Server must honour the QoS granted to that Client's subscription.",
    "MQTT-4.8.2-4": "If a shared QoS 2 delivery is cut off by a broken connection, the Server must complete it to that Client on reconnect.",
    "MQTT-4.8.2-5": "If that Client's Session ends before it reconnects, the Server must not send the message to another subscriber.",
    "MQTT-4.8.2-6": "If a Client rejects a shared message by PUBACK/PUBREC 0x80+, the Server must discard it and not try another subscriber.",
    "MQTT-4.9.0-1": "Client and Server must start their send quota at a non-zero value no greater than the Receive Maximum.",
    "MQTT-4.9.0-2": "Each QoS>0 PUBLISH sent lowers the send quota by one; at zero quota no further QoS>0 PUBLISH may be sent.",
    "MQTT-4.9.0-3": "With zero send quota, Client and Server must still process and answer all other packets.",
    "MQTT-4.12.0-1": "If the Server does not support the Client's Authentication Method it may send CONNACK 0x8C or 0x87 and must close.",
    "MQTT-4.12.0-2": "An AUTH the Server sends to ask for more authentication data must carry Reason Code 0x18 (Continue authentication).",
    "MQTT-4.12.0-3": "The AUTH a Client sends in reply during authentication must carry Reason Code 0x18 (Continue authentication).",
    "MQTT-4.12.0-4": "The Server may reject authentication at any step (CONNACK 0x80 or above allowed) and must close the connection.",
    "MQTT-4.12.0-5": "If CONNECT had an Authentication Method, every AUTH and a successful CONNACK must carry that same Authentication Method.",
    "MQTT-4.12.0-6": "If CONNECT had no Authentication Method, the Server must send no AUTH and no Authentication Method in CONNACK.",
    "MQTT-4.12.0-7": "If CONNECT had no Authentication Method, the Client must not send an AUTH packet.",
    "MQTT-4.12.1-1": "A Client re-authenticating (AUTH 0x19) must use the same Authentication Method it first authenticated with.",
    "MQTT-4.12.1-2": "If re-authentication fails, Client or Server must close the Network Connection (a DISCONNECT first is advised).",
    "MQTT-4.13.1-1": "When the Server detects a Malformed Packet or Protocol Error with a specified Reason Code, it must close the connection.",
    "MQTT-4.13.2-1": "Once a CONNACK or DISCONNECT Reason Code of 0x80 or above applies, the connection must close whether or not it is sent.",
    "MQTT-6.0.0-1": "Over WebSocket, MQTT packets must go in binary frames; a recipient of any other data frame must close the connection.",
    "MQTT-6.0.0-2": "Over WebSocket a receiver must not assume packets align with frames; one frame may hold several or partial packets.",
    "MQTT-6.0.0-3": "A WebSocket Client must offer the subprotocol \"mqtt\" in its opening handshake.",
    "MQTT-6.0.0-4": "A WebSocket Server must select and return the subprotocol name \"mqtt\".",
}

# Why a broker-side test cannot observe each client-only statement (5.0).
REASON_V5 = {
    "MQTT-2.2.1-3": "Binds the client's choice of packet identifiers; the server only sees the identifiers it is given.",
    "MQTT-3.1.0-1": "Binds the client's opening packet; a broker test can only send another first and check the reaction of MQTT-3.1.4-1.",
    "MQTT-3.1.2-9": "Constrains the client's CONNECT payload; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-11": "Constrains the client's CONNECT Will QoS bits; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-12": "Constrains the client's CONNECT Will QoS value; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-13": "Constrains the client's CONNECT Will Retain bit; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-16": "Constrains the client's CONNECT payload; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-17": "Constrains the client's CONNECT payload; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-18": "Constrains the client's CONNECT payload; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-19": "Constrains the client's CONNECT payload; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.2-20": "Binds the client's sending schedule; the server's side, the 1.5x Keep Alive timeout, is MQTT-3.1.2-22.",
    "MQTT-3.1.2-21": "Binds the client's keep-alive timer; the server's matching duty is MQTT-3.2.2-22.",
    "MQTT-3.1.2-30": "Binds what the client sends during enhanced authentication; the server's reaction to other packets is untagged.",
    "MQTT-3.1.3-1": "Constrains the client's CONNECT field order; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.3-3": "Constrains the client's CONNECT payload; the server's reaction to a bad CONNECT is MQTT-3.1.4-1.",
    "MQTT-3.1.3-4": "Constrains how the client encodes its ClientID; the server's reaction to bad UTF-8 is MQTT-1.5.4-1.",
    "MQTT-3.1.3-11": "Constrains how the client encodes the Will Topic; the server's reaction to bad UTF-8 is MQTT-1.5.4-1.",
    "MQTT-3.1.3-12": "Constrains how the client encodes the User Name; the server's reaction to bad UTF-8 is MQTT-1.5.4-1.",
    "MQTT-3.2.2-4": "Binds how the client reacts to CONNACK; a broker test plays the client, so no server behaviour is involved.",
    "MQTT-3.2.2-5": "Binds what the client does with its own Session State; a broker test cannot see client-side state.",
    "MQTT-3.2.2-11": "Binds the client's publishing QoS; the server's reaction (DISCONNECT 0x9B) is described without a tag.",
    "MQTT-3.2.2-14": "Binds the client's use of RETAIN; the server's reaction (Protocol Error, DISCONNECT 0x9A) is untagged.",
    "MQTT-3.2.2-15": "Binds the size of client packets; the server's reaction (DISCONNECT 0x95 Packet too large) is untagged.",
    "MQTT-3.2.2-17": "Binds the client's Topic Alias values; the server's acceptance duty is MQTT-3.3.2-12.",
    "MQTT-3.2.2-18": "Binds the client's use of Topic Aliases; the server's reaction to an unwanted alias is untagged.",
    "MQTT-3.2.2-21": "Binds the client's keep-alive timer; the server's matching duty is MQTT-3.2.2-22.",
    "MQTT-3.3.2-9": "Binds the client's Topic Alias values; the server's acceptance duty is MQTT-3.3.2-12.",
    "MQTT-3.3.2-10": "Binds the client's acceptance of incoming aliases; the server's matching duty is MQTT-3.3.2-12.",
    "MQTT-3.3.4-6": "Binds the client's PUBLISH contents; the server's reaction (Protocol Error) is described without a tag.",
    "MQTT-3.3.4-7": "Binds the client's in-flight window; the server's reaction (DISCONNECT 0x93) is described without a tag.",
    "MQTT-3.3.4-8": "Binds the client's scheduling of non-PUBLISH packets; the server's counterpart is MQTT-3.3.4-10.",
    "MQTT-3.8.3-1": "Constrains how the client encodes SUBSCRIBE filters; the server's reaction to bad UTF-8 is MQTT-1.5.4-1.",
    "MQTT-3.8.3-2": "Binds the client's SUBSCRIBE; the server's side (empty payload is a Protocol Error) carries no tag of its own.",
    "MQTT-3.10.3-1": "Constrains how the client encodes UNSUBSCRIBE filters; the server's reaction to bad UTF-8 is MQTT-1.5.4-1.",
    "MQTT-3.10.3-2": "Binds the client's UNSUBSCRIBE; the server's side (empty payload is a Protocol Error) carries no tag of its own.",
    "MQTT-4.5.0-2": "Binds the client's acknowledgements of deliveries; a broker test plays the client, so there is no server act to check.",
    "MQTT-4.6.0-1": "Binds the order of the client's retransmissions; the server's own ordering duties are MQTT-4.6.0-5 and -6.",
    "MQTT-4.6.0-2": "Binds the order of the client's PUBACKs; a broker test plays the client, so there is no server act to check.",
    "MQTT-4.6.0-3": "Binds the order of the client's PUBRECs; a broker test plays the client, so there is no server act to check.",
    "MQTT-4.6.0-4": "Binds the order of the client's PUBRELs; a broker test plays the client, so there is no server act to check.",
    "MQTT-4.7.1-1": "Constrains filters the client builds; the server's answer to an invalid filter is not tagged.",
    "MQTT-4.7.1-2": "Constrains filters the client builds; the server's answer to an invalid filter is not tagged.",
    "MQTT-4.8.2-1": "Constrains shared-subscription filters the client builds; the server's answer to a bad one is not tagged.",
    "MQTT-4.8.2-2": "Constrains shared-subscription filters the client builds; the server's answer to a bad one is not tagged.",
    "MQTT-4.12.0-3": "Binds the client's AUTH replies; a broker test plays the client, so no server behaviour is involved.",
    "MQTT-4.12.0-7": "Binds the client's use of AUTH; the server's reaction to an unexpected AUTH is untagged.",
    "MQTT-4.12.1-1": "Binds the client's re-authentication request; the server's reaction to a changed method is untagged.",
    "MQTT-6.0.0-3": "Binds the client's WebSocket handshake offer; the server's side of the negotiation is MQTT-6.0.0-4.",
}

TABLES = {
    "3.1.1": (SUMMARY_V311, REASON_V311),
    "5.0": (SUMMARY_V5, REASON_V5),
}

# Keys the script writes itself, in output order.
GENERATED_KEYS = ("id", "section", "level", "actor", "summary", "link", "status", "reason")


def toml_string(s: str) -> str:
    """A TOML basic string. JSON string escapes are a subset of TOML's."""
    return json.dumps(s, ensure_ascii=False)


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to the catalog")


def link_for(version: str, sid: str) -> str:
    printed = PRINTED[version].get(sid, f"[{sid}]")
    # Only '[', ']' and ' ' occur and need encoding; '-' and '.' stay literal. A text
    # directive treats '-' specially only at the very start or end of a term, which a tag
    # never has, so "[MQTT-1.5.4-2]" becomes "%5BMQTT-1.5.4-2%5D".
    return DOCUMENTS[version] + "#:~:text=" + quote(printed, safe="-.")


def read_tsv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows


def body_of(md: str) -> str:
    """The specification text before Appendix B (the appendix repeats every tag)."""
    m = re.search(r"^#+ *Appendix B", md, flags=re.M)
    return md[: m.start()] if m else md


def existing_entries(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    with path.open("rb") as f:
        data = tomllib.load(f)
    return {e["id"]: e for e in data.get("statement", [])}


def build(version: str, spec_dir: Path, out_path: Path, errors: list[str]) -> str:
    rows = read_tsv(spec_dir / f"statements-v{version}.tsv")
    md = (spec_dir / f"mqtt-v{version}.md").read_text(encoding="utf-8")
    body = body_of(md)
    summaries, reasons = TABLES[version]
    old = existing_entries(out_path)

    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        errors.append(f"{version}: duplicate ids in the TSV")
    for sid in sorted(set(ids) - summaries.keys()):
        errors.append(f"{version}: {sid} has no summary")
    for sid in sorted(summaries.keys() - set(ids)):
        errors.append(f"{version}: summary for unknown id {sid}")
    client_ids = {r["id"] for r in rows if r["actor"] == "client"}
    for sid in sorted(client_ids - reasons.keys()):
        errors.append(f"{version}: client statement {sid} has no reason")
    for sid in sorted(reasons.keys() - client_ids):
        errors.append(f"{version}: reason given for non-client statement {sid}")

    id_list = HERE / f"statement-ids-v{version}.txt"
    if id_list.exists():
        listed = id_list.read_text(encoding="utf-8").split()
        if listed != ids:
            errors.append(f"{version}: {id_list.name} differs from the TSV ids")

    out = [
        f"# MQTT {version} numbered normative statements, one [[statement]] per tag, in document order.",
        "# Generated by spec/build_catalog.py from the OASIS statement table; edit summaries and",
        "# client-only reasons there. Statuses \"scenario\" and \"not-testable\" (with their reason and",
        "# any extra keys) may be edited here: the script keeps them when it regenerates this file.",
        "",
        "[catalog]",
        f"version = {toml_string(version)}",
        f"document = {toml_string(DOCUMENTS[version])}",
        f"statements = {len(rows)}",
    ]
    for r in rows:
        sid, actor = r["id"], r["actor"]
        summary = summaries.get(sid, "")
        if not summary.strip() or "\n" in summary:
            errors.append(f"{version}: {sid} summary is empty or not one line")
        if len(summary) > SUMMARY_HARD_LIMIT:
            errors.append(f"{version}: {sid} summary is {len(summary)} characters (> {SUMMARY_HARD_LIMIT})")
        elif len(summary) > SUMMARY_SOFT_LIMIT:
            print(f"note: {version} {sid} summary is {len(summary)} characters", file=sys.stderr)

        link = link_for(version, sid)
        printed = unquote(link.split("#:~:text=", 1)[1])
        if printed not in body:
            errors.append(f"{version}: {sid} link text {printed!r} is not in the document body")

        entry: dict = {
            "id": sid,
            "section": r["section"],
            "level": r["level"],
            "actor": actor,
            "summary": summary,
            "link": link,
        }
        prev = old.get(sid, {})
        if actor == "client":
            entry["status"] = "client-only"
            entry["reason"] = reasons.get(sid, "")
        elif prev.get("status") in ("scenario", "not-testable"):
            entry["status"] = prev["status"]
            if "reason" in prev:
                entry["reason"] = prev["reason"]
        else:
            entry["status"] = "pending"
        extras = {k: v for k, v in prev.items() if k not in GENERATED_KEYS}
        if actor == "client" and prev.get("status") not in (None, "client-only"):
            errors.append(f"{version}: {sid} is a client statement but the catalog says {prev['status']}")

        out.append("")
        out.append("[[statement]]")
        for k in GENERATED_KEYS:
            if k in entry:
                out.append(f"{k} = {toml_value(entry[k])}")
        for k, v in extras.items():
            out.append(f"{k} = {toml_value(v)}")
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec_dir", nargs="?", default=str(REPO.parent / "shared" / "spec"),
                    help="directory with statements-v*.tsv and mqtt-v*.md (default: ../shared/spec)")
    ap.add_argument("--out-dir", default=str(HERE), help="where to write the catalogs (default: spec/)")
    ap.add_argument("--check", action="store_true", help="compare with the files on disk, write nothing")
    args = ap.parse_args()

    spec_dir, out_dir = Path(args.spec_dir), Path(args.out_dir)
    errors: list[str] = []
    outputs = {}
    for version in ("3.1.1", "5.0"):
        path = out_dir / f"catalog-v{version}.toml"
        outputs[path] = build(version, spec_dir, path, errors)
        tomllib.loads(outputs[path])  # the output must parse

    if errors:
        for e in errors:
            print("error:", e, file=sys.stderr)
        return 1
    stale = 0
    for path, text in outputs.items():
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                print(f"{path} is out of date", file=sys.stderr)
                stale += 1
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
