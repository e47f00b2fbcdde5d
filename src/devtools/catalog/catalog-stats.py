#!/usr/bin/env python3
"""Prints the figures of the catalog files (entry counts, content sizes, closures) for the README.

Usage: catalog-stats.py [CATALOG_DIR]   (default public/catalog)
"""
import gzip
import json
import os
import sys

d = sys.argv[1] if len(sys.argv) > 1 else "public/catalog"
for f in sorted(os.listdir(d)):
    if not f.endswith(".json.gz"):
        continue
    doc = json.load(gzip.open(os.path.join(d, f)))
    size = os.path.getsize(os.path.join(d, f))
    if doc["format"] == "layerlab.base/1":
        rows = doc["entries"]
        kinds = {}
        for r in rows:
            kinds[r[1]] = kinds.get(r[1], 0) + 1
        print(f"{f} ({size} bytes): {len(rows)} entries {kinds}, {sum(r[5] for r in rows)} bytes of content,"
              f" {len(doc['texts'])} real texts")
    else:
        pk = doc["packages"]
        files = sum(len(p["files"]) for p in pk.values())
        extra = sum(len(p.get("scriptFiles", [])) + len(p.get("dpkgInfo", [])) for p in pk.values())
        print(f"{f} ({size} bytes): {len(pk)} packages, {files} .deb members, {extra} files written by dpkg"
              f" and maintainer scripts, {sum(p['debSize'] for p in pk.values())} bytes of .debs")
        lists = [(r[0].split("/")[-1], r[5]) for r in doc["update"]["added"] if r[1] == "f" and r[5] > 0]
        print(f"  apt-get update writes {sum(s for _, s in lists)} bytes: {lists}")
        print(f"  caches without docker-clean: {doc['cacheSizes']}")
        for t, plan in doc["plans"].items():
            rec = [pk[n] for n, _ in plan["recommends"]]
            nor = [pk[n] for n, _ in plan["noRecommends"]]
            print(f"  {t}: {len(rec)} packages, {sum(p['debSize'] for p in rec)} B download,"
                  f" {sum(p['installedSize'] for p in rec)} KiB installed; --no-install-recommends: {len(nor)},"
                  f" {sum(p['debSize'] for p in nor)} B, {sum(p['installedSize'] for p in nor)} KiB")
