"""Tern's gRPC API from an independent client: Python grpcio, with paho-mqtt on the MQTT side.

Compiles broker/proto/tern.proto with grpcio-tools (into a temporary directory), then:

1. server reflection lists tern.v1.Messages;
2. MQTT -> gRPC: a Subscribe stream receives what a paho-mqtt 5.0 client publishes, with its
   properties, and acknowledges it with Ack;
3. gRPC -> MQTT: a Publish reaches a paho-mqtt 5.0 subscriber, with its properties.

Run by broker/tests/grpc_python.rs against a real broker. Prints one line per check and
exits non-zero at the first failure.

    grpc_client.py --proto DIR --grpc HOST:PORT --mqtt HOST:PORT [--ca FILE]
"""

import argparse
import queue
import sys
import tempfile
import threading

import grpc
import paho.mqtt.client as mqtt
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from grpc_tools import protoc
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

WAIT = 10.0


def fail(why):
    print(f"FAIL: {why}", flush=True)
    sys.exit(1)


def check(condition, why):
    if not condition:
        fail(why)


def stubs(proto_dir):
    out = tempfile.mkdtemp(prefix="tern-grpc-py-")
    code = protoc.main(
        ["grpc_tools.protoc", f"-I{proto_dir}", f"--python_out={out}",
         f"--grpc_python_out={out}", "tern.proto"]
    )
    check(code == 0, f"protoc exited with {code}")
    sys.path.insert(0, out)
    import tern_pb2  # noqa: E402
    import tern_pb2_grpc  # noqa: E402

    return tern_pb2, tern_pb2_grpc


def mqtt_client(host, port, name):
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5
    )
    connected = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: connected.set()
    client.connect(host, port)
    client.loop_start()
    check(connected.wait(WAIT), f"{name}: no CONNACK")
    return client


def main():
    args = argparse.ArgumentParser()
    args.add_argument("--proto", required=True)
    args.add_argument("--grpc", required=True)
    args.add_argument("--mqtt", required=True)
    args.add_argument("--ca")
    args = args.parse_args()
    pb, pb_grpc = stubs(args.proto)
    mqtt_host, mqtt_port = args.mqtt.rsplit(":", 1)
    mqtt_port = int(mqtt_port)

    if args.ca:
        with open(args.ca, "rb") as f:
            credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
        channel = grpc.secure_channel(
            args.grpc, credentials, options=[("grpc.ssl_target_name_override", "localhost")]
        )
    else:
        channel = grpc.insecure_channel(args.grpc)
    grpc.channel_ready_future(channel).result(timeout=WAIT)
    api = pb_grpc.MessagesStub(channel)

    # 1. Reflection.
    services = ProtoReflectionDescriptorDatabase(channel).get_services()
    check("tern.v1.Messages" in services, f"reflection lists {services}")
    print("ok: reflection lists tern.v1.Messages", flush=True)

    # 2. MQTT -> gRPC stream, acknowledged.
    stream = api.Subscribe(pb.SubscribeRequest(filters=["py/in/#"], qos=1, window=4))
    first = next(stream)
    check(first.WhichOneof("kind") == "subscribed", f"first reply: {first}")
    check(list(first.subscribed.reason_codes) == [1], f"granted: {first.subscribed}")
    publisher = mqtt_client(mqtt_host, mqtt_port, "py-publisher")
    props = Properties(PacketTypes.PUBLISH)
    props.ContentType = "application/json"
    props.ResponseTopic = "py/replies"
    props.CorrelationData = b"\x07\x08"
    props.UserProperty = [("origin", "paho")]
    publisher.publish("py/in/temp", b'{"t": 21}', qos=1, properties=props).wait_for_publish(WAIT)
    reply = next(stream)
    check(reply.WhichOneof("kind") == "delivery", f"second reply: {reply}")
    d = reply.delivery
    check((d.topic, d.payload, d.qos) == ("py/in/temp", b'{"t": 21}', 1), f"delivery: {d}")
    p = d.properties
    check(p.content_type == "application/json", f"content type: {p}")
    check(p.response_topic == "py/replies", f"response topic: {p}")
    check(p.correlation_data == b"\x07\x08", f"correlation data: {p}")
    check([(u.name, u.value) for u in p.user_properties] == [("origin", "paho")], f"{p}")
    acked = api.Ack(pb.AckRequest(stream_id=first.subscribed.stream_id, ack_ids=[d.ack_id]))
    check(acked.acknowledged == 1, f"Ack: {acked}")
    stream.cancel()
    publisher.loop_stop()
    publisher.disconnect()
    print("ok: paho-mqtt -> gRPC stream, with properties, acknowledged", flush=True)

    # 3. gRPC Publish -> MQTT subscriber.
    received = queue.Queue()
    subscriber = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id="py-subscriber", protocol=mqtt.MQTTv5
    )
    subscribed = threading.Event()
    subscriber.on_connect = lambda c, u, f, rc, pr: c.subscribe("py/out/#", qos=1)
    subscriber.on_subscribe = lambda c, u, mid, codes, pr: subscribed.set()
    subscriber.on_message = lambda c, u, m: received.put(m)
    subscriber.connect(mqtt_host, mqtt_port)
    subscriber.loop_start()
    check(subscribed.wait(WAIT), "py-subscriber: no SUBACK")
    request = pb.PublishRequest(
        topic="py/out/lamp",
        payload=b"on",
        qos=1,
        properties=pb.Properties(
            payload_is_utf8=True,
            content_type="text/plain",
            response_topic="lamp/replies",
            correlation_data=b"req-1",
            user_properties=[pb.UserProperty(name="from", value="grpcio")],
        ),
    )
    answer = api.Publish(request)
    check(answer.reason_code == 0, f"Publish: {answer}")
    try:
        m = received.get(timeout=WAIT)
    except queue.Empty:
        fail("the MQTT subscriber got nothing")
    check((m.topic, m.payload, m.qos) == ("py/out/lamp", b"on", 1), f"message: {m.topic}")
    mp = m.properties
    check(getattr(mp, "ContentType", None) == "text/plain", f"content type: {mp}")
    check(getattr(mp, "ResponseTopic", None) == "lamp/replies", f"response topic: {mp}")
    check(getattr(mp, "CorrelationData", None) == b"req-1", f"correlation data: {mp}")
    check(getattr(mp, "UserProperty", None) == [("from", "grpcio")], f"user properties: {mp}")
    check(getattr(mp, "PayloadFormatIndicator", None) == 1, f"payload format: {mp}")
    subscriber.loop_stop()
    subscriber.disconnect()
    print("ok: gRPC Publish -> paho-mqtt subscriber, with properties", flush=True)


if __name__ == "__main__":
    main()
