#!/usr/bin/env python3
"""Embeds OpenCL sources into a C file as a name -> text table."""
import os
import sys


def c_string(text):
    out = []
    for line in text.splitlines(keepends=True):
        esc = line.replace('\\', '\\\\').replace('"', '\\"')
        esc = esc.replace('\n', '\\n').replace('\t', '\\t')
        out.append('    "' + esc + '"')
    return '\n'.join(out) if out else '    ""'


def main():
    output, inputs = sys.argv[1], sys.argv[2:]
    parts = ['/* Generated from kernels/ (*.cl) by kernels/embed.py: do not edit. */',
             '#include "engine/kernel_sources.h"', '']
    entries = []
    for i, path in enumerate(inputs):
        with open(path, encoding='utf-8') as f:
            text = f.read()
        parts.append('static const char src_%d[] =\n%s;\n' % (i, c_string(text)))
        entries.append('    {"%s", src_%d, sizeof(src_%d) - 1},'
                       % (os.path.basename(path), i, i))
    parts.append('const bz_kernel_source bz_embedded_kernels[] = {')
    parts.extend(entries)
    parts.append('    {0, 0, 0},')
    parts.append('};')
    with open(output, 'w', encoding='utf-8') as f:
        f.write('\n'.join(parts) + '\n')


if __name__ == '__main__':
    main()
