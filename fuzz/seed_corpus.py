#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets.

Every insta snapshot of the codec (broker/tests/snapshots/*.snap, one packet of each type at
each protocol level, as a hex dump) becomes a seed of corpus/decode/, named after the snapshot
(`connect_v5_full`, ...). The structure-aware targets (roundtrip, stream, topic, session) read
their input through arbitrary::Unstructured, so any bytes will do: they get the same packet
files plus a few short pseudo-random files (fixed seed, so reruns write the same bytes).

Existing corpus files are left alone. Run from anywhere: `python3 fuzz/seed_corpus.py`.
"""

import pathlib
import random
import re

FUZZ = pathlib.Path(__file__).resolve().parent
SNAPSHOTS = FUZZ.parent / "broker" / "tests" / "snapshots"
TARGETS = ["decode", "roundtrip", "stream", "topic", "session"]
HEX_LINE = re.compile(r"^[0-9A-F]{4}  ((?:\s*[0-9A-F]{2})+)\s*$")


def packet_bytes(snap: pathlib.Path) -> bytes:
    """The bytes of the hex dump that follows the snapshot's header."""
    text = snap.read_text()
    body = text.split("---\n", 2)[2]  # after the YAML front matter
    out = bytearray()
    for line in body.splitlines():
        m = HEX_LINE.match(line)
        if m:
            out += bytes.fromhex(m.group(1))
    return bytes(out)


def main() -> None:
    seeds = {}
    for snap in sorted(SNAPSHOTS.glob("*.snap")):
        name = snap.stem.removeprefix("snapshots__")
        data = packet_bytes(snap)
        if not data:
            raise SystemExit(f"{snap}: no hex dump found")
        seeds[name] = data

    rng = random.Random(1883)
    extra = {f"random-{i:02}": bytes(rng.randrange(256) for _ in range(rng.randrange(8, 64)))
             for i in range(8)}

    for target in TARGETS:
        out = FUZZ / "corpus" / target
        out.mkdir(parents=True, exist_ok=True)
        files = dict(seeds)
        if target != "decode":
            files.update(extra)
        written = 0
        for name, data in files.items():
            path = out / name
            if not path.exists():
                path.write_bytes(data)
                written += 1
        print(f"corpus/{target}: {written} seeds written ({len(files)} in the set)")


if __name__ == "__main__":
    main()
