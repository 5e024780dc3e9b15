"""Write a ZTF-style Avro alert file with fastavro, for the replay test.

usage: ztf_alerts.py OUT.avro RECORDS.bin N CODEC [interleaved]

OUT.avro is an object container file of N alerts (fastavro's writer, codec
CODEC, small blocks so that the file has several). RECORDS.bin holds each
alert's own Avro encoding (fastavro's schemaless writer), each preceded by
its length as 4 big-endian bytes: what a replay must send, byte for byte.
The schema is ZTF's shape in small: ids (candid) at the top and in the
candidate and its history, Julian dates, an object id, nullable cutouts
(about one in three null) and a map (whose keys a re-encoder could reorder).
Ten alerts share an exposure (candidate.jd), exposures 34.56 s apart; with
"interleaved" the file takes the exposures' alerts in turn (the first of
each exposure, then the second of each, ...): not in time order.
"""
import io
import json
import random
import struct
import sys

import fastavro

SCHEMA = {
    "type": "record", "name": "alert", "namespace": "ztf.replaytest",
    "fields": [
        {"name": "schemavsn", "type": "string"},
        {"name": "objectId", "type": "string"},
        {"name": "candid", "type": "long"},
        {"name": "candidate", "type": {"type": "record", "name": "candidate", "fields": [
            {"name": "jd", "type": "double"},
            {"name": "candid", "type": "long"},
            {"name": "fid", "type": "int"},
            {"name": "ra", "type": "double"},
            {"name": "dec", "type": "double"},
            {"name": "magpsf", "type": "float"},
            {"name": "sigmapsf", "type": "float"},
            {"name": "jdstarthist", "type": ["null", "double"], "default": None},
        ]}},
        {"name": "prv_candidates", "type": ["null", {"type": "array", "items": {
            "type": "record", "name": "prv_candidate", "fields": [
                {"name": "jd", "type": "double"},
                {"name": "candid", "type": ["null", "long"], "default": None},
                {"name": "magpsf", "type": ["null", "float"], "default": None},
            ]}}], "default": None},
        {"name": "flags", "type": {"type": "map", "values": "int"}},
        {"name": "cutoutScience", "type": ["null", {"type": "record", "name": "cutout", "fields": [
            {"name": "fileName", "type": "string"},
            {"name": "stampData", "type": "bytes"},
        ]}], "default": None},
        {"name": "cutoutTemplate", "type": ["null", "cutout"], "default": None},
        {"name": "cutoutDifference", "type": ["null", "cutout"], "default": None},
    ],
}


def alert(rng, i):
    jd = 2460000.5 + (i // 10) * 0.0004  # ten alerts an exposure, 35 s apart
    candid = 2400000000000000000 + 1000 * i + rng.randrange(1000)

    def cutout(kind):
        if rng.random() < 0.33:
            return None
        return {"fileName": "candid%d_%s.fits.gz" % (candid, kind), "stampData": rng.randbytes(rng.randrange(200, 2000))}

    return {
        "schemavsn": "3.3",
        "objectId": "ZTF24aa%05d" % (i % 17),
        "candid": candid,
        "candidate": {"jd": jd, "candid": candid, "fid": 1 + i % 3, "ra": rng.uniform(0, 360), "dec": rng.uniform(-30, 90),
                      "magpsf": rng.uniform(15, 21), "sigmapsf": rng.uniform(0.01, 0.3),
                      "jdstarthist": None if i % 4 == 0 else jd - rng.uniform(1, 300)},
        "prv_candidates": None if i % 5 == 0 else [
            {"jd": jd - k - 1, "candid": None if k % 2 else candid - 1000 * (k + 1), "magpsf": rng.uniform(15, 21)}
            for k in range(rng.randrange(0, 6))],
        "flags": {"rb": rng.randrange(100), "drb": rng.randrange(100), "nbad": rng.randrange(5), "ssdistnr": -999},
        "cutoutScience": cutout("science"),
        "cutoutTemplate": cutout("template"),
        "cutoutDifference": cutout("difference"),
    }


def main():
    out, records, n, codec = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    rng = random.Random(13)
    alerts = [alert(rng, i) for i in range(n)]
    if len(sys.argv) > 5 and sys.argv[5] == "interleaved":
        alerts = [alerts[i] for i in sorted(range(n), key=lambda i: (i % 10, i // 10))]
    schema = fastavro.parse_schema(SCHEMA)
    with open(out, "wb") as f:
        fastavro.writer(f, schema, alerts, codec=codec, sync_interval=8000)
    with open(records, "wb") as f:
        for a in alerts:
            b = io.BytesIO()
            fastavro.schemaless_writer(b, schema, a)
            f.write(struct.pack(">I", len(b.getvalue())))
            f.write(b.getvalue())
    json.dump({"alerts": n, "codec": codec}, sys.stdout)


main()
