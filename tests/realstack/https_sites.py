#!/usr/bin/env python3
"""tests/realstack/https_sites.py - the files of the HTTPS test bed's sites.

  https_sites.py html DIR PAGE_SCALE ASSET_SCALE NAME SEED   an HTML site: 3 pages sharing
      1-2 style sheets and 1-3 scripts, each page with 2-5 images of its own
      (one image in ten 60-300 kB, the rest 1-40 kB); pages 8-45 kB, style
      sheets 2-40 kB, scripts 5-120 kB: ranges typical of real sites. The
      scales are percentages applied to the pages' and the other files' sizes. The page links its subresources
      with src=/href=, which the bed's browser clients follow.
  https_sites.py api DIR SEED PATH...       an API site: one JSON document per
      path (DIR/PATH.json), 300 B - 40 kB, mostly small.

Text files are base64 of random bytes (incompressible, like compressed
assets), images random bytes. The sizes come from SEED; the bytes do not
matter (TLS encrypts them).
"""
import base64
import os
import random
import sys


def text(n):
    raw = os.urandom(max(1, n * 3 // 4))
    b = base64.b64encode(raw)
    return b"\n".join(b[i:i + 96] for i in range(0, len(b), 96)) + b"\n"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def html_site(d, page_scale, scale, name, rng):
    kb = lambda lo, hi: rng.randint(lo, hi) * 1024 * scale // 100
    page_kb = lambda lo, hi: rng.randint(lo, hi) * 1024 * page_scale // 100
    shared = []
    for i in range(rng.randint(1, 2)):
        p = "/assets/%s-%d.css" % (name, i)
        write(d + p, text(kb(2, 40)))
        shared.append(p)
    for i in range(rng.randint(1, 3)):
        p = "/assets/%s-%d.js" % (name, i)
        write(d + p, text(kb(5, 120)))
        shared.append(p)
    for page in ("index.html", "p/1.html", "p/2.html"):
        refs = list(shared)
        for i in range(rng.randint(2, 5)):
            ext = rng.choice(["jpg", "png", "webp"])
            size = kb(60, 300) if rng.randrange(10) == 0 else kb(1, 40)
            p = "/assets/%s-%s-%d.%s" % (page.replace("/", "-"), name, i, ext)
            write(d + p, os.urandom(max(1, size)))
            refs.append(p)
        head = ["<!DOCTYPE html><html><head><title>%s</title>" % name]
        for r in refs:
            if r.endswith(".css"):
                head.append('<link rel="stylesheet" href="%s">' % r)
            elif r.endswith(".js"):
                head.append('<script src="%s"></script>' % r)
            else:
                head.append('<img src="%s" alt="">' % r)
        head.append("</head><body><article>")
        body = ("\n".join(head) + "\n").encode() + text(page_kb(8, 45)) + b"</article></body></html>\n"
        write(os.path.join(d, page), body)


def api_site(d, rng, paths):
    for p in paths:
        size = rng.choice([300, 450, 600, 900, 1200, 2500, 4000, 6000, 15000, 40000])
        size = size * rng.randint(70, 130) // 100
        raw = base64.b64encode(os.urandom(size * 3 // 4))
        write(d + p + ".json", b'{"data":"' + raw + b'"}\n')


def main():
    a = sys.argv[1:]
    if len(a) == 6 and a[0] == "html":
        html_site(a[1], int(a[2]), int(a[3]), a[4], random.Random(a[4] + ":" + a[5]))
    elif len(a) >= 4 and a[0] == "api":
        api_site(a[1], random.Random(a[1].rsplit("/", 1)[-1] + ":" + a[2]), a[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
