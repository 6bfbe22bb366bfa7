#!/usr/bin/env python3
"""Turns a root hints file (control/named.root) into a C file defining ctl_builtin_hints[] and
ctl_builtin_hints_len, byte for byte, so that the daemon carries the hints it falls back to.
A hex byte array rather than a string literal: no escaping rules, no length limit of the
compiler's string literals, and no terminating NUL counted in the length.

Usage: gen_builtin_hints.py INPUT OUTPUT"""
import sys


def main(src, dst):
    with open(src, "rb") as f:
        data = f.read()
    out = [
        "/* Generated from %s by gen_builtin_hints.py: do not edit. */" % src.split("/")[-1],
        "#include <stddef.h>",
        "#include <stdint.h>",
        "",
        '#include "ctl_hints.h"',
        "",
        "const uint8_t ctl_builtin_hints[] = {",
    ]
    for i in range(0, len(data), 12):
        out.append("\t" + " ".join("0x%02x," % b for b in data[i:i + 12]))
    out += [
        "};",
        "",
        "const size_t ctl_builtin_hints_len = sizeof(ctl_builtin_hints);",
        "",
    ]
    with open(dst, "w") as f:
        f.write("\n".join(out))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.stderr.write("usage: gen_builtin_hints.py INPUT OUTPUT\n")
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
