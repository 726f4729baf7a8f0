"""Resolve a SenML pack (RFC 8428, section 4.6) independently of edgewise.

Usage: senml_resolve.py cbor|json FILE

Reads the pack with cbor2 (senml+cbor, integer labels per section 6) or the standard json
module (senml+json), applies the base fields the way section 4 describes them, and prints
the resolved records as one JSON array: {"n": name, "u": unit (absent when none),
"v" | "vs" | "vb": value, "t": absolute time in seconds}.
"""

import json
import sys

import cbor2

# RFC 8428, Table 4.
CBOR_LABELS = {
    -1: "bver", -2: "bn", -3: "bt", -4: "bu", -5: "bv", -6: "bs",
    0: "n", 1: "u", 2: "v", 3: "vs", 4: "vb", 5: "s", 6: "t", 7: "ut", 8: "vd",
}


def load(kind, data):
    if kind == "cbor":
        pack = cbor2.loads(data)
        if not isinstance(pack, list):
            raise SystemExit(f"a SenML pack is an array, got {type(pack).__name__}")
        return [{CBOR_LABELS.get(k, k): v for k, v in record.items()} for record in pack]
    return json.loads(data)


def resolve(pack):
    # A base field applies to its record and every later one, until a record sets it again.
    base = {"bn": "", "bt": 0, "bu": None, "bv": None}
    resolved = []
    for record in pack:
        if record.get("bver", 10) > 10:
            raise SystemExit(f"SenML version {record['bver']} is not understood")
        for key in base:
            if key in record:
                base[key] = record[key]
        out = {"n": base["bn"] + record.get("n", "")}
        unit = record.get("u", base["bu"])
        if unit:
            out["u"] = unit
        values = [key for key in ("v", "vs", "vb", "vd") if key in record]
        if len(values) != 1:
            raise SystemExit(f"record {record} has {len(values)} values")
        if "v" in record:
            out["v"] = record["v"] if base["bv"] is None else base["bv"] + record["v"]
        else:
            out[values[0]] = record[values[0]]
        time = base["bt"] + record.get("t", 0)
        if time < 2**28:
            raise SystemExit(f"record {out['n']} has a relative time ({time})")
        out["t"] = time
        resolved.append(out)
    return resolved


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        data = f.read()
    json.dump(resolve(load(kind, data)), sys.stdout)
