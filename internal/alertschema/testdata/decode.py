"""Decode framed alerts with Rubin's own lsst-alert-packet and check them.

Usage: decode.py MAJOR MINOR FILE, FILE holding Confluent-framed messages,
each prefixed by its length (4 bytes, big-endian). Prints a JSON summary;
an assertion error (exit 1) says what failed.
"""
import io
import json
import struct
import sys

from astropy.io import fits
from lsst.alert.packet import Schema
from lsst.alert.packet.schema import get_schema_path

major, minor, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
schema = Schema.from_file(f"{get_schema_path(major, minor)}/lsst.v{major}_{minor}.alert.avsc")
want_id = schema.get_schema_id()
required = [f["name"] for f in schema.definition["fields"]
            if not (isinstance(f["type"], list) and "null" in f["type"])]
data = open(path, "rb").read()
off = n = cutouts = 0
sizes = []
while off < len(data):
    (length,) = struct.unpack(">I", data[off:off + 4])
    off += 4
    msg = data[off:off + length]
    off += length
    sizes.append(len(msg))
    assert msg[0] == 0, f"alert {n}: magic byte {msg[0]}"
    (sid,) = struct.unpack(">I", msg[1:5])
    assert sid == want_id, f"alert {n}: schema id {sid}, the package says {want_id}"
    alert = schema.deserialize(msg[5:])
    assert schema.validate(alert), f"alert {n} does not validate"
    for name in required:
        assert alert[name] is not None, f"alert {n}: required field {name} is None"
    for name in ("cutoutDifference", "cutoutScience", "cutoutTemplate"):
        if alert.get(name) is not None:
            with fits.open(io.BytesIO(alert[name])) as hdul:
                assert hdul[0].data is not None and hdul[0].data.size > 0, f"alert {n}: {name} has no pixels"
            cutouts += 1
    n += 1
print(json.dumps({"alerts": n, "cutouts": cutouts, "schema_id": want_id,
                  "mean_bytes": sum(sizes) / max(n, 1), "min_bytes": min(sizes), "max_bytes": max(sizes)}))
