#!/usr/bin/env python3
"""Interoperability driver for Python paho-mqtt 2.x and the mosquitto command-line clients.

Follows the driver contract of interop/README.md:

    driver.py suite --client NAME --host H --port P [--ws-port W]
    driver.py sub   --client NAME --host H --port P --filter F --count N --timeout S [--qos Q] [--id ID]
    driver.py pub   --client NAME --host H --port P --topic T --qos Q --payload-hex X [--count N] [--props]

Client names: paho-python-v3.1, paho-python-v3.1.1, paho-python-v5 (paho-mqtt, callback API
version 2), mosquitto-v3.1.1, mosquitto-v5 (mosquitto_pub / mosquitto_sub driven as
subprocesses). Results are JSON lines on standard output; progress goes to standard error.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mosquitto_cli  # noqa: E402
import paho_suite  # noqa: E402

CLIENTS = sorted(list(paho_suite.VERSIONS) + list(mosquitto_cli.VERSIONS))


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = p.add_subparsers(dest="mode", required=True)

    def common(sp):
        sp.add_argument("--client", required=True, choices=CLIENTS)
        sp.add_argument("--host", default="127.0.0.1")
        sp.add_argument("--port", type=int, required=True)
        sp.add_argument("--ws-port", type=int)

    common(modes.add_parser("suite"))
    s = modes.add_parser("sub")
    common(s)
    s.add_argument("--filter", required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--timeout", type=float, required=True)
    s.add_argument("--qos", type=int, default=2, choices=(0, 1, 2))
    s.add_argument("--id")
    u = modes.add_parser("pub")
    common(u)
    u.add_argument("--topic", required=True)
    u.add_argument("--qos", type=int, required=True, choices=(0, 1, 2))
    u.add_argument("--payload-hex", required=True)
    u.add_argument("--count", type=int, default=1)
    u.add_argument("--props", action="store_true")
    return p.parse_args(argv)


def main(argv) -> int:
    args = parse(argv)
    module = paho_suite if args.client in paho_suite.VERSIONS else mosquitto_cli
    if args.mode == "suite":
        if module is paho_suite:
            paho_suite.PahoSuite(args.client, args.host, args.port).run()
        else:
            mosquitto_cli.MosquittoSuite(args.client, args.host, args.port).run()
        return 0
    if args.mode == "sub":
        return module.sub(args)
    return module.pub(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
