#!/usr/bin/env python3
"""Check every json_pack() call of the C sources (make lint).

jansson reads the arguments of json_pack() by its format string: `i` and `b`
take an int, `I` a json_int_t (64 bits), `f` a double, `s` a string, `o`/`O`
a json_t pointer. A 64-bit argument under `i` is undefined behaviour and
truncates large values, so an argument cast to json_int_t must be under `I`,
and the number of arguments must match the format.
"""
import re
import subprocess
import sys

CALL = re.compile(r'\bjson_pack\s*\(')
STRING = re.compile(r'\s*"((?:[^"\\]|\\.)*)"')


def call_text(src, open_paren):
    """The text between the call's parentheses."""
    depth, i, in_str = 0, open_paren, False
    while i < len(src):
        c = src[i]
        if in_str:
            if c == '\\':
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == '(':
            depth += 1
        elif c == ')':
            depth -= 1
            if depth == 0:
                return src[open_paren + 1:i]
        i += 1
    raise ValueError("unbalanced parentheses")


def split_args(text):
    args, depth, cur, in_str, esc = [], 0, "", False, False
    for c in text:
        if in_str:
            cur += c
            if esc:
                esc = False
            elif c == '\\':
                esc = True
            elif c == '"':
                in_str = False
            continue
        if c == '"':
            in_str = True
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ',' and depth == 0:
            args.append(cur.strip())
            cur = ""
            continue
        cur += c
    args.append(cur.strip())
    return args


def format_items(fmt):
    """(conversion, number of arguments it takes) for each item."""
    items, i = [], 0
    while i < len(fmt):
        c = fmt[i]
        nxt = fmt[i + 1] if i + 1 < len(fmt) else ""
        if c in "{}[]:, \t\n" or c == 'n':
            i += 1
        elif c == 's':
            items.append(('s', 2 if nxt in "#%" else 1))
            i += 2 if nxt in "#%?*" else 1
        elif c in "oO":
            items.append((c, 1))
            i += 2 if nxt in "?*" else 1
        elif c in "biIfF":
            items.append((c, 1))
            i += 1
        else:
            raise ValueError(f"unknown conversion '{c}'")
    return items


def check(path):
    src = open(path, encoding="utf-8").read()
    bad = []
    for m in CALL.finditer(src):
        line = src.count('\n', 0, m.start()) + 1
        text = call_text(src, m.end() - 1)
        fmt, pos = "", 0
        while True:
            s = STRING.match(text, pos)
            if not s:
                break
            fmt += s.group(1)
            pos = s.end()
        if not fmt:
            continue  # a format that is not a literal: not checked
        args = split_args(text[pos:])[1:] if text[pos:].strip() else []
        try:
            items = format_items(fmt)
        except ValueError as e:
            bad.append(f"{path}:{line}: json_pack: {e}")
            continue
        k = 0
        for conv, n in items:
            arg = args[k] if k < len(args) else ""
            if conv in "ib" and "json_int_t" in arg:
                bad.append(f"{path}:{line}: json_pack: '{conv}' takes an "
                           f"int, the argument is {' '.join(arg.split())}; "
                           "use 'I'")
            k += n
        if k != len(args):
            bad.append(f"{path}:{line}: json_pack: the format takes {k} "
                       f"arguments, the call has {len(args)}")
    return bad


def main():
    files = subprocess.check_output(
        ["git", "ls-files", "src/*.c", "tools/*.c", "tests/*.c"],
        text=True).split()
    bad = [b for f in files for b in check(f)]
    for b in bad:
        print("lint:", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
