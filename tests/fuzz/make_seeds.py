#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz corpora (tests/fuzz/corpus/<target>/seed-*).

Deterministic; run it after changing a seed. Inputs found by fuzzing (regressions, merged
coverage) live next to the seeds under other names and are not touched here.
"""
import base64
import hashlib
import hmac
import json
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# --- multipart: bodies with the fixed boundary "fuzz-boundary"; a first line is also read as
# Content-Type parameters by the fuzzed-boundary pass.
def part(name, value, filename=None, ctype=None, boundary="fuzz-boundary"):
    disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"--{boundary}\r\nContent-Disposition: {disp}\r\n"
    if ctype:
        head += f"Content-Type: {ctype}\r\n"
    return head + "\r\n" + value + "\r\n"


write("multipart", "field", part("config", '{"a":1}') + "--fuzz-boundary--\r\n")
write("multipart", "file", part("file", "\x00\x01model-bytes\r\n--fuzz", "m.onnx",
                                "application/octet-stream") + part("name", "x") + "--fuzz-boundary--")
write("multipart", "preamble-epilogue",
      "preamble\r\n" + part("a", "1") + "--fuzz-boundary--\r\nepilogue")
write("multipart", "filename-star", "--fuzz-boundary  \t\r\nContent-Disposition: form-data; "
      "name=f; filename*=UTF-8''%E2%82%AC.bin\r\n\r\ndata\r\n--fuzz-boundary--")
write("multipart", "folded-header", "--fuzz-boundary\r\nContent-Disposition: form-data;\r\n"
      ' name="folded"\r\n\r\nv\r\n--fuzz-boundary--')
write("multipart", "truncated", part("a", "1")[:-4])
write("multipart", "fuzzed-boundary", 'boundary="q b"\n' + part("k", "v", boundary="q b") + "--q b--")
write("multipart", "fuzzed-boundary-bare", "boundary=abc\n" + part("k", "v", "f.txt", boundary="abc")
      + "--abc--")
write("multipart", "duplicate-name", "--fuzz-boundary\r\nContent-Disposition: form-data; name=a; "
      "name=b\r\n\r\nx\r\n--fuzz-boundary--")


# --- image_probe
def png(w, h):
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", 13) + b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))


write("image_probe", "png", png(640, 480))
write("image_probe", "png-zero", png(0, 5))
write("image_probe", "png-huge", png(0x80000000, 1))
jpeg = (b"\xff\xd8\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + b"\xff\xdb" + struct.pack(">H", 4) + b"\x00\x00"
        + b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 480, 640, 1) + b"\x01\x11\x00"
        + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\x12\x34\xff\xd9")
write("image_probe", "jpeg", jpeg)
write("image_probe", "jpeg-progressive", jpeg.replace(b"\xff\xc0", b"\xff\xc2"))
write("image_probe", "jpeg-no-frame", b"\xff\xd8\xff\xfe\x00\x04hi\xff\xda\x00\x02")
write("image_probe", "jpeg-truncated", jpeg[:30])
write("image_probe", "webp-vp8", b"RIFF" + struct.pack("<I", 30) + b"WEBPVP8 " + struct.pack("<I", 10)
      + b"\x10\x02\x00\x9d\x01\x2a" + struct.pack("<HH", 320, 240) + b"\x00" * 4)
write("image_probe", "webp-vp8l", b"RIFF" + struct.pack("<I", 20) + b"WEBPVP8L" + struct.pack("<I", 5)
      + b"\x2f" + struct.pack("<I", (99) | (49 << 14)))
write("image_probe", "webp-vp8x", b"RIFF" + struct.pack("<I", 22) + b"WEBPVP8X" + struct.pack("<I", 10)
      + b"\x00" * 4 + (99).to_bytes(3, "little") + (49).to_bytes(3, "little"))
write("image_probe", "bmp", b"BM" + b"\x00" * 12 + struct.pack("<Iii", 40, 32, -16) + b"\x00" * 28)
write("image_probe", "bmp-core", b"BM" + b"\x00" * 12 + struct.pack("<IHH", 12, 8, 8))
write("image_probe", "gif", b"GIF89a\x01\x00\x01\x00")
write("image_probe", "riff-short", b"RIF")


# --- model_format: minimal ONNX protobufs and TorchScript-like zips
def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def field(num, payload):
    if isinstance(payload, int):
        return varint(num << 3) + varint(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def value_info(name, dims):
    shape = b"".join(field(1, field(1, d) if isinstance(d, int) else field(2, d)) for d in dims)
    return field(1, name) + field(2, field(1, field(1, 1) + field(2, shape)))


def tensor_ext(location):
    return field(8, "w") + field(13, field(1, "location") + field(2, location)) + field(14, 1)


graph = (field(1, field(1, "x") + field(2, "y") + field(4, "Relu")) + field(2, "g")
         + field(11, value_info("x", [1, 3, "h", "w"])) + field(12, value_info("y", [1]))
         + field(5, tensor_ext("weights.bin")))
write("model_format", "onnx", field(1, 8) + field(2, "fuzz") + field(7, graph) + field(8, field(2, 17)))
write("model_format", "onnx-bad-location",
      field(1, 8) + field(7, field(5, tensor_ext("../../etc/passwd"))))
write("model_format", "onnx-subgraph", field(1, 8) + field(7, field(1, field(5, field(
    6, field(5, tensor_ext("/abs")) + field(11, value_info("s", [2])))))))
write("model_format", "onnx-truncated", (field(1, 8) + field(7, graph))[:-5])


def zip_with(names, zip64=False):
    body, central = b"", b""
    for n in names:
        nb = n.encode()
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, 0, 0, 0, len(nb), 0) + nb
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, 0, 0, 0,
                               len(nb), 0, 0, 0, 0, 0, len(body)) + nb
        body += local
    cd_off = len(body)
    out = body + central
    if zip64:
        z64 = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(names), len(names),
                           len(central), cd_off)
        out += struct.pack("<IIQI", 0x07064B50, 0, z64, 1)
        return out + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                                 0xFFFFFFFF, 0)
    return out + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), len(central),
                             cd_off, 0)


write("model_format", "torchscript", zip_with(["m/data.pkl", "m/code/__torch__.py", "m/version"]))
write("model_format", "torchscript-zip64", zip_with(["m/data.pkl", "m/constants.pkl"], zip64=True))
write("model_format", "zip-not-torchscript", zip_with(["readme.txt"]))
write("model_format", "empty", b"")

# --- tensor_json
write("tensor_json", "image", json.dumps({"inputs": [{"name": "images", "datatype": "FP32",
      "shape": [1, 3, 1, 2], "data": [[[[0.5, 1]], [[2, 3]], [[-1e3, 1e-7]]]]}]}))
write("tensor_json", "mixed", json.dumps([
    {"name": "ids", "datatype": "INT64", "shape": [3], "data": [1, -9223372036854775808, 7]},
    {"name": "mask", "shape": [2], "data": [True, 0]},
    {"name": "half", "datatype": "FP16", "shape": [2, 2], "data": [[65504, 1e-8], [-0.0, 3.5]]},
    {"name": "bytes", "shape": [1, 4], "data": [0, 255, 1.0, 3]},
    {"name": "small", "shape": [1], "data": [-128]},
    {"name": "mid", "shape": [1], "data": [32767]},
    {"name": "i32", "shape": [0], "data": []},
    {"name": "f64", "shape": [1], "data": [1e308]}]))
write("tensor_json", "wrong-count", '[{"name": "images", "shape": [1, 3, 2, 2], "data": [1]}]')
write("tensor_json", "unknown-name", '[{"name": "nope", "shape": [1], "data": [1]}]')
write("tensor_json", "big-float-int", '[{"name": "ids", "shape": [1], "data": [1.5e300]}]')
write("tensor_json", "not-json", "[{")


# --- jwt: raw tokens; "<header>\n<claims>" signed by the target; "<user>\n<name>" issued
def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(header, claims, key=b"fuzz-secret-0123456789abcdef0123456789abcdef"):
    signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    return signing + "." + b64url(hmac.new(key, signing.encode(), hashlib.sha256).digest())


claims = {"iss": "cinfer", "aud": "cinfer-admin", "sub": "u1", "usr": "admin", "jti": "j",
          "iat": 1700000000, "exp": 1700003600, "tv": 3}
write("jwt", "valid-token", token({"alg": "HS256", "typ": "JWT"}, claims))
write("jwt", "alg-none", token({"alg": "none"}, claims).rsplit(".", 1)[0] + ".")
write("jwt", "wrong-key", token({"alg": "HS256"}, claims, b"k" * 32))
write("jwt", "signed-claims", json.dumps({"alg": "HS256"}) + "\n" + json.dumps(claims))
write("jwt", "signed-claims-bad-types", '{"alg":"HS256"}\n' + json.dumps(
    dict(claims, exp="soon", tv=1.5, aud=["cinfer-admin"])))
write("jwt", "issue", "user-1\nadmin")
write("jwt", "garbage", "a.b.c")

# --- ip_address: lines (peer, X-Forwarded-For, X-Real-IP, trusted proxies...)
write("ip_address", "v4-proxy", "10.0.0.5\n203.0.113.7, 10.0.0.9\n-\n10.0.0.0/8\n192.168.0.0/16")
write("ip_address", "v6-proxy", "[2001:db8::1]\n-\n2001:db8::abcd\n2001:db8::/32\n::1")
write("ip_address", "mapped", "::ffff:10.1.2.3\nbogus, ::ffff:1.2.3.4\n-\n::ffff:10.0.0.0/104")
write("ip_address", "zone", " fe80::1%eth0 \nfe80::/10\n1.2.3.4/33\n0.0.0.0/0")
write("ip_address", "bad", "1.2.3\n01.2.3.4\n1.2.3.4/\n[::1\n::ffff:1.2.3.4/95\nhost:80")

# --- model_config: JSON text (docs/MODEL_CONFIG.md)
write("model_config", "empty", "")
write("model_config", "detector", json.dumps({
    "input_shapes": {"images": [1, 3, 640, 640]}, "max_batch_size": 8, "instances": 2,
    "dynamic_batching": {"max_queue_delay_us": 2000}, "engine_options": {"threads": 2},
    "input": {"resize": "letterbox", "pad_value": 114, "color": "rgb", "layout": "nchw",
              "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "dtype": "FP32"},
    "output": {"task": "detection", "layout": "yolov5", "score_threshold": 0.3,
               "class_names": ["a", "b"], "max_detections": 10}}))
write("model_config", "classifier", json.dumps({"input": {"width": 224, "height": 224,
      "resize": "center_crop"}, "output": {"task": "classification", "labels": ["x"],
                                           "top_k": 1, "softmax": True}}))
write("model_config", "text", json.dumps({"output": {"task": "text_detection",
      "binary_threshold": 0.3, "box_threshold": 0.7, "unclip_ratio": 2.0, "min_size": 3}}))
write("model_config", "unknown-field", '{"input": {"widht": 1}}')
write("model_config", "wrong-types", '{"max_batch_size": "8", "input": {"std": [0, 1, 1]}}')

# --- http_request: raw request bytes
write("http_request", "get", "GET /api/v1/models?page=2&q=a%20b HTTP/1.1\r\nHost: x\r\n"
      "X-Request-ID: abc\r\n\r\n")
write("http_request", "post", "POST /api/v1/infer HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}")
write("http_request", "chunked", "POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n")
write("http_request", "smuggle", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
write("http_request", "two-lengths", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n"
      "\r\nab")
write("http_request", "http10", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
write("http_request", "bad-target", "GET /%zz?%g=1&&=&a HTTP/1.1\r\n\r\n")
write("http_request", "te-case", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  Chunked \r\n\r\n"
      "1;ext=1\r\na\r\n0\r\nTrailer: t\r\n\r\n")
write("http_request", "te-list", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n"
      "\r\n0\r\n\r\n")
write("http_request", "obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n")
write("http_request", "two-hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
write("http_request", "no-host", "GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
write("http_request", "truncated", "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc")
