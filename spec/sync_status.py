#!/usr/bin/env python3
"""Sets `status = "scenario"` on every pending statement that a scenario in
conformance/features/ cites under a version of its specification.

Statements marked not-testable or client-only are left alone. Run it after adding scenarios;
the guard test (conformance/tests/guard.rs) says when it is needed.
"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPECS = {"catalog-v3.1.1.toml": {"v3.1", "v3.1.1"}, "catalog-v5.0.toml": {"v5"}}


def cited():
    """Statement ids per version tag, read from the tags above each scenario."""
    out = {}
    for path in sorted((ROOT / "conformance" / "features").glob("*.feature")):
        feature_tags, pending = set(), set()
        for line in path.read_text().splitlines():
            line = line.strip()
            if line.startswith("@"):
                pending |= {t[1:] for t in line.split() if t.startswith("@")}
            elif line.startswith("Feature:"):
                feature_tags, pending = pending, set()
            elif re.match(r"(Scenario|Scenario Outline|Example|Examples|Rule):", line):
                tags = feature_tags | pending
                pending = set()
                for v in tags & {"v3.1", "v3.1.1", "v5"}:
                    out.setdefault(v, set()).update(t for t in tags if t.startswith("MQTT-"))
    return out


def main():
    ids = cited()
    for name, versions in SPECS.items():
        path = ROOT / "spec" / name
        text = path.read_text()
        wanted = set().union(*(ids.get(v, set()) for v in versions))
        blocks = text.split("\n[[statement]]\n")
        changed = 0
        for i, block in enumerate(blocks[1:], 1):
            m = re.search(r'^id = "([^"]+)"', block, re.M)
            if m and m.group(1) in wanted and 'status = "pending"' in block:
                blocks[i] = block.replace('status = "pending"', 'status = "scenario"')
                changed += 1
        path.write_text("\n[[statement]]\n".join(blocks))
        print(f"{name}: {changed} statements set to scenario")


if __name__ == "__main__":
    main()
