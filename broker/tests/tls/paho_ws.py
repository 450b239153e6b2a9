"""Python paho-mqtt over WebSocket or WebSocket over TLS, against a broker the Rust test runs.

    paho_ws.py HOST PORT PATH [CAFILE]

Connects with MQTT 5.0 (transport "websockets", subprotocol mqtt), subscribes to a topic,
publishes a QoS 1 message to it, waits for it to come back, disconnects, and prints "ok".
With CAFILE the connection is wss:// and the broker's certificate is verified against it.
Every wait is bounded; any failure exits non-zero with the reason on standard error.
"""

import sys
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

WAIT = 10


def main(host, port, path, cafile=None):
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id="paho-ws" + ("s" if cafile else ""),
        protocol=mqtt.MQTTv5,
        transport="websockets",
    )
    client.ws_set_options(path=path)
    if cafile:
        client.tls_set(ca_certs=cafile)
    connected, subscribed, received = threading.Event(), threading.Event(), threading.Event()
    got = []

    def on_connect(c, userdata, flags, reason, properties):
        if reason.is_failure:
            sys.exit(f"CONNACK {reason}")
        connected.set()

    client.on_connect = on_connect
    client.on_subscribe = lambda c, u, mid, reasons, p: subscribed.set()

    def on_message(c, userdata, message):
        got.append(message.payload)
        received.set()

    client.on_message = on_message
    client.connect(host, int(port), keepalive=30)
    client.loop_start()
    try:
        if not connected.wait(WAIT):
            sys.exit("no CONNACK in time")
        client.subscribe("tern/ws", qos=1)
        if not subscribed.wait(WAIT):
            sys.exit("no SUBACK in time")
        client.publish("tern/ws", b"over websocket", qos=1).wait_for_publish(WAIT)
        if not received.wait(WAIT):
            sys.exit("the message did not come back in time")
        if got != [b"over websocket"]:
            sys.exit(f"received {got!r}")
        client.disconnect()
    finally:
        client.loop_stop()
    print("ok")


if __name__ == "__main__":
    main(*sys.argv[1:])
