#!/usr/bin/env python3
"""Builds the fuzzers' seed corpora from the FreeSWITCH samples.

Usage: make_seeds.py SAMPLES_DIR OUT_DIR

SAMPLES_DIR is tests/data/freeswitch (a byte-for-byte copy of
shared/samples/freeswitch; its README names each file's public source).
OUT_DIR/<harness>/ receives one file per seed, in the input layout each
harness expects (see the leading byte notes in fuzz/*_fuzzer.cpp). The
hand-written seeds of fuzz/corpus/ are copied by scripts/fuzz.sh, not here.
"""
import base64
import hashlib
import json
import os
import sys
import urllib.parse

# Inputs larger than this are cut into frame-aligned pieces, so the mutator
# works on inputs it can run thousands of times a second.
CHUNK = 4096


def write(out_dir, harness, data):
    d = os.path.join(out_dir, harness)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def esl_frames(wire):
    """Splits a wire capture into its frames (header block + Content-Length body)."""
    frames, pos = [], 0
    while pos < len(wire):
        end = wire.find(b"\n\n", pos)
        if end < 0:
            break
        head = wire[pos:end + 2]
        length = 0
        for line in head.split(b"\n"):
            if line.startswith(b"Content-Length:"):
                try:
                    length = int(line.split(b":", 1)[1].strip())
                except ValueError:
                    return frames
        frames.append((head, wire[end + 2:end + 2 + length]))
        pos = end + 2 + length
        while wire[pos:pos + 1] == b"\n":
            pos += 1
    return frames


def plain_to_json(plain):
    """text/event-plain body -> the text/event-json form (decoded values)."""
    obj = {}
    for line in plain.split(b"\n"):
        if not line:
            break
        if b": " not in line:
            continue
        name, value = line.split(b": ", 1)
        obj[name.decode("latin-1")] = urllib.parse.unquote_to_bytes(value).decode("utf-8", "replace")
    return json.dumps(obj).encode()


def complete_plain(body):
    while not body.endswith(b"\n\n"):
        body += b"\n"
    return body


def main():
    samples, out = sys.argv[1], sys.argv[2]
    for name in sorted(os.listdir(samples)):
        data = open(os.path.join(samples, name), "rb").read()
        if name.startswith("esl_wire_"):
            frames = esl_frames(data)
            group = b""
            for head, body in frames:
                frame = head + body
                write(out, "esl_frame", frame)
                if len(group) + len(frame) > CHUNK and group:
                    write(out, "esl_frame", group)
                    group = b""
                group += frame
                if b"text/event-plain" in head:
                    write(out, "esl_event", b"\x00" + body)
                    write(out, "esl_event", b"\x01" + plain_to_json(body))
            if group:
                write(out, "esl_frame", group)
        elif name.startswith("esl_hangup_plain_"):
            body = complete_plain(data)
            write(out, "esl_event", b"\x00" + body)
            write(out, "esl_event", b"\x01" + plain_to_json(body))
            frame = b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(body) + body
            write(out, "esl_frame", frame)
        elif name.startswith("json_cdr_"):
            write(out, "json_cdr", b"\x00" + data)
            write(out, "json_cdr", b"\x01" + b"cdr=" + urllib.parse.quote_from_bytes(data).encode())
            write(out, "json_cdr", b"\x00" + b"uuid=a_1&cdr=" + base64.b64encode(data))
            write(out, "form", b"cdr=" + urllib.parse.quote_from_bytes(data[:512]).encode())
            write(out, "form", base64.b64encode(data[:300]))
        elif name.startswith("xml_cdr_"):
            write(out, "xml_cdr", b"\x00" + data)
            write(out, "xml_cdr", b"\x01" + b"cdr=" + urllib.parse.quote_from_bytes(data).encode())
            write(out, "form", b"cdr=" + urllib.parse.quote_plus(data[:512].decode("latin-1")).encode())
    # The spool payload of one sample record: "CDR1" | u32 len | json | u32 len | raw | u32 len | raw_format.
    record = b'{"id":"201801-c1","call_id":"c1","account_id":"a","timestamp":63681984005}'
    raw = b'{"variables":{"uuid":"c1"}}'

    def u32(n):
        return n.to_bytes(4, "little")

    write(out, "spool_payload", b"CDR1" + u32(len(record)) + record + u32(len(raw)) + raw + u32(4) + b"json")
    write(out, "spool_payload", b"CDR1" + u32(0) + u32(0) + u32(0))


if __name__ == "__main__":
    main()
